import type { Command } from 'commander';
import { type DeclaredFilter, declaredFilter, describeFilter, type ReplayEnd, type ReplayStart, replayTopic } from '../../streams/ops/topic-replay.ts';
import { addOutputOptions, type CliContext, exitCodeOf } from './cli-program.ts';
import { parsePartitionOffsets, parseTime } from './cli-values.ts';
import { addConnectionOptions, type ConnectionFlags } from './connection-options.ts';
import { UsageError } from './parse-start-options.ts';
import { withClient } from './client-session.ts';

interface ReplayFlags extends ConnectionFlags {
  to: string;
  fromOffsets?: string;
  fromTime?: string;
  untilOffsets?: string;
  untilTime?: string;
  partitions?: string;
  key?: string;
  keyPrefix?: string;
  header?: string;
  byKey?: boolean;
  replayId?: string;
  json?: boolean;
}

function filterOf(flags: ReplayFlags): DeclaredFilter | undefined {
  const given = (['key', 'keyPrefix', 'header'] as const).filter((f) => flags[f] !== undefined).map((f) => (f === 'keyPrefix' ? 'key-prefix' : f));
  if (given.length > 1) throw new UsageError(`give one filter, not ${given.map((f) => `--${f}`).join(' and ')}`);
  if (flags.key !== undefined) return { keyEquals: flags.key };
  if (flags.keyPrefix !== undefined) return { keyPrefix: flags.keyPrefix };
  if (flags.header !== undefined) {
    const at = flags.header.indexOf('=');
    if (at <= 0) throw new UsageError(`--header must be NAME=VALUE, got "${flags.header}"`);
    return { header: flags.header.slice(0, at), equals: flags.header.slice(at + 1) };
  }
  return undefined;
}

/** `rill replay`: a progress line per committed transaction, then a summary. */
export function addReplayCommand(program: Command, context: CliContext): void {
  const command = program
    .command('replay')
    .summary('copy a range of a topic into another, exactly once')
    .description('copy a range of a topic into another, exactly once (interrupted, the same command resumes; run again when done, it copies nothing)')
    .argument('<source>', 'the topic to copy from')
    .requiredOption('--to <topic>', 'the target topic')
    .option('--from-offsets <list>', 'start per partition: partition=offset,... (default: the log start)')
    .option('--from-time <time>', 'start at the first record at or after TIME (ISO 8601 or ms since the epoch)')
    .option('--until-offsets <list>', 'end (exclusive) per partition (default: the end when the replay starts)')
    .option('--until-time <time>', 'end at the first record at or after TIME')
    .option('--partitions <list>', 'source partitions, comma-separated (default: all)')
    .option('--key <key>', 'only records whose key is KEY')
    .option('--key-prefix <prefix>', 'only records whose key starts with PREFIX')
    .option('--header <name=value>', 'only records with header NAME equal to VALUE')
    .option('--by-key', 'place records in the target by key (default: same partition number)')
    .option('--replay-id <id>', "names the replay's progress (default replay-<source>-to-<target>)");
  addConnectionOptions(addOutputOptions(command));
  command.action(exitCodeOf(context, (source: string, flags: ReplayFlags) => replay(context, source, flags)));
}

async function replay(context: CliContext, source: string, flags: ReplayFlags): Promise<number> {
  const { io } = context;
  const target = flags.to;
  if (target === '') throw new UsageError('--to TOPIC must not be empty');
  if (flags.fromOffsets !== undefined && flags.fromTime !== undefined) throw new UsageError('give --from-offsets or --from-time, not both');
  if (flags.untilOffsets !== undefined && flags.untilTime !== undefined) throw new UsageError('give --until-offsets or --until-time, not both');
  const from: ReplayStart | undefined =
    flags.fromOffsets !== undefined ? { offsets: parsePartitionOffsets('from-offsets', flags.fromOffsets) } : flags.fromTime !== undefined ? { timestampMs: parseTime('from-time', flags.fromTime) } : undefined;
  const until: ReplayEnd | undefined =
    flags.untilOffsets !== undefined ? { offsets: parsePartitionOffsets('until-offsets', flags.untilOffsets) } : flags.untilTime !== undefined ? { timestampMs: parseTime('until-time', flags.untilTime) } : undefined;
  const partitions = flags.partitions?.split(',').map((p) => {
    if (!/^\d+$/.test(p.trim())) throw new UsageError(`--partitions must list partition numbers separated by commas, got "${p}"`);
    return Number(p.trim());
  });
  const filter = filterOf(flags);
  const json = flags.json === true;
  return withClient(flags, context.env, async (transport) => {
    const controller = new AbortController();
    const stop = (): void => controller.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      const result = await replayTopic(transport, {
        source,
        target,
        ...(from === undefined ? {} : { from }),
        ...(until === undefined ? {} : { to: until }),
        ...(partitions === undefined ? {} : { partitions }),
        ...(filter === undefined ? {} : { filter: declaredFilter(filter) }),
        ...(flags.byKey === true ? { partitioning: 'key' as const } : {}),
        ...(flags.replayId === undefined ? {} : { replayId: flags.replayId }),
        signal: controller.signal,
        onProgress: (p) => {
          if (json || p.done) return;
          const percent = p.totalOffsets === 0 ? 100 : Math.floor((100 * p.scannedOffsets) / p.totalOffsets);
          io.out(`progress: ${p.copied} copied, ${p.filteredOut} filtered out, ${p.scannedOffsets}/${p.totalOffsets} offsets (${percent}%), ${p.ratePerSec} records/s`);
        },
      });
      if (json) io.out(JSON.stringify({ source, target, ...(filter === undefined ? {} : { filter: describeFilter(filter) }), ...result }));
      else {
        io.out(
          `${result.aborted ? 'stopped' : 'done'}: ${result.copied} records copied from ${source} to ${target}${filter === undefined ? '' : ` (${describeFilter(filter)}; ${result.filteredOut} filtered out)`}, ` +
            `partitions ${result.partitioning === 'keep' ? 'kept' : 'by key'}, replay id ${result.replayId}${result.aborted ? '; run the same command to resume' : ''}`,
        );
      }
      return result.aborted ? 1 : 0;
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  });
}
