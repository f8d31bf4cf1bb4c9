import type { SaslListenerOptions } from './sasl-authentication.ts';
import { isSaslMechanismName, type SaslMechanismName } from './sasl-server.ts';
import type { KafkaTlsOptions } from './tls-config.ts';
import { tlsStartOptions } from './tls-start-options.ts';

/** The environment variable holding `--kafka-sasl-user`'s password, so it stays out of `ps` and shell history. */
export const SASL_PASSWORD_ENV = 'RILL_KAFKA_SASL_PASSWORD';

export interface KafkaSecurityStartOptions {
  tls?: KafkaTlsOptions;
  sasl?: SaslListenerOptions;
  /** A user given SCRAM credentials at start if it has none yet (Kafka's `kafka-storage format --add-scram`). */
  bootstrapUser?: { name: string; password: string };
}

/** Reads the Kafka security settings of `rill start` (keyed by flag name); throws with a readable message on a bad combination. */
export function kafkaSecurityStartOptions(values: Readonly<Record<string, string | boolean | undefined>>, env: Readonly<Record<string, string | undefined>>): KafkaSecurityStartOptions {
  const text = (name: string): string | undefined => {
    const v = values[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.trim() === '') throw new Error(`--${name} needs a value`);
    return v;
  };
  const options: KafkaSecurityStartOptions = {};
  const tls = tlsStartOptions('kafka', values);
  if (tls !== undefined) options.tls = tls;
  const mechanisms = text('kafka-sasl-mechanisms');
  const reauth = text('kafka-max-reauth-ms');
  if (mechanisms !== undefined) {
    const names = mechanisms.split(',').map((m) => m.trim().toUpperCase());
    for (const name of names) if (!isSaslMechanismName(name)) throw new Error(`--kafka-sasl-mechanisms: unknown mechanism "${name}" (known: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)`);
    const connectionsMaxReauthMs = reauth === undefined ? 0 : /^\d+$/.test(reauth) ? Number(reauth) : Number.NaN;
    if (!Number.isSafeInteger(connectionsMaxReauthMs)) throw new Error(`--kafka-max-reauth-ms must be a whole number of milliseconds, got "${reauth}"`);
    options.sasl = { mechanisms: [...new Set(names as SaslMechanismName[])], connectionsMaxReauthMs };
  } else if (reauth !== undefined) {
    throw new Error('--kafka-max-reauth-ms needs --kafka-sasl-mechanisms');
  }
  const user = text('kafka-sasl-user');
  if (user !== undefined) {
    const password = env[SASL_PASSWORD_ENV];
    if (password === undefined || password === '') throw new Error(`--kafka-sasl-user needs the password in the ${SASL_PASSWORD_ENV} environment variable`);
    options.bootstrapUser = { name: user, password };
  }
  return options;
}

/** Whether the listener authenticates its clients: SASL, or TLS that requires a verified client certificate. */
export function isAuthenticatedListener(options: KafkaSecurityStartOptions): boolean {
  return options.sasl !== undefined || options.tls?.clientAuth === 'required';
}
