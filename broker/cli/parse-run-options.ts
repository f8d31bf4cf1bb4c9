import { parseArgs } from 'node:util';
import type { ProcessingGuarantee } from '../../streams/runtime/streams-config.ts';
import { UsageError } from './parse-start-options.ts';

/** Where `rill run` finds its broker: Kafka over TCP, or a broker opened inside the process. */
export type RunTarget =
  | { kind: 'bootstrap'; bootstrapServers: string[] }
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

function nonEmpty(flag: string, value: string | boolean | undefined): string | undefined {
  if (typeof value !== 'string') return undefined;
  if (value.trim() === '') throw new UsageError(`--${flag} must not be empty`);
  return value;
}

function port(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n > 65_535) throw new UsageError(`--${flag} must be a port number from 0 to 65535, got "${value}"`);
  return n;
}

/** Parses `rill run` arguments; bad ones are UsageErrors with one readable sentence. */
export function parseRunOptions(args: readonly string[]): RunOptions {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...args],
      options: {
        bootstrap: { type: 'string' },
        embedded: { type: 'boolean' },
        'data-dir': { type: 'string' },
        'kafka-port': { type: 'string' },
        'application-id': { type: 'string' },
        'state-dir': { type: 'string' },
        guarantee: { type: 'string' },
        'http-port': { type: 'string' },
        describe: { type: 'boolean' },
        verbose: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: true,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (positionals.length !== 1) {
    throw new UsageError(positionals.length === 0 ? 'run needs a job module: rill run <job-module> [options]' : `run takes one job module, got ${positionals.length}: ${positionals.join(' ')}`);
  }
  const describe = values['describe'] === true;
  const bootstrap = nonEmpty('bootstrap', values['bootstrap']);
  const embedded = values['embedded'] === true;
  const dataDir = nonEmpty('data-dir', values['data-dir']);
  const kafkaPort = port('kafka-port', values['kafka-port'] as string | undefined);
  if (bootstrap !== undefined && embedded) throw new UsageError('give either --bootstrap or --embedded, not both');
  if (!embedded && dataDir !== undefined) throw new UsageError('--data-dir is for the embedded broker: add --embedded');
  if (!embedded && kafkaPort !== undefined) throw new UsageError('--kafka-port is for the embedded broker: add --embedded');
  let target: RunTarget | undefined;
  if (bootstrap !== undefined) {
    const servers = bootstrap.split(',').map((s) => s.trim());
    for (const server of servers) {
      if (!/^[^\s:]+:\d{1,5}$/.test(server) && !/^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(server)) throw new UsageError(`--bootstrap takes host:port[,host:port...], got "${server}"`);
    }
    target = { kind: 'bootstrap', bootstrapServers: servers };
  } else if (embedded) {
    if (dataDir === undefined) throw new UsageError('--embedded needs --data-dir DIR, where the in-process broker keeps its topics');
    target = { kind: 'embedded', dataDir, kafkaPort };
  } else if (!describe) {
    throw new UsageError('run needs a broker: --bootstrap host:port, or --embedded --data-dir DIR');
  }
  const guarantee = nonEmpty('guarantee', values['guarantee']);
  if (guarantee !== undefined && guarantee !== 'exactly_once' && guarantee !== 'at_least_once') {
    throw new UsageError(`--guarantee must be exactly_once or at_least_once, got "${guarantee}"`);
  }
  return {
    modulePath: positionals[0]!,
    describe,
    target,
    applicationId: nonEmpty('application-id', values['application-id']),
    stateDir: nonEmpty('state-dir', values['state-dir']),
    guarantee,
    httpPort: port('http-port', values['http-port'] as string | undefined),
    verbose: values['verbose'] === true,
  };
}
