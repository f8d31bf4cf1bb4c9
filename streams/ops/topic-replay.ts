import { Admin } from '../../sdk/client/admin/admin.ts';
import { Consumer } from '../../sdk/client/consumer/consumer.ts';
import type { ConsumerRecord } from '../../sdk/client/consumer/consumer-types.ts';
import { Producer } from '../../sdk/client/producer/producer.ts';
import type { ConsumerGroupMetadata } from '../../sdk/client/producer/producer-types.ts';
import type { Transport } from '../../sdk/transport/transport.ts';
import { StreamsError, StreamsErrorCode } from '../runtime/streams-error.ts';

/** One end of a replay range: a log end, the first offset at or after a time, or an offset per partition. */
export type ReplayStart = 'earliest' | { timestampMs: number } | { offsets: Readonly<Record<number, number>> };
export type ReplayEnd = 'latest' | { timestampMs: number } | { offsets: Readonly<Record<number, number>> };

/**
 * A filter that travels as data (over HTTP, on the command line): the key equals a string, the key
 * starts with a prefix, or a header has a value (all compared as UTF-8 text).
 */
export type DeclaredFilter = { keyEquals: string } | { keyPrefix: string } | { header: string; equals: string };

export interface ReplayProgress {
  /** Records written to the target by this run. */
  copied: number;
  /** Records in the range the filter left out, in this run. */
  filteredOut: number;
  /** Offsets of the range behind the replay (including those a previous, interrupted run copied). */
  scannedOffsets: number;
  /** Offsets in the range: end minus start over its partitions (transaction markers included, so an upper bound on records). */
  totalOffsets: number;
  /** Records copied per second in this run. */
  ratePerSec: number;
  done: boolean;
}

export interface ReplayOptions {
  source: string;
  target: string;
  /** 'earliest' by default. */
  from?: ReplayStart;
  /** Exclusive; 'latest' (the source's last stable offset when the replay starts) by default. */
  to?: ReplayEnd;
  /** Source partitions to replay; all by default. */
  partitions?: readonly number[];
  /** Keep a record when it returns true. */
  filter?: (record: ConsumerRecord<Uint8Array, Uint8Array>) => boolean;
  /**
   * 'keep' (the default): a record goes to the target partition with its source partition's
   * number, so per-partition order is kept (the target needs at least as many partitions).
   * 'key': the producer's default partitioner places it by key (murmur2, as Kafka's).
   */
  partitioning?: 'keep' | 'key';
  /**
   * Names the replay's consumer group (its progress) and its transactional id. A run with the id of
   * an interrupted one resumes where that one committed, fencing it and aborting its open
   * transaction; a finished replay run again copies nothing. Default `replay-<source>-to-<target>`.
   */
  replayId?: string;
  /** Called after every committed transaction, and once at the end with `done`. */
  onProgress?: (progress: ReplayProgress) => void;
  /** Stops the replay between transactions; what was committed stays, and a later run resumes from it. */
  signal?: AbortSignal;
}

export interface ReplayResult extends ReplayProgress {
  replayId: string;
  /** Per source partition: where the range starts and (exclusively) ends, and where this run began. */
  partitions: { partition: number; startOffset: number; endOffset: number; resumedFrom: number }[];
  partitioning: 'keep' | 'key';
  aborted: boolean;
}

const utf8 = new TextEncoder();

