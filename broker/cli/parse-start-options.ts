import { parseArgs } from 'node:util';
import type { BrokerConfig } from '../config.ts';
import { KAFKA_SECURITY_FLAGS } from '../security/kafka-security-start-options.ts';
import { HTTP_TLS_FLAGS } from '../http/http-tls-start-options.ts';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

function port(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < 0 || n > 65_535) {
    throw new UsageError(`--${flag} must be a port number from 0 to 65535, got "${value}"`);
  }
  return n;
}

/** Parses `rill start` flags into broker config overrides; bad flags are UsageErrors with a readable message. */
export function parseStartOptions(args: readonly string[]): Partial<BrokerConfig> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        'data-dir': { type: 'string' },
        host: { type: 'string' },
        'kafka-port': { type: 'string' },
        'advertised-host': { type: 'string' },
        'http-port': { type: 'string' },
        // Read by the HTTP layer (broker/http/http-start-options.ts); accepted here so strict parsing allows them.
        'http-config': { type: 'string' },
        'allow-unauthenticated': { type: 'boolean' },
        // Read by broker/security/kafka-security-start-options.ts.
        ...KAFKA_SECURITY_FLAGS,
        // Read by broker/http/http-tls-start-options.ts.
        ...HTTP_TLS_FLAGS,
        // Read by broker/cli/authorizer-start-options.ts.
        authorizer: { type: 'boolean' },
        'super-users': { type: 'string' },
        'allow-everyone-if-no-acl-found': { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const config: Partial<BrokerConfig> = {};
  const dataDir = values['data-dir'];
  if (typeof dataDir === 'string') {
    if (dataDir.trim() === '') throw new UsageError('--data-dir must not be empty');
    config.dataDir = dataDir;
  }
  const host = values['host'];
  if (typeof host === 'string') {
    if (host.trim() === '') throw new UsageError('--host must not be empty');
    config.host = host;
  }
  const advertisedHost = values['advertised-host'];
  if (typeof advertisedHost === 'string') {
    if (advertisedHost.trim() === '') throw new UsageError('--advertised-host must not be empty');
    config.advertisedHost = advertisedHost;
  }
  const kafkaPort = port('kafka-port', values['kafka-port'] as string | undefined);
  if (kafkaPort !== undefined) config.kafkaPort = kafkaPort;
  const httpPort = port('http-port', values['http-port'] as string | undefined);
  if (httpPort !== undefined) config.httpPort = httpPort;
  return config;
}
