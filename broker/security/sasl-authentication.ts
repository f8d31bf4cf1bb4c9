import { ApiKey, type SaslAuthenticateResponse } from '../../sdk/protocol/mod.ts';
import { ErrorCode } from '../../sdk/protocol/error-codes.ts';
import { KafkaError } from '../../sdk/protocol/kafka-error.ts';
import type { AnyApiHandler, ApiHandler } from '../kafka/api-handler.ts';
import type { ConnectionInfo, RequestHandler } from '../kafka/kafka-connection.ts';
import { AuthFailureLimiter, type AuthFailureLimits, defaultAuthFailureLimits } from './auth-failure-limiter.ts';
import { userPrincipal } from './kafka-principal.ts';
import { SaslAuthenticationError, SaslServerFactory, type SaslMechanismName, isSaslMechanismName } from './sasl-server.ts';
import { isAuthenticated, newSaslSession, type SaslSession, SaslStage, transition } from './sasl-session.ts';
import type { ScramCredentialStore } from './scram-credential-store.ts';

export interface SaslListenerOptions {
  /** The mechanisms this listener offers (Kafka's `sasl.enabled.mechanisms`). */
  mechanisms: readonly SaslMechanismName[];
  /** Kafka's `connections.max.reauth.ms`: a session's lifetime, after which the client must re-authenticate; 0 for unbounded. */
  connectionsMaxReauthMs: number;
  failureLimits?: AuthFailureLimits;
  /** Told of every failed authentication (the broker's audit log). */
  onFailure?: (failure: { host: string; mechanism: string; principal?: string; reason: string }) => void;
}

/** The requests a connection may send before it has authenticated. */
const PRE_AUTH_APIS: ReadonlySet<number> = new Set([ApiKey.ApiVersions, ApiKey.SaslHandshake, ApiKey.SaslAuthenticate]);

const EMPTY = new Uint8Array(0);

function sourceAddress(remoteAddress: string): string {
  const colon = remoteAddress.lastIndexOf(':');
  return colon < 0 ? remoteAddress : remoteAddress.slice(0, colon);
}

/**
 * SASL on one Kafka listener: the SaslHandshake and SaslAuthenticate handlers, and a gate in front
 * of the dispatcher that closes any connection sending another request before it authenticates or
 * after its session expired (what Kafka does). A failed authentication is answered with
 * SASL_AUTHENTICATION_FAILED and a message, then the connection closes; failures count against the
 * source address (AuthFailureLimiter).
 */
export class SaslAuthentication {
  private readonly sessions = new WeakMap<ConnectionInfo, SaslSession>();
  private readonly servers: SaslServerFactory;
  readonly failures: AuthFailureLimiter;
  /** Completed authentications, re-authentications (KIP-368) and failures on this listener since it started. */
  readonly stats = { authenticated: 0, reauthenticated: 0, failed: 0 };

  constructor(
    store: ScramCredentialStore,
    private readonly options: SaslListenerOptions,
    private readonly nowMs: () => number = Date.now,
  ) {
    if (options.mechanisms.length === 0) throw new Error('invariant: a SASL listener needs at least one mechanism');
    this.servers = new SaslServerFactory(store);
    this.failures = new AuthFailureLimiter(options.failureLimits ?? defaultAuthFailureLimits, nowMs);
  }

  private session(connection: ConnectionInfo): SaslSession {
    let session = this.sessions.get(connection);
    if (session === undefined) this.sessions.set(connection, (session = newSaslSession()));
    return session;
  }

  gate(next: RequestHandler): RequestHandler {
    return (frame, connection) => {
      const session = this.session(connection);
      if (session.rawTokens && (session.stage === SaslStage.Authenticate || session.stage === SaslStage.Reauthenticate)) {
        return this.rawToken(frame, connection, session);
      }
      if (frame.length < 2) return next(frame, connection);
      const apiKey = new DataView(frame.buffer, frame.byteOffset, 2).getInt16(0);
      if (PRE_AUTH_APIS.has(apiKey) || isAuthenticated(session, this.nowMs())) return next(frame, connection);
      const why = session.user === undefined ? 'before authenticating' : 'after its SASL session expired';
      return Promise.reject(new KafkaError('ILLEGAL_SASL_STATE', `${connection.remoteAddress} sent api key ${apiKey} ${why}`));
    };
  }