function sameBytes(a: Uint8Array | null | undefined, b: Uint8Array): boolean {
  if (a === null || a === undefined || a.length !== b.length) return false;
  for (let i = 0; i < b.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The predicate a declared filter stands for. */
export function declaredFilter(filter: DeclaredFilter): (record: ConsumerRecord<Uint8Array, Uint8Array>) => boolean {
  if ('keyEquals' in filter) {
    const key = utf8.encode(filter.keyEquals);
    return (r) => sameBytes(r.key, key);
  }
  if ('keyPrefix' in filter) {
    const prefix = utf8.encode(filter.keyPrefix);
    return (r) => r.key !== null && r.key.length >= prefix.length && sameBytes(r.key.subarray(0, prefix.length), prefix);
  }
  const value = utf8.encode(filter.equals);
  return (r) => r.headers.some((h) => h.key === filter.header && sameBytes(h.value, value));
}

/** A declared filter as one line: `key = "a"`, `key prefix "a"`, `header "h" = "v"`. */
export function describeFilter(filter: DeclaredFilter): string {
  if ('keyEquals' in filter) return `key = ${JSON.stringify(filter.keyEquals)}`;
  if ('keyPrefix' in filter) return `key prefix ${JSON.stringify(filter.keyPrefix)}`;
  return `header ${JSON.stringify(filter.header)} = ${JSON.stringify(filter.equals)}`;
}

function invalid(message: string): StreamsError {
  return new StreamsError(StreamsErrorCode.invalidConfig, message);
}

async function resolveRange(admin: Admin, options: ReplayOptions): Promise<Map<number, { start: number; end: number }>> {
  const logs = await admin.topicOffsets(options.source, 1);
  const chosen = options.partitions ?? logs.map((l) => l.partition);
  const bad = chosen.find((p) => !logs.some((l) => l.partition === p));
  if (bad !== undefined) throw invalid(`topic "${options.source}" has ${logs.length} partitions; partition ${bad} does not exist`);
  const at = async (partition: number, timestampMs: number, fallback: number): Promise<number> => {
    const [found] = await admin.offsetsForTimes([{ topic: options.source, partition }], timestampMs, 1);
    return found!.offset < 0 ? fallback : found!.offset;
  };
  const range = new Map<number, { start: number; end: number }>();
  for (const partition of chosen) {
    const log = logs.find((l) => l.partition === partition)!;
    const from = options.from ?? 'earliest';
    const to = options.to ?? 'latest';
    let start = from === 'earliest' ? log.earliest : 'timestampMs' in from ? await at(partition, from.timestampMs, log.latest) : (from.offsets[partition] ?? log.earliest);
    let end = to === 'latest' ? log.latest : 'timestampMs' in to ? await at(partition, to.timestampMs, log.latest) : (to.offsets[partition] ?? log.latest);
    start = Math.max(start, log.earliest);
    end = Math.min(end, log.latest);
    range.set(partition, { start, end: Math.max(start, end) });
  }
  return range;
}

function validate(options: ReplayOptions): void {
  for (const [name, value] of [['source', options.source], ['target', options.target]] as const) {
    if (typeof value !== 'string' || value.length === 0) throw invalid(`${name} must name a topic`);
  }
  if (options.source === options.target) throw invalid(`source and target are both "${options.source}"; a replay into its own source never ends`);
  if (options.partitioning !== undefined && options.partitioning !== 'keep' && options.partitioning !== 'key') throw invalid(`partitioning must be "keep" or "key", got "${String(options.partitioning)}"`);
  for (const end of [options.from, options.to]) {
    if (typeof end !== 'object') continue;
    if ('timestampMs' in end && (!Number.isSafeInteger(end.timestampMs) || end.timestampMs < 0)) throw invalid(`a replay time must be a non-negative integer of ms, got ${end.timestampMs}`);
    if ('offsets' in end) {
      for (const [partition, offset] of Object.entries(end.offsets)) {
        if (!/^\d+$/.test(partition) || !Number.isSafeInteger(offset) || offset < 0) throw invalid(`offsets map partition numbers to non-negative offsets; ${partition}: ${offset} is not one`);
      }
    }
  }
}

/**
 * Copies a range of `source` into `target` exactly once: a read_committed consumer reads the
 * range, and each fetched batch's kept records go out in one transaction together with the
 * replay group's offsets (sendOffsetsToTransaction). A crash leaves at most an open transaction,
 * which the next run with the same `replayId` aborts when it starts (fencing by transactional id)
 * before resuming from the committed offsets: nothing lost, nothing twice.
 */
export async function replayTopic(transport: Transport, options: ReplayOptions): Promise<ReplayResult> {
  validate(options);
  const replayId = options.replayId ?? `replay-${options.source}-to-${options.target}`;
  const partitioning = options.partitioning ?? 'keep';
  const admin = new Admin(transport);
  const [targetInfo] = await admin.describeTopics([options.target]);
  const range = await resolveRange(admin, options);
  if (partitioning === 'keep') {
    const highest = Math.max(-1, ...range.keys());
    if (highest >= targetInfo!.partitions.length) {
      throw invalid(`partitioning "keep" writes source partition ${highest} to target partition ${highest}, but "${options.target}" has ${targetInfo!.partitions.length}; grow it or replay with partitioning "key"`);
    }
  }
  const committed = await admin.committedOffsets(replayId, [...range.keys()].map((partition) => ({ topic: options.source, partition })));
  const positions = new Map<number, number>();
  for (const [partition, { start, end }] of range) {
    const resumed = committed.find((c) => c.partition === partition)?.offset;
    positions.set(partition, Math.min(end, Math.max(start, resumed ?? start)));
  }
  const partitions = [...range].map(([partition, { start, end }]) => ({ partition, startOffset: start, endOffset: end, resumedFrom: positions.get(partition)! }));
  const totalOffsets = partitions.reduce((sum, p) => sum + (p.endOffset - p.startOffset), 0);
  const startedMs = performance.now();
  let copied = 0;
  let filteredOut = 0;
  const progress = (done: boolean): ReplayProgress => {
    const scannedOffsets = [...range].reduce((sum, [partition, { start }]) => sum + (positions.get(partition)! - start), 0);
    const seconds = (performance.now() - startedMs) / 1000;
    return { copied, filteredOut, scannedOffsets, totalOffsets, ratePerSec: seconds > 0 ? Math.round(copied / seconds) : 0, done };
  };

  const open = [...range].filter(([partition, { end }]) => positions.get(partition)! < end).map(([partition]) => partition);
  let aborted = false;
  if (open.length > 0) {
    const consumer = new Consumer(transport, { isolationLevel: 'read_committed' });
    const producer = new Producer(transport, { transactionalId: replayId });
    const group: ConsumerGroupMetadata = { groupId: replayId, generationId: -1, memberId: '', groupInstanceId: null };
    consumer.assign(open.map((partition) => ({ topic: options.source, partition, offset: positions.get(partition)! })));
    const remaining = new Set(open);
    try {
      for await (const batch of consumer.batches({ includeEmpty: true })) {
        if (options.signal?.aborted === true) {
          aborted = true;
          break;
        }
        const end = range.get(batch.partition)!.end;
        const next = Math.min(end, consumer.position(batch) ?? end);
        const records = batch.records.filter((r) => r.offset < end);
        if (records.length > 0) {
          let kept = 0;
          const sends: Promise<unknown>[] = [];
          await producer.beginTransaction();
          try {
            for (const r of records) {
              if (options.filter !== undefined && !options.filter(r)) continue;
              kept++;
              sends.push(producer.send({ topic: options.target, key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp, ...(partitioning === 'keep' ? { partition: r.partition } : {}) }));
            }
            await Promise.all(sends);
            await producer.sendOffsets([{ topic: options.source, partition: batch.partition, offset: next }], group);
            await producer.commitTransaction();
          } catch (error) {
            void Promise.allSettled(sends);
            await producer.abortTransaction().catch(() => undefined);
            throw error;
          }
          copied += kept;
          filteredOut += records.length - kept;
        }
        positions.set(batch.partition, next);
        if (records.length > 0) options.onProgress?.(progress(false));
        if (next >= end && remaining.delete(batch.partition)) {
          consumer.pause([{ topic: options.source, partition: batch.partition }]);
          if (remaining.size === 0) break;
        }
      }
    } finally {
      await consumer.close();
      await producer.close();
    }
  }
  const final = progress(!aborted);
  options.onProgress?.(final);
  return { ...final, replayId, partitions, partitioning, aborted };
}
