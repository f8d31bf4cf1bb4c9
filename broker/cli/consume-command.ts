import { type Command, Option } from 'commander';
import { Admin } from '../../sdk/client/admin/admin.ts';
import { Consumer } from '../../sdk/client/consumer/consumer.ts';
import type { ConsumerBatch, TopicPartition } from '../../sdk/client/consumer/consumer-types.ts';
import type { Transport } from '../../sdk/transport/transport.ts';
import { CliFailure, ExitCode, UsageError } from './cli-errors.ts';
import { type CliContext, exitCodeOf } from './cli-program.ts';
import { parseDuration, parseTime } from './cli-values.ts';
import { type ClientFlags, clientCommand } from './client-command.ts';
import { topicFailure, withClient } from './client-session.ts';
import { nonNegativeInteger, positiveInteger } from './option-parsers.ts';
import { Progress, progressMode } from './progress.ts';
import { CONSUME_FORMATS, type ConsumeFormat, formatRecord, StdoutWriter } from './record-output.ts';

interface ConsumeFlags extends ClientFlags {
  from?: 'earliest' | 'latest';
  offset?: number;
  fromTime?: string;
  since?: string;
  partition?: number[];
  group?: string;
  format: ConsumeFormat;
  maxRecords?: number;
  follow?: boolean;
  isolation: 'read_committed' | 'read_uncommitted';
  keySeparator?: string;
}

type StartAt = { kind: 'earliest' } | { kind: 'latest' } | { kind: 'offset'; offset: number } | { kind: 'time'; timestampMs: number };

/** Below this many expected records a consume shows no progress. */
const PROGRESS_MIN_RECORDS = 10_000;
/** How often a group consumer commits what it printed, and checks whether it reached the end. */
const COMMIT_INTERVAL_MS = 1_000;
const END_CHECK_MS = 100;

function startAt(flags: ConsumeFlags, nowMs: number): StartAt | undefined {
  const given = [flags.from, flags.offset, flags.fromTime, flags.since].filter((v) => v !== undefined).length;
  if (given > 1) throw new UsageError('give at most one of --from, --offset, --from-time and --since');
  if (flags.from !== undefined) return { kind: flags.from };
  if (flags.offset !== undefined) return { kind: 'offset', offset: flags.offset };
  if (flags.fromTime !== undefined) return { kind: 'time', timestampMs: parseTime('from-time', flags.fromTime) };
  if (flags.since !== undefined) return { kind: 'time', timestampMs: nowMs - parseDuration('since', flags.since) };
  return undefined;
}

/** Start offsets without a group: the start flag, clamped to each partition's log start and end. */
async function startOffsets(
  admin: Admin,
  topic: string,
  partitions: readonly number[],
  start: StartAt,
  bounds: ReadonlyMap<number, { earliest: number; latest: number }>,
  isolationLevel: 0 | 1,
): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  if (start.kind === 'time') {
    const found = await admin.offsetsForTimes(
      partitions.map((partition) => ({ topic, partition })),
      start.timestampMs,
      isolationLevel,
    );
    for (const f of found) out.set(f.partition, f.offset < 0 ? bounds.get(f.partition)!.latest : f.offset);
    return out;
  }
  for (const p of partitions) {
    const { earliest, latest } = bounds.get(p)!;
    out.set(p, start.kind === 'earliest' ? earliest : start.kind === 'latest' ? latest : Math.min(Math.max(start.offset, earliest), latest));
  }
  return out;
}

function seekTo(consumer: Consumer, partitions: TopicPartition[], start: StartAt): void {
  if (start.kind === 'earliest') consumer.seekToBeginning(partitions);
  else if (start.kind === 'latest') consumer.seekToEnd(partitions);
  else if (start.kind === 'time') consumer.seekToTimestamp(partitions, start.timestampMs);
  else for (const tp of partitions) consumer.seek(tp, start.offset);
}

