import { type Command, Option } from 'commander';
import { jsonSerde, longSerde, stringSerde } from '../../sdk/serde/basic-serdes.ts';
import type { Serde } from '../../sdk/serde/serde.ts';
import { diffOutputs, diffToJson, formatOutputDiff } from '../../streams/ops/output-diff.ts';
import { addOutputOptions, type CliContext, exitCodeOf } from './cli-program.ts';
import { parseCount, parseTime } from './cli-values.ts';
import { addConnectionOptions, type ConnectionFlags } from './connection-options.ts';
import { withClient } from './client-session.ts';

/** The serdes `--key-format` and `--value-format` name; bytes compares and prints raw bytes. */
const FORMATS = {
  bytes: undefined,
  string: stringSerde as Serde<unknown>,
  json: jsonSerde<unknown>() as Serde<unknown>,
  long: longSerde as Serde<unknown>,
} as const satisfies Record<string, Serde<unknown> | undefined>;

type Format = keyof typeof FORMATS;

interface DiffFlags extends ConnectionFlags {
  fromKey?: string;
  toKey?: string;
  fromTime?: string;
  toTime?: string;
  limit?: string;
  keyFormat: Format;
  valueFormat: Format;
  json?: boolean;
}

function formatSerde<F extends 'keySerde' | 'valueSerde'>(field: F, format: Format): { [P in F]?: Serde<unknown> } {
  const serde = FORMATS[format];
  return (serde === undefined ? {} : { [field]: serde }) as { [P in F]?: Serde<unknown> };
}

/** `rill streams diff`: the summary line and the differing keys. */
export function addStreamsDiffCommand(streams: Command, context: CliContext): void {
  const formats = Object.keys(FORMATS);
  const command = streams
    .command('diff')
    .description('compare the latest value per key of two output topics (read_committed): keys added, removed, changed, unchanged')
    .argument('<topicA>', 'the first output topic (v1)')
    .argument('<topicB>', 'the second output topic (v2)')
    .option('--from-key <key>', 'keys from KEY (inclusive, compared as UTF-8 bytes)')
    .option('--to-key <key>', 'keys up to KEY (inclusive)')
    .option('--from-time <time>', 'records at or after TIME (ISO 8601 or ms since the epoch)')
    .option('--to-time <time>', 'records before TIME')
    .option('--limit <n>', 'differences listed at most (the summary counts all)', '100')
    .addOption(new Option('--key-format <format>', 'how keys are decoded to compare and print').choices(formats).default('bytes'))
    .addOption(new Option('--value-format <format>', 'how values are decoded to compare and print').choices(formats).default('bytes'));
  addConnectionOptions(addOutputOptions(command));
  command.action(
    exitCodeOf(context, async (topicA: string, topicB: string, flags: DiffFlags) => {
      const options = {
        topicA,
        topicB,
        ...(flags.fromKey === undefined ? {} : { fromKey: flags.fromKey }),
        ...(flags.toKey === undefined ? {} : { toKey: flags.toKey }),
        ...(flags.fromTime === undefined ? {} : { fromTimeMs: parseTime('from-time', flags.fromTime) }),
        ...(flags.toTime === undefined ? {} : { toTimeMs: parseTime('to-time', flags.toTime) }),
        ...(flags.limit === undefined ? {} : { limit: parseCount('limit', flags.limit) }),
        ...formatSerde('keySerde', flags.keyFormat),
        ...formatSerde('valueSerde', flags.valueFormat),
      };
      return withClient(flags, context.env, async (transport) => {
        const diff = await diffOutputs(transport, options);
        context.io.out(flags.json === true ? JSON.stringify(diffToJson(diff)) : formatOutputDiff(diff));
        return 0;
      });
    }),
  );
}
