import type { SaslMechanismName, SaslServerExchange } from './sasl-server.ts';

/**
 * Where one connection is in SASL authentication. A connection starts in Handshake, where only
 * ApiVersions, SaslHandshake and SaslAuthenticate are served; KIP-368 re-authentication runs
 * Reauthenticate while the old session keeps serving until it expires.
 */
export const SaslStage = {
  Handshake: 'Handshake',
  Authenticate: 'Authenticate',
  Authenticated: 'Authenticated',
  Reauthenticate: 'Reauthenticate',
  Failed: 'Failed',
} as const;
export type SaslStageValue = (typeof SaslStage)[keyof typeof SaslStage];

const { Handshake, Authenticate, Authenticated, Reauthenticate, Failed } = SaslStage;

export const SASL_TRANSITIONS: Readonly<Record<SaslStageValue, readonly SaslStageValue[]>> = {
  Handshake: [Authenticate, Failed],
  Authenticate: [Authenticated, Failed],
  Authenticated: [Reauthenticate, Failed],
  Reauthenticate: [Authenticated, Failed],
  Failed: [],
};

export interface SaslSession {
  stage: SaslStageValue;
  mechanism: SaslMechanismName | undefined;
  exchange: SaslServerExchange | undefined;
  /** After a SaslHandshake v0 the client sends bare SASL tokens, not SaslAuthenticate requests. */
  rawTokens: boolean;
  /** The authenticated username, kept so re-authentication cannot switch users. */
  user: string | undefined;
  /** When the session ends (KIP-368); undefined when re-authentication is off. */
  expiresAtMs: number | undefined;
}

export function newSaslSession(): SaslSession {
  return { stage: Handshake, mechanism: undefined, exchange: undefined, rawTokens: false, user: undefined, expiresAtMs: undefined };
}

/** Whether requests other than the SASL ones may be served now. */
export function isAuthenticated(session: SaslSession, nowMs: number): boolean {
  if (session.stage !== Authenticated && session.stage !== Reauthenticate) return false;
  return session.expiresAtMs === undefined || nowMs < session.expiresAtMs;
}

export function transition(session: SaslSession, to: SaslStageValue): void {
  if (!SASL_TRANSITIONS[session.stage].includes(to)) {
    throw new Error(`invariant broken: a SASL session cannot move from ${session.stage} to ${to}`);
  }
  session.stage = to;
}