async function consume(context: CliContext, topic: string, flags: ConsumeFlags, transport: Transport): Promise<number> {
  const start = startAt(flags, Date.now());
  const follow = flags.follow === true;
  const format: ConsumeFormat = flags.json === true ? 'json' : flags.format;
  const isolationLevel = flags.isolation === 'read_uncommitted' ? 0 : 1;
  const admin = new Admin(transport);
  let offsets: { partition: number; earliest: number; latest: number }[];
  try {
    offsets = await admin.topicOffsets(topic, isolationLevel);
  } catch (error) {
    throw topicFailure(topic, error);
  }
  const bounds = new Map(offsets.map((o) => [o.partition, o]));
  // The end of each partition as the consume starts: without --follow, reading stops there.
  const ends = new Map(offsets.map((o) => [o.partition, o.latest]));
  const partitions = flags.partition ?? offsets.map((o) => o.partition);
  for (const p of partitions) if (!bounds.has(p)) throw new CliFailure(`topic "${topic}" has no partition ${p} (it has ${offsets.length})`);

  const group = flags.group;
  const consumer = new Consumer(transport, {
    isolationLevel: flags.isolation,
    autoOffsetReset: start?.kind === 'latest' ? 'latest' : 'earliest',
    requestTimeoutMs: 15_000,
    ...(group === undefined ? {} : { groupId: group, enableAutoCommit: false }),
  });
  const remaining = new Set<number>();
  let expected: number | undefined = flags.maxRecords;
  if (group === undefined) {
    const starts = await startOffsets(admin, topic, partitions, start ?? { kind: 'earliest' }, bounds, isolationLevel);
    consumer.assign(partitions.map((partition) => ({ topic, partition, offset: starts.get(partition)! })));
    if (!follow) {
      let total = 0;
      for (const p of partitions) {
        const left = ends.get(p)! - starts.get(p)!;
        total += Math.max(0, left);
        if (left > 0) remaining.add(p);
      }
      expected = Math.min(expected ?? Number.POSITIVE_INFINITY, total);
    }
  } else {
    const positioned = new Set<number>();
    consumer.subscribe([topic], {
      onPartitionsAssigned: (assigned) => {
        // An explicit start applies to a partition the first time this member gets it; otherwise the group's committed offsets.
        const fresh = assigned.filter((tp) => !positioned.has(tp.partition));
        for (const tp of fresh) positioned.add(tp.partition);
        if (start !== undefined && fresh.length > 0) seekTo(consumer, fresh, start);
      },
    });
  }

  const writer = new StdoutWriter();
  const showProgress = expected !== undefined && Number.isFinite(expected) && expected >= PROGRESS_MIN_RECORDS && process.stdout.isTTY !== true;
  const progress = new Progress({ label: 'consume', unit: 'records', total: expected, mode: showProgress ? progressMode(flags.json) : 'off' });
  const printed = new Map<number, number>();
  const committed = new Map<number, number>();
  let count = 0;
  let stopping = false;
  let lastCommitMs = Date.now();

  const commitPrinted = async (): Promise<void> => {
    if (group === undefined) return;
    const changes = [...printed].filter(([p, offset]) => committed.get(p) !== offset);
    if (changes.length === 0) return;
    await consumer.commit(changes.map(([partition, offset]) => ({ topic, partition, offset: offset + 1 })));
    for (const [p, offset] of changes) committed.set(p, offset);
    lastCommitMs = Date.now();
  };
  let finished: Promise<void> | undefined;
  const finish = (): Promise<void> => {
    stopping = true;
    finished ??= (async () => {
      try {
        await commitPrinted();
      } finally {
        await consumer.close();
      }
    })();
    return finished;
  };
  // Without --follow a group member is done once every partition it holds is read up to its end.
  const groupAtEnd = (): boolean => {
    const assigned = consumer.assignment();
    return (
      assigned.length > 0 &&
      assigned.every((tp) => {
        const position = consumer.position(tp);
        return position !== undefined && position >= ends.get(tp.partition)!;
      })
    );
  };
  const onSigint = (): void => void finish().catch(() => undefined);
  process.once('SIGINT', onSigint);
  const ticker = group !== undefined && !follow ? setInterval(() => groupAtEnd() && void finish().catch(() => undefined), END_CHECK_MS) : undefined;

  try {
    if (group === undefined && !follow && remaining.size === 0) {
      await finish();
    } else {
      for await (const batch of consumer.batches({ includeEmpty: true })) {
        if (stopping) break;
        handleBatch(batch);
        progress.update(count);
        await writer.flush();
        if (writer.closed || (flags.maxRecords !== undefined && count >= flags.maxRecords)) break;
        if (!follow && group === undefined) {
          const position = consumer.position({ topic, partition: batch.partition });
          if (position !== undefined && position >= ends.get(batch.partition)!) {
            consumer.pause([{ topic, partition: batch.partition }]);
            remaining.delete(batch.partition);
            if (remaining.size === 0) break;
          }
        }
        if (group !== undefined && Date.now() - lastCommitMs >= COMMIT_INTERVAL_MS) await commitPrinted();
      }
    }
    await finish();
    await writer.flush();
    progress.finish(count);
  } catch (error) {
    progress.abandon();
    throw error;
  } finally {
    clearInterval(ticker);
    process.off('SIGINT', onSigint);
    await finish().catch(() => undefined);
  }
  return ExitCode.ok;

  function handleBatch(batch: ConsumerBatch<Uint8Array, Uint8Array>): void {
    const end = ends.get(batch.partition)!;
    for (const record of batch.records) {
      if (stopping || (!follow && record.offset >= end)) return;
      writer.push(formatRecord(record, format, flags.keySeparator));
      printed.set(record.partition, record.offset);
      count++;
      if (flags.maxRecords !== undefined && count >= flags.maxRecords) return;
    }
  }
}

