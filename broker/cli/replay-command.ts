import { type DeclaredFilter, declaredFilter, describeFilter, type ReplayEnd, type ReplayStart, replayTopic } from '../../streams/ops/topic-replay.ts';
import { BOOTSTRAP_FLAG, parseFlags, parsePartitionOffsets, parseTime, withBroker } from './cli-values.ts';
import { UsageError } from './parse-start-options.ts';
import type { CommandIo } from './start-command.ts';

export const REPLAY_USAGE = `Usage: rill replay <source> --to <target> [options]

Copies a range of <source> into <target> exactly once (transactions with the replay's offsets):
interrupted, the same command resumes where it stopped; run again when done, it copies nothing.

Options:
  --to TOPIC              the target topic (required)
  --from-offsets LIST     start per partition: partition=offset,... (default: the log start)
  --from-time TIME        start at the first record at or after TIME (ISO 8601 or ms since the epoch)
  --until-offsets LIST    end (exclusive) per partition (default: the end when the replay starts)
  --until-time TIME       end at the first record at or after TIME
  --partitions LIST       source partitions, comma-separated (default: all)
  --key KEY               only records whose key is KEY
  --key-prefix PREFIX     only records whose key starts with PREFIX
  --header NAME=VALUE     only records with header NAME equal to VALUE
  --by-key                place records in the target by key (default: same partition number)
  --replay-id ID          names the replay's progress (default replay-<source>-to-<target>)
  --json                  print the result as JSON
  --bootstrap HOST:PORT   the broker (default 127.0.0.1:9092)`;

function filterOf(values: Record<string, string | boolean | undefined>): DeclaredFilter | undefined {
  const given = ['key', 'key-prefix', 'header'].filter((f) => values[f] !== undefined);
  if (given.length > 1) throw new UsageError(`give one filter, not ${given.map((f) => `--${f}`).join(' and ')}`);
  if (typeof values['key'] === 'string') return { keyEquals: values['key'] };
  if (typeof values['key-prefix'] === 'string') return { keyPrefix: values['key-prefix'] };
  if (typeof values['header'] === 'string') {
    const at = values['header'].indexOf('=');
    if (at <= 0) throw new UsageError(`--header must be NAME=VALUE, got "${values['header']}"`);
    return { header: values['header'].slice(0, at), equals: values['header'].slice(at + 1) };
  }
  return undefined;
}

/** `rill replay`: a progress line per committed transaction, then a summary. */
export function replayCommand(args: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    to: { type: 'string' },
    'from-offsets': { type: 'string' },
    'from-time': { type: 'string' },
    'until-offsets': { type: 'string' },
    'until-time': { type: 'string' },
    partitions: { type: 'string' },
    key: { type: 'string' },
    'key-prefix': { type: 'string' },
    header: { type: 'string' },
    'by-key': { type: 'boolean' },
    'replay-id': { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean' },
    ...BOOTSTRAP_FLAG,
  });
  if (values['help'] === true) {
    io.out(REPLAY_USAGE);
    return Promise.resolve(0);
  }
  if (positionals.length !== 1) throw new UsageError(`rill replay takes one source topic, got ${positionals.length}`);
  const source = positionals[0]!;
  const target = values['to'];
  if (typeof target !== 'string' || target === '') throw new UsageError('--to TOPIC is required');
  if (values['from-offsets'] !== undefined && values['from-time'] !== undefined) throw new UsageError('give --from-offsets or --from-time, not both');
  if (values['until-offsets'] !== undefined && values['until-time'] !== undefined) throw new UsageError('give --until-offsets or --until-time, not both');
  const from: ReplayStart | undefined =
    typeof values['from-offsets'] === 'string' ? { offsets: parsePartitionOffsets('from-offsets', values['from-offsets']) } : typeof values['from-time'] === 'string' ? { timestampMs: parseTime('from-time', values['from-time']) } : undefined;
  const until: ReplayEnd | undefined =
    typeof values['until-offsets'] === 'string' ? { offsets: parsePartitionOffsets('until-offsets', values['until-offsets']) } : typeof values['until-time'] === 'string' ? { timestampMs: parseTime('until-time', values['until-time']) } : undefined;
  let partitions: number[] | undefined;
  if (typeof values['partitions'] === 'string') {
    partitions = values['partitions'].split(',').map((p) => {
      if (!/^\d+$/.test(p.trim())) throw new UsageError(`--partitions must list partition numbers separated by commas, got "${p}"`);
      return Number(p.trim());
    });
  }
  const filter = filterOf(values);
  const replayId = typeof values['replay-id'] === 'string' ? values['replay-id'] : undefined;
  const json = values['json'] === true;
  return withBroker(io, values['bootstrap'], async (transport) => {
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
        ...(values['by-key'] === true ? { partitioning: 'key' as const } : {}),
        ...(replayId === undefined ? {} : { replayId }),
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
