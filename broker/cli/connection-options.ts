import { readFileSync } from 'node:fs';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { type Command, Option } from 'commander';
import type { SaslCredentials } from '../../sdk/transport/sasl-client.ts';
import { TcpTransport } from '../../sdk/transport/tcp-transport.ts';
import type { Transport } from '../../sdk/transport/transport.ts';
import { UsageError } from './cli-errors.ts';

/** The environment variable holding the SASL password of a client command, so it stays out of `ps` and shell history. */
export const CLIENT_SASL_PASSWORD_ENV = 'RILL_SASL_PASSWORD';

const SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;

/** How a client command reaches a Kafka-compatible broker (Rill's or any other). */
export interface ConnectionFlags {
  bootstrap: string;
  tls?: boolean;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  saslMechanism?: string;
  saslUsername?: string;
}

/** Adds `--bootstrap` and the TLS and SASL client flags; each is also read from a `RILL_…` environment variable. */
export function addConnectionOptions(command: Command): Command {
  return command
    .addOption(new Option('--bootstrap <host:port,...>', 'the Kafka-compatible broker(s) to connect to').env('RILL_BOOTSTRAP').default('127.0.0.1:9092'))
    .addOption(new Option('--tls', 'connect over TLS (the system trust store unless --tls-ca)').env('RILL_TLS'))
    .addOption(new Option('--tls-ca <file>', 'CA certificate (PEM) the broker certificate must chain to; implies --tls').env('RILL_TLS_CA'))
    .addOption(new Option('--tls-cert <file>', 'client certificate (PEM) for mTLS; implies --tls').env('RILL_TLS_CERT'))
    .addOption(new Option('--tls-key <file>', 'client key (PEM) for mTLS').env('RILL_TLS_KEY'))
    .addOption(new Option('--sasl-mechanism <name>', 'SASL mechanism').choices(SASL_MECHANISMS).env('RILL_SASL_MECHANISM'))
    .addOption(new Option('--sasl-username <name>', `SASL user; the password is read from $${CLIENT_SASL_PASSWORD_ENV}`).env('RILL_SASL_USERNAME'));
}

function readPem(flag: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`--${flag}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

/** The bootstrap list as host:port entries; a malformed one is a usage error. */
export function bootstrapServers(text: string): string[] {
  const servers = text.split(',').map((s) => s.trim());
  for (const server of servers) {
    if (!/^[^\s:[\]]+:\d{1,5}$/.test(server) && !/^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(server)) {
      throw new UsageError(`--bootstrap takes host:port[,host:port...], got "${server}"`);
    }
  }
  return servers;
}

/** A TCP transport for the flags; bad flags are usage errors raised before any connection is made. */
export function connectionTransport(
  flags: ConnectionFlags,
  env: Readonly<Record<string, string | undefined>>,
  clientId = 'rill-cli',
  timeouts: { connectTimeoutMs?: number; requestTimeoutMs?: number } = {},
): Transport {
  const servers = bootstrapServers(flags.bootstrap);
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  let tls: TlsOptions | true | undefined;
  if (flags.tlsCa !== undefined || flags.tlsCert !== undefined) {
    tls = {
      ...(flags.tlsCa === undefined ? {} : { ca: readPem('tls-ca', flags.tlsCa) }),
      ...(flags.tlsCert === undefined ? {} : { cert: readPem('tls-cert', flags.tlsCert), key: readPem('tls-key', flags.tlsKey!) }),
    };
  } else if (flags.tls === true) {
    tls = true;
  }
  let sasl: SaslCredentials | undefined;
  if (flags.saslMechanism !== undefined || flags.saslUsername !== undefined) {
    if (flags.saslMechanism === undefined || flags.saslUsername === undefined) throw new UsageError('--sasl-mechanism and --sasl-username go together');
    const password = env[CLIENT_SASL_PASSWORD_ENV];
    if (password === undefined || password === '') throw new UsageError(`--sasl-username needs the password in the ${CLIENT_SASL_PASSWORD_ENV} environment variable`);
    sasl = { mechanism: flags.saslMechanism as SaslCredentials['mechanism'], username: flags.saslUsername, password };
  }
  return new TcpTransport({ bootstrapServers: servers, clientId, ...timeouts, ...(tls === undefined ? {} : { tls }), ...(sasl === undefined ? {} : { sasl }) });
}