/** `rill consume <topic>`: prints a topic's records, with or without a consumer group. */
export function addConsumeCommand(program: Command, context: CliContext): void {
  clientCommand(program, 'consume <topic>', 'print the records of a topic (up to the end it has when the command starts, or --follow)')
    .addOption(new Option('--from <position>', 'start at the log start or end of each partition (default: earliest, or the group\'s committed offsets)').choices(['earliest', 'latest']))
    .addOption(new Option('--offset <n>', 'start at this offset (clamped to each partition\'s log start and end)').argParser(nonNegativeInteger))
    .addOption(new Option('--from-time <time>', 'start at the first record at or after an ISO 8601 time or ms since the epoch'))
    .addOption(new Option('--since <duration>', 'start at the first record at or after this long ago (PT1H, 15m, 2d)'))
    .addOption(new Option('-p, --partition <n>', 'read only this partition, repeatable (not with --group)').argParser((text: string, previous: number[] = []) => [...previous, nonNegativeInteger(text)]))
    .addOption(new Option('-g, --group <id>', 'read as a member of this consumer group, committing the offsets of the records printed'))
    .addOption(new Option('-f, --format <format>', 'json: one object per line; text: the value per line; raw: the value bytes').choices(CONSUME_FORMATS).default('text'))
    .addOption(new Option('--key-separator <sep>', 'text format: print key<SEP>value'))
    .addOption(new Option('-n, --max-records <n>', 'stop after this many records').argParser(positiveInteger))
    .addOption(new Option('--follow', 'keep reading new records until interrupted (SIGINT, exit code 0)'))
    .addOption(new Option('--isolation <level>', 'read_committed skips aborted and open transactions').choices(['read_committed', 'read_uncommitted']).default('read_committed'))
    .action(
      exitCodeOf(context, async (topic: string, flags: ConsumeFlags) => {
        if (flags.group !== undefined && flags.partition !== undefined) {
          throw new UsageError('--partition reads without a group (a group assigns partitions itself); drop --group or --partition');
        }
        startAt(flags, Date.now());
        return withClient(flags, context.env, (transport) => consume(context, topic, flags, transport));
      }),
    );
}