  handlers(): AnyApiHandler[] {
    const handshake: ApiHandler<typeof ApiKey.SaslHandshake> = {
      apiKey: ApiKey.SaslHandshake,
      minVersion: 0,
      maxVersion: 1,
      handle: async (request, context) => {
        const session = this.session(context.connection);
        const mechanisms = [...this.options.mechanisms];
        const fail = (errorCode: number): { errorCode: number; mechanisms: string[] } => {
          if (session.stage !== SaslStage.Failed) transition(session, SaslStage.Failed);
          context.connection.closeAfterResponses();
          return { errorCode, mechanisms };
        };
        const mechanism = request.mechanism;
        if (!isSaslMechanismName(mechanism) || !mechanisms.includes(mechanism)) return fail(ErrorCode.UNSUPPORTED_SASL_MECHANISM);
        if (session.stage === SaslStage.Handshake) {
          transition(session, SaslStage.Authenticate);
        } else if (session.stage === SaslStage.Authenticated && context.apiVersion >= 1 && session.mechanism === mechanism) {
          transition(session, SaslStage.Reauthenticate);
        } else {
          return fail(ErrorCode.ILLEGAL_SASL_STATE);
        }
        session.mechanism = mechanism;
        session.exchange = this.servers.create(mechanism);
        session.rawTokens = context.apiVersion === 0;
        return { errorCode: 0, mechanisms };
      },
    };
    const authenticate: ApiHandler<typeof ApiKey.SaslAuthenticate> = {
      apiKey: ApiKey.SaslAuthenticate,
      minVersion: 0,
      maxVersion: 2,
      handle: async (request, context) => {
        const session = this.session(context.connection);
        if ((session.stage !== SaslStage.Authenticate && session.stage !== SaslStage.Reauthenticate) || session.rawTokens) {
          return this.failed(session, context.connection, ErrorCode.ILLEGAL_SASL_STATE, `SaslAuthenticate is not expected in SASL state ${session.stage}`);
        }
        try {
          const step = await this.step(session, context.connection, request.authBytes);
          return { errorCode: 0, errorMessage: null, authBytes: step.challenge, sessionLifetimeMs: BigInt(step.sessionLifetimeMs) };
        } catch (error) {
          if (!(error instanceof SaslAuthenticationError)) throw error;
          return this.failed(session, context.connection, ErrorCode.SASL_AUTHENTICATION_FAILED, error.message);
        }
      },
    };
    return [handshake, authenticate];
  }

  /** Runs one client token through the session's exchange; on completion the connection is authenticated. */
  private async step(session: SaslSession, connection: ConnectionInfo, token: Uint8Array): Promise<{ challenge: Uint8Array; sessionLifetimeMs: number }> {
    const address = sourceAddress(connection.remoteAddress);
    if (!this.failures.allows(address)) {
      throw new SaslAuthenticationError(`too many failed authentications from ${address}; try again later`);
    }
    let step;
    try {
      step = await session.exchange!.step(token);
    } catch (error) {
      if (error instanceof SaslAuthenticationError) this.failures.recordFailure(address);
      throw error;
    }
    if (!step.done) return { challenge: step.challenge, sessionLifetimeMs: 0 };
    if (session.user !== undefined && session.user !== step.user) {
      this.failures.recordFailure(address);
      throw new SaslAuthenticationError(`re-authentication as "${step.user}" on a connection authenticated as "${session.user}" is not allowed`);
    }
    if (session.stage === SaslStage.Reauthenticate) this.stats.reauthenticated++;
    else this.stats.authenticated++;
    transition(session, SaslStage.Authenticated);
    session.exchange = undefined;
    session.user = step.user;
    const lifetimeMs = this.options.connectionsMaxReauthMs;
    session.expiresAtMs = lifetimeMs > 0 ? this.nowMs() + lifetimeMs : undefined;
    connection.principal = userPrincipal(step.user);
    return { challenge: step.challenge, sessionLifetimeMs: lifetimeMs };
  }

  private failed(session: SaslSession, connection: ConnectionInfo, errorCode: number, message: string): SaslAuthenticateResponse {
    if (session.stage !== SaslStage.Failed) transition(session, SaslStage.Failed);
    this.stats.failed++;
    this.options.onFailure?.({
      host: sourceAddress(connection.remoteAddress),
      mechanism: session.mechanism ?? 'none',
      ...(session.user === undefined ? {} : { principal: `User:${session.user}` }),
      reason: message,
    });
    session.exchange = undefined;
    connection.closeAfterResponses();
    return { errorCode, errorMessage: message, authBytes: EMPTY, sessionLifetimeMs: 0n };
  }

  /** A bare SASL token after SaslHandshake v0: answered with a bare token; a failure just closes (as Kafka does). */
  private async rawToken(frame: Uint8Array, connection: ConnectionInfo, session: SaslSession): Promise<readonly Uint8Array[]> {
    try {
      const step = await this.step(session, connection, frame.slice());
      return [step.challenge];
    } catch (error) {
      if (session.stage !== SaslStage.Failed) transition(session, SaslStage.Failed);
      this.stats.failed++;
      throw error;
    }
  }
}
