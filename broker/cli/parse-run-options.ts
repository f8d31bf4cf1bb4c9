import type { ProcessingGuarantee } from '../../streams/runtime/streams-config.ts';
import { bootstrapServers, type ConnectionFlags } from './connection-options.ts';
import { UsageError } from './parse-start-options.ts';

/** Where `rill run` finds its broker: Kafka over TCP (with the client TLS and SASL flags), or a broker opened inside the process. */
export type RunTarget =
  | { kind: 'bootstrap'; connection: ConnectionFlags }
  /** `kafkaPort`: also serve the Kafka protocol on 127.0.0.1, so other clients reach the in-process broker. */
  | { kind: 'embedded'; dataDir: string; kafkaPort: number | undefined };

export interface RunOptions {
  modulePath: string;
  /** Only print the topology; no connection. */
  describe: boolean;
  /** Undefined with `describe`, which needs no broker. */
  target: RunTarget | undefined;
  applicationId: string | undefined;
  stateDir: string | undefined;
  guarantee: ProcessingGuarantee | undefined;
  httpPort: number | undefined;
  verbose: boolean;
}

/** `rill run`'s flags as commander parsed them. */
export interface RunFlags extends ConnectionFlags {
  embedded?: boolean;
  dataDir?: string;
  kafkaPort?: string;
  applicationId?: string;
  stateDir?: string;
  guarantee?: ProcessingGuarantee;
  httpPort?: string;
  describe?: boolean;
  verbose?: boolean;
}

function nonEmpty(flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value.trim() === '') throw new UsageError(`--${flag} must not be empty`);
  return value;
}

function port(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n > 65_535) throw new UsageError(`--${flag} must be a port number from 0 to 65535, got "${value}"`);
  return n;
}

/**
 * Checks `rill run`'s flags; bad ones are UsageErrors with one readable sentence.
 * `bootstrapGiven`: whether --bootstrap came from the command line or $RILL_BOOTSTRAP rather than its default.
 */
export function parseRunOptions(modulePath: string, flags: RunFlags, bootstrapGiven: boolean): RunOptions {
  const describe = flags.describe === true;
  const embedded = flags.embedded === true;
  const dataDir = nonEmpty('data-dir', flags.dataDir);
  const kafkaPort = port('kafka-port', flags.kafkaPort);
  if (bootstrapGiven && embedded) throw new UsageError('give either --bootstrap or --embedded, not both');
  if (!embedded && dataDir !== undefined) throw new UsageError('--data-dir is for the embedded broker: add --embedded');
  if (!embedded && kafkaPort !== undefined) throw new UsageError('--kafka-port is for the embedded broker: add --embedded');
  let target: RunTarget | undefined;
  if (bootstrapGiven) {
    bootstrapServers(flags.bootstrap);
    target = { kind: 'bootstrap', connection: flags };
  } else if (embedded) {
    if (dataDir === undefined) throw new UsageError('--embedded needs --data-dir DIR, where the in-process broker keeps its topics');
    target = { kind: 'embedded', dataDir, kafkaPort };
  } else if (!describe) {
    throw new UsageError('run needs a broker: --bootstrap host:port, or --embedded --data-dir DIR');
  }
  return {
    modulePath,
    describe,
    target,
    applicationId: nonEmpty('application-id', flags.applicationId),
    stateDir: nonEmpty('state-dir', flags.stateDir),
    guarantee: flags.guarantee,
    httpPort: port('http-port', flags.httpPort),
    verbose: flags.verbose === true,
  };
}
