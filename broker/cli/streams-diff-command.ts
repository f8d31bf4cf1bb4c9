import { jsonSerde, longSerde, stringSerde } from '../../sdk/serde/basic-serdes.ts';
import type { Serde } from '../../sdk/serde/serde.ts';
import { diffOutputs, diffToJson, formatOutputDiff } from '../../streams/ops/output-diff.ts';
import { BOOTSTRAP_FLAG, parseCount, parseFlags, parseTime, withBroker } from './cli-values.ts';
import { UsageError } from './parse-start-options.ts';
import type { CommandIo } from './start-command.ts';

export const STREAMS_DIFF_USAGE = `Usage: rill streams diff <topicA> <topicB> [options]

Compares the latest value per key of two output topics (v1 and v2 of a job), read_committed:
keys added (only in topicB), removed (only in topicA), changed, and how many are unchanged.

Options:
  --from-key KEY          keys from KEY (inclusive, compared as UTF-8 bytes)
  --to-key KEY            keys up to KEY (inclusive)
  --from-time TIME        records at or after TIME (ISO 8601 or ms since the epoch)
  --to-time TIME          records before TIME
  --limit N               differences listed at most (default 100; the summary counts all)
  --key-format FORMAT     how keys are decoded to compare and print: bytes (default), string, json, long
  --value-format FORMAT   how values are decoded to compare and print: bytes (default), string, json, long
  --json                  print the diff as JSON
  --bootstrap HOST:PORT   the broker (default 127.0.0.1:9092)`;

/** The serdes `--key-format` and `--value-format` name; bytes compares and prints raw bytes. */
const FORMATS: Readonly<Record<string, Serde<unknown> | undefined>> = {
  bytes: undefined,
  string: stringSerde as Serde<unknown>,
  json: jsonSerde<unknown>() as Serde<unknown>,
  long: longSerde as Serde<unknown>,
};

function formatSerde<F extends 'keySerde' | 'valueSerde'>(field: F, flag: string, format: string | undefined): { [P in F]?: Serde<unknown> } {
  if (format === undefined) return {};
  if (!(format in FORMATS)) throw new UsageError(`--${flag} must be one of ${Object.keys(FORMATS).join(', ')}, got "${format}"`);
  const serde = FORMATS[format];
  return (serde === undefined ? {} : { [field]: serde }) as { [P in F]?: Serde<unknown> };
}

/** `rill streams diff`: the summary line and the differing keys. */
export function streamsDiffCommand(args: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    'from-key': { type: 'string' },
    'to-key': { type: 'string' },
    'from-time': { type: 'string' },
    'to-time': { type: 'string' },
    limit: { type: 'string' },
    'key-format': { type: 'string' },
    'value-format': { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean' },
    ...BOOTSTRAP_FLAG,
  });
  if (values['help'] === true) {
    io.out(STREAMS_DIFF_USAGE);
    return Promise.resolve(0);
  }
  if (positionals.length !== 2) throw new UsageError(`rill streams diff takes two topics, got ${positionals.length}`);
  const [topicA, topicB] = positionals as [string, string];
  const str = (flag: string): string | undefined => (typeof values[flag] === 'string' ? (values[flag] as string) : undefined);
  const fromKey = str('from-key');
  const toKey = str('to-key');
  const fromTime = str('from-time');
  const toTime = str('to-time');
  const limit = str('limit');
  const options = {
    topicA,
    topicB,
    ...(fromKey === undefined ? {} : { fromKey }),
    ...(toKey === undefined ? {} : { toKey }),
    ...(fromTime === undefined ? {} : { fromTimeMs: parseTime('from-time', fromTime) }),
    ...(toTime === undefined ? {} : { toTimeMs: parseTime('to-time', toTime) }),
    ...(limit === undefined ? {} : { limit: parseCount('limit', limit) }),
    ...formatSerde('keySerde', 'key-format', str('key-format')),
    ...formatSerde('valueSerde', 'value-format', str('value-format')),
  };
  return withBroker(io, values['bootstrap'], async (transport) => {
    const diff = await diffOutputs(transport, options);
    io.out(values['json'] === true ? JSON.stringify(diffToJson(diff)) : formatOutputDiff(diff));
    return 0;
  });
}
