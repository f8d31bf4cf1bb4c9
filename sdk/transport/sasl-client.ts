import { ScramClient } from '../auth/scram-client.ts';
import { ScramMechanisms } from '../auth/scram.ts';
import { ApiKey } from '../protocol/mod.ts';
import { ErrorCode } from '../protocol/error-codes.ts';
import { KafkaError } from '../protocol/kafka-error.ts';
import type { TcpConnection } from './tcp-connection.ts';
import type { NegotiatedVersions } from './version-negotiation.ts';

export interface SaslCredentials {
  mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
  username: string;
  password: string;
}

const utf8 = new TextEncoder();

/**
 * Authenticates `connection` with SaslHandshake v1 and SaslAuthenticate (the framed exchange,
 * KIP-152); run again on an authenticated connection it re-authenticates (KIP-368). Resolves with
 * the session lifetime the broker granted, 0 for unbounded.
 */
export async function saslAuthenticate(connection: TcpConnection, versions: NegotiatedVersions, sasl: SaslCredentials, timeoutMs: number): Promise<number> {
  const handshake = (await connection.request(ApiKey.SaslHandshake, versions.version(ApiKey.SaslHandshake), { mechanism: sasl.mechanism }, timeoutMs, true))!;
  if (handshake.errorCode !== 0) {
    throw new KafkaError(
      handshake.errorCode === ErrorCode.UNSUPPORTED_SASL_MECHANISM ? 'UNSUPPORTED_SASL_MECHANISM' : 'ILLEGAL_SASL_STATE',
      `${connection.address}: SASL mechanism ${sasl.mechanism} refused; the broker offers ${handshake.mechanisms.join(', ') || 'none'}`,
    );
  }
  const version = versions.version(ApiKey.SaslAuthenticate);
  const send = async (authBytes: Uint8Array): Promise<{ authBytes: Uint8Array; sessionLifetimeMs: number }> => {
    const response = (await connection.request(ApiKey.SaslAuthenticate, version, { authBytes }, timeoutMs, true))!;
    if (response.errorCode !== 0) {
      throw new KafkaError(
        response.errorCode === ErrorCode.SASL_AUTHENTICATION_FAILED ? 'SASL_AUTHENTICATION_FAILED' : 'ILLEGAL_SASL_STATE',
        `${connection.address}: ${response.errorMessage ?? `SaslAuthenticate failed with error code ${response.errorCode}`}`,
      );
    }
    return { authBytes: response.authBytes, sessionLifetimeMs: Number(response.sessionLifetimeMs) };
  };
  if (sasl.mechanism === 'PLAIN') {
    return (await send(utf8.encode(`\u0000${sasl.username}\u0000${sasl.password}`))).sessionLifetimeMs;
  }
  const scram = new ScramClient(ScramMechanisms[sasl.mechanism], sasl.username, sasl.password);
  const serverFirst = await send(scram.first());
  let final: Uint8Array;
  try {
    final = await scram.final(serverFirst.authBytes);
  } catch (error) {
    throw new KafkaError('SASL_AUTHENTICATION_FAILED', `${connection.address}: ${(error as Error).message}`, { cause: error });
  }
  const serverFinal = await send(final);
  try {
    scram.verify(serverFinal.authBytes);
  } catch (error) {
    throw new KafkaError('SASL_AUTHENTICATION_FAILED', `${connection.address}: ${(error as Error).message}`, { cause: error });
  }
  return serverFinal.sessionLifetimeMs;
}

/**
 * When to re-authenticate: at 85–95% of the session lifetime (what Kafka's Java client does), so
 * clients sharing a broker spread out and none runs past its expiry.
 */
export function reauthenticationDelayMs(sessionLifetimeMs: number, random: () => number = Math.random): number {
  return Math.floor(sessionLifetimeMs * (0.85 + 0.1 * random()));
}
