import { setImmediate } from 'node:timers';
import { KafkaError } from '../../sdk/protocol/kafka-error.ts';
import { BATCH_HEADER_BYTES, BatchOffset, readInt64 } from '../../sdk/record/batch-header.ts';
import { RecordBatchBuilder } from '../../sdk/record/record-batch-builder.ts';
import { emptyBatchHeader } from '../log/cleaner/batch-rewrite.ts';
import { Acks, type AcksValue } from '../log/acks.ts';
import { batchSizeAt } from '../log/batch-validation.ts';
import type { FileSystem } from '../log/file-system.ts';
import type { AppendResult, PartitionLog } from '../log/partition-log.ts';
import { endOffsetOf } from '../log/stored-batches.ts';
import type { InternalTopics } from '../internal-topics.ts';
import { AppendOrigin } from '../producer-state/producer-state-manager.ts';
import { incrementSequence } from '../producer-state/sequence-number.ts';
import { isInternalTopic } from '../topic/topic-name.ts';
import { dueBatches } from './delay-headers.ts';
import { DelayIndex, type DelayKey, SmallestKeys } from './delay-index.ts';
import { decodeDelayedRecord, type DelayedRecord, delayedRecordOf, encodeDelayedRecord } from './delay-record.ts';
import { type DelayState, loadDelayState, partitionKey, saveDelayState } from './delay-state.ts';
import { saveDelayIndexSnapshot, takeDelayIndexSnapshot } from './delay-index-snapshot.ts';

/** The internal topic delayed records wait in. */
export const DELAY_TOPIC = '__delayed_records';

/**
 * Kept until moved (the scheduler deletes what is behind it), never compacted or aged out. An
 * offset index entry for every batch (`index.interval.bytes` 0): a record is read back by its
 * offset through the index's byte position, with no scan of the batches before it.
 */
const DELAY_TOPIC_CONFIG = { 'cleanup.policy': 'delete', 'retention.ms': '-1', 'retention.bytes': '-1', 'max.message.bytes': '16777216', 'index.interval.bytes': '0' } as const;

/** How often a move also deletes the delay log behind the pending records (a pass over the index). */
const TRUNCATE_INTERVAL_MS = 5_000;
/** How often records due soon are read ahead... */
const PREFETCH_INTERVAL_MS = 50;
/** ...at most this many at a time... */
const PREFETCH_STEP_RECORDS = 8_000;
/** ...read this many at a time with the event loop turning in between, so a read-ahead never holds up a move's fsync completions or the fetches for long. */
const PREFETCH_SLICE_RECORDS = 250;
/** How much of the delay log one read of several records takes at most. */
const READ_CHUNK_BYTES = 64 * 1024;
/** A read takes several records when at least DENSE_RECORDS wanted ones lie within DENSE_SPAN_OFFSETS offsets. */
const DENSE_RECORDS = 8;
const DENSE_SPAN_OFFSETS = 256;
/**
 * What a read of one record asks for: a delay log batch of a usual record fits, so one pread
 * fetches it (a smaller ask costs a pread for the header and another for the rest).
 */
const SINGLE_READ_BYTES = 1024;
/** Placeholders are batch headers without records, which only delayed delivery may append. */
const PLACEHOLDERS = { headersOnly: true } as const;

export interface DelayedDeliveryConfig {
  /** `rill.delay.max.ms`: how far in the future a delivery time may lie. */
  maxDelayMs: number;
  /** Keys of pending records held in memory at most; the rest wait on disk (see `DelayIndex`). */
  indexMaxEntries: number;
  /** Records one move takes at most. */
  maxRecordsPerMove: number;
  /** How long a failed move waits before it is tried again, with the same records. */
  retryBackoffMs: number;
  /** Records due within this long are read from disk ahead of time... */
  prefetchLeadMs: number;
  /** ...at most this many held in memory at once (the bound on payloads in memory). */
  prefetchMaxRecords: number;
}

export const defaultDelayedDeliveryConfig: Readonly<DelayedDeliveryConfig> = Object.freeze({
  maxDelayMs: 7 * 24 * 60 * 60 * 1000,
  indexMaxEntries: 200_000,
  maxRecordsPerMove: 5_000,
  retryBackoffMs: 1_000,
  prefetchLeadMs: 3_000,
  prefetchMaxRecords: 20_000,
});

/** What delayed delivery needs of the broker. */
export interface DelayedDeliveryHost {
  fs: FileSystem;
  dataDir: string;
  internalTopics: InternalTopics;
  /** The log of a partition, undefined once its topic or the partition is gone. */
  partitionLog(topic: string, partition: number): PartitionLog | undefined;
  allocateProducerId(): Promise<number>;
  nowMs(): number;
  /** The broker opened after a clean close (clean-shutdown.ts): a saved index may be installed. */
  openedAfterCleanShutdown: boolean;
}

/** Counters for tests and metrics. */
export interface DelayedDeliveryStats {
  /** Keys of pending records held in memory. */
  indexed: number;
  /** Whether more pending records wait on disk beyond the in-memory horizon. */
  beyondHorizon: boolean;
  moved: number;
  /** Records whose topic or partition was deleted before they were due, or grown past max.message.bytes. */
  dropped: number;
  rebuilds: number;
  /** The last move failure, retried after `retryBackoffMs`. */
  lastError: string | undefined;
}

interface PartitionMove {
  log: PartitionLog;
  bytes: Uint8Array;
  key: string;
  nextSequence: number;
}

/**
 * Delayed delivery: a produced record with `rill.deliver.at` or `rill.delay.ms` (delay-headers.ts)
 * reaches its partition, where every consumer (regular, share group, stream job) reads it, only
 * once it is due; records due together arrive in due-time order, then produce order.
 *
 * Only topics with `rill.delayed.delivery=true` come here (`Broker.append` checks the flag; every
 * other topic's produce is the plain log append and never looks inside a batch). On other topics
 * the headers are plain headers and the record is delivered at once; HTTP's `deliverAt`/`delayMs`
 * fields are refused there. Turning the config off later leaves waiting records to be delivered
 * when due.
 *
 * Produce (`route`): the target partition's own checks (CRC, size, timestamps) and its
 * producer-state check of the producer's sequence numbers run first; then each record goes, as its
 * own batch, to the delay log `__delayed_records` (delay-record.ts), and once that is fsynced the
 * target partition gets a placeholder: the request's batch headers with no record (what Kafka's
 * cleaner leaves of a compacted batch, which every client already skips), which carries the
 * producer id and sequence numbers, so a retry is answered as a duplicate and the producer's next
 * batch follows on. Until the placeholder is appended, later appends to that partition wait
 * (`placing`), so sequences stay in order. A crash can so leave a delayed record without its
 * placeholder but never a placeholder without its record; the last delay record of each
 * idempotent batch carries the batch's placeholder, and a restart appends those missing from
 * `placedBelow` on (`placeMissing`) before any client is served, so a retry after the crash is a
 * duplicate. The produce answer names the placeholder's offsets.
 *
 * Memory: the index holds 16-byte keys (due time, delay log offset) of at most `indexMaxEntries`
 * pending records near the horizon (delay-index.ts); payloads are read back from disk shortly
 * before they are due (at most `prefetchMaxRecords` held, within `prefetchLeadMs`), and keys beyond
 * the horizon are found again by rescanning the delay log's batch headers.
 *
 * Moves, exactly once: the scheduler takes due keys in order, writes the move's last key
 * (`moving`) to its state file (delay-state.ts), then appends the records to their partitions as
 * an idempotent producer of its own (a producer id allocated once, epoch 0, a sequence per
 * partition). After a crash it writes the same records with the same sequence numbers again;
 * partitions that had them answer duplicate, the others append them. Records produced while a
 * move is being taken get a due time no earlier than the move's, so none can fall below it.
 *
 * Transactions are not supported: a transactional batch naming a delay is refused with
 * INVALID_RECORD (the delay log is not part of the producer's transaction, so an abort could not
 * take the records back).
 */
export class DelayedDelivery {
  private readonly index: DelayIndex;
  /** No record produced from now on may be due earlier (the last key taken for a move). */
  private frontierDueMs = Number.NEGATIVE_INFINITY;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerDueMs = Number.POSITIVE_INFINITY;
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;
  /** A move that failed, tried again as it was (same records, same sequences). */
  private retrying: DelayKey[] | undefined;
  private lastTruncateMs = Number.NEGATIVE_INFINITY;
  /** Payloads read ahead of their due time, by delay log offset; at most `prefetchMaxRecords`. */
  private readonly prefetched = new Map<number, DelayedRecord>();
  private prefetchTimer: ReturnType<typeof setInterval> | undefined;
  /**
   * Offsets the read-ahead in progress has yet to read (at most PREFETCH_STEP_RECORDS). A move
   * taking one removes it, so the read-ahead never keeps a record already moved.
   */
  private readonly toPrefetch = new Set<number>();
  /** Delay log bytes per offset in the last read of several records, 0 before the first; sizes the next. */
  private bytesPerOffset = 0;
  /** The read-ahead in progress; one at a time. */
  private prefetching: Promise<void> | undefined;
  private readonly counters = { moved: 0, dropped: 0, rebuilds: 0, lastError: undefined as string | undefined };
  /**
   * Per target partition, the last delayed produce whose placeholder is not appended yet; later
   * appends to the partition wait for it. One entry per partition with such a produce.
   */
  private readonly placing = new Map<string, Promise<void>>();
  /** Delay log offsets of produces whose placeholders are not fsynced yet (in-flight produces). */
  private readonly unplaced = new Set<number>();

  /** The delay log and the state, once the first delayed produce (or an earlier run) created them. */
  private opened: { delayLog: PartitionLog; state: DelayState } | undefined;
  private opening: Promise<void> | undefined;

  private constructor(
    private readonly host: DelayedDeliveryHost,
    private readonly config: DelayedDeliveryConfig,
  ) {
    this.index = new DelayIndex(config.indexMaxEntries);
  }

  /**
   * Loads the state and, when the delay log exists, rebuilds the index from it and starts the
   * scheduler, whose first move finishes one a crash interrupted. The delay log and the state file
   * are created by the first delayed produce.
   */
  static async open(host: DelayedDeliveryHost, options: Partial<DelayedDeliveryConfig> = {}): Promise<DelayedDelivery> {
    const config = { ...defaultDelayedDeliveryConfig, ...options };
    if (!Number.isSafeInteger(config.maxDelayMs) || config.maxDelayMs < 0) {
      throw new KafkaError('INVALID_CONFIG', `rill.delay.max.ms must be a non-negative integer, got ${config.maxDelayMs}`);
    }
    config.maxRecordsPerMove = Math.max(1, Math.min(config.maxRecordsPerMove, Math.floor(config.indexMaxEntries / 2)));
    const delayed = new DelayedDelivery(host, config);
    const state = await loadDelayState(host.fs, host.dataDir);
    // Taken (and so removed) whatever follows: a snapshot is only ever read by the open after its save.
    const saved = await takeDelayIndexSnapshot(host.fs, host.dataDir);
    const delayLog = host.partitionLog(DELAY_TOPIC, 0);
    if (state === undefined || delayLog === undefined) return delayed;
    delayed.opened = { delayLog, state };
    delayed.frontierDueMs = Math.max(state.moved?.dueMs ?? Number.NEGATIVE_INFINITY, state.moving?.dueMs ?? Number.NEGATIVE_INFINITY);
    await delayed.whenDelayLogSynced(delayLog.logEndOffset);
    await delayed.placeMissing();
    if (
      saved !== undefined &&
      host.openedAfterCleanShutdown &&
      saved.delayLogEndOffset === delayLog.logEndOffset &&
      sameKey(saved.moved, state.moved) &&
      saved.keys.length / 2 <= config.indexMaxEntries
    ) {
      delayed.index.restore(saved);
    } else {
      delayed.rebuild();
    }
    const redo = state.moving === undefined ? [] : delayed.index.takeThrough(state.moving);
    if (redo.length > 0) delayed.retrying = redo;
    // Records that came due while the broker was down (and the move a crash cut short) move in
    // the background, in due order: the broker serves meanwhile. Waiting here made a restart as
    // long as that backlog, which grew with every second of the wait as more records came due.
    delayed.kick();
    return delayed;
  }

  /** Creates the delay log and the state file (with the scheduler's producer id); once. */
  private ensureOpened(): Promise<void> {
    this.opening ??= (async () => {
      await this.host.internalTopics.create(DELAY_TOPIC, { partitions: 1, config: DELAY_TOPIC_CONFIG });
      const delayLog = this.host.partitionLog(DELAY_TOPIC, 0);
      if (delayLog === undefined) throw new Error(`invariant: ${DELAY_TOPIC} exists once created`);
      let state = await loadDelayState(this.host.fs, this.host.dataDir);
      if (state === undefined) {
        state = { producerId: await this.host.allocateProducerId(), moved: undefined, nextSequence: new Map(), moving: undefined, placedBelow: undefined, writes: 0 };
        state.writes = await saveDelayState(this.host.fs, this.host.dataDir, state);
      }
      this.opened ??= { delayLog, state };
    })().finally(() => (this.opening = undefined));
    return this.opening;
  }

  private get delayLog(): PartitionLog {
    if (this.opened === undefined) throw new Error('invariant: the delay log is used after it is opened');
    return this.opened.delayLog;
  }

  private get state(): DelayState {
    if (this.opened === undefined) throw new Error('invariant: the delay state is used after it is opened');
    return this.opened.state;
  }

  private set state(state: DelayState) {
    if (this.opened === undefined) throw new Error('invariant: the delay state is used after it is opened');
    this.opened.state = state;
  }

  stats(): DelayedDeliveryStats {
    return { indexed: this.index.size, beyondHorizon: this.index.horizon !== undefined, ...this.counters };
  }

  /**
   * Diverts a produce whose records name a future delivery time (see the class comment) and
   * answers it; undefined for any other produce, which the caller appends as usual. Throws
   * INVALID_RECORD for bad delay headers, a delay beyond `rill.delay.max.ms`, or a transaction.
   */
  route(topic: string, partition: number, log: PartitionLog, batches: Uint8Array, acks: AcksValue): Promise<AppendResult> | undefined {
    if (this.closed || isInternalTopic(topic)) return undefined;
    const chainKey = partitionKey(topic, partition);
    const ahead = this.placing.get(chainKey);
    // A delayed produce ahead of this one has not appended its placeholder yet: every append to
    // the partition waits for it, so a producer's sequences reach the partition in order.
    if (ahead !== undefined) return this.enqueue(chainKey, ahead.then(() => this.routeNow(topic, partition, log, batches, acks) ?? { result: log.append(batches, acks) }));
    const issued = this.routeNow(topic, partition, log, batches, acks);
    return issued === undefined ? undefined : this.enqueue(chainKey, issued);
  }

  /** `route` with no produce ahead in the partition's chain: undefined for a produce it leaves to the caller. */
  private routeNow(topic: string, partition: number, log: PartitionLog, batches: Uint8Array, acks: AcksValue): Promise<{ result: Promise<AppendResult> }> | undefined {
    const nowMs = this.host.nowMs();
    const where = `${topic}-${partition}`;
    const due = dueBatches(batches, nowMs, this.config.maxDelayMs, where);
    if (due === undefined || due.maxDueMs <= Math.max(nowMs, this.frontierDueMs)) return undefined;
    if (due.transactional) {
      throw new KafkaError('INVALID_RECORD', `${where}: delayed delivery (rill.deliver.at, rill.delay.ms) is not supported for transactional producers`);
    }
    log.checkClientAppend(batches, acks);
    // The first delayed produce of a data directory waits for the delay log to be created.
    if (this.opened === undefined) return this.ensureOpened().then(() => this.routeNow(topic, partition, log, batches, acks) ?? { result: log.append(batches, acks) });
    const parts = placeholderParts(batches);
    const placeholders = concat(parts);
    const outcome = log.producerState.prepare(placeholders, log.logEndOffset, AppendOrigin.client, nowMs);
    if (outcome.kind === 'duplicate') return Promise.resolve({ result: log.append(placeholders, acks, AppendOrigin.client, PLACEHOLDERS) });
    const lastOfBatch = new Map<number, Uint8Array>();
    let end = 0;
    due.batchRecordCounts.forEach((count, i) => {
      end += count;
      if (count > 0 && isIdempotent(parts[i]!)) lastOfBatch.set(end - 1, parts[i]!);
    });
    const encoded = due.records.map(({ record, dueMs }, i) =>
      encodeDelayedRecord(delayedRecordOf({
        topic,
        partition,
        dueMs: Math.max(dueMs, this.frontierDueMs),
        timestamp: record.timestamp,
        key: record.key,
        value: record.value,
        headers: record.headers,
        ...(lastOfBatch.has(i) ? { placeholder: lastOfBatch.get(i)! } : {}),
      })),
    );
    const baseOffset = this.delayLog.logEndOffset;
    // The delay log is fsynced before the placeholder is written: a power loss can then leave a
    // record without its placeholder (appended again at the restart, see `placeMissing`) but
    // never a placeholder without its record.
    const stored = this.delayLog.append(concat(encoded), Acks.all, AppendOrigin.coordinator);
    if (this.delayLog.logEndOffset !== baseOffset + encoded.length) return Promise.resolve({ result: stored });
    due.records.forEach(({ dueMs }, i) => this.index.add({ dueMs: Math.max(dueMs, this.frontierDueMs), offset: baseOffset + i }));
    this.unplaced.add(baseOffset);
    const issued = stored.then(
      () => {
        const placed = log.append(placeholders, Acks.all, AppendOrigin.client, PLACEHOLDERS);
        // A placeholder that failed stays unplaced, so the next restart appends it.
        void placed.then(
          () => this.unplaced.delete(baseOffset),
          () => undefined,
        );
        return { result: placed };
      },
      (error: unknown) => {
        this.unplaced.delete(baseOffset);
        throw error;
      },
    );
    this.schedule();
    return issued;
  }

  /**
   * Makes `issued` the last link of the partition's chain until it settles, and answers with its
   * result. A link resolves once its append was issued (the partition's producer state then has
   * it), not once it is fsynced, so produces to one partition still share fsyncs.
   */
  private enqueue(chainKey: string, issued: Promise<{ result: Promise<AppendResult> }>): Promise<AppendResult> {
    const link: Promise<void> = issued.then(
      () => undefined,
      () => undefined,
    );
    this.placing.set(chainKey, link);
    void link.then(() => {
      if (this.placing.get(chainKey) === link) this.placing.delete(chainKey);
    });
    return issued.then((issuedAppend) => issuedAppend.result);
  }

  /** The offset below which every delay log record's placeholder is fsynced (see DelayState). */
  private placedBelow(): number {
    let below = this.delayLog.logEndOffset;
    for (const offset of this.unplaced) if (offset < below) below = offset;
    return below;
  }

  /**
   * At open: appends the placeholders a crash left out (between the delay log's fsync and the
   * placeholder's append) for the records from `placedBelow` on. A placeholder already in its
   * partition is answered as a duplicate and not written again; one the partition's producer
   * state has moved past (or a fenced producer's) is refused, which is as good: a retry of its
   * batch would be refused the same way.
   */
  private async placeMissing(): Promise<void> {
    const end = this.delayLog.highWatermark;
    for (let from = Math.max(this.state.placedBelow ?? 0, this.delayLog.logStartOffset); from < end; ) {
      const records = this.delayLog.read(from, 1 << 20).records;
      if (records.length === 0) break;
      const dv = new DataView(records.buffer, records.byteOffset, records.byteLength);
      for (let pos = 0; pos < records.length; pos += batchSizeAt(dv, pos)) {
        if (readInt64(dv, pos + BatchOffset.baseOffset) < from) continue;
        const record = decodeDelayedRecord(records.subarray(pos, pos + batchSizeAt(dv, pos)));
        if (record.placeholder === undefined) continue;
        const log = this.host.partitionLog(record.topic, record.partition);
        if (log === undefined || log.isUnusable) continue;
        await log.append(record.placeholder, Acks.all, AppendOrigin.client, PLACEHOLDERS).catch((error: unknown) => {
          if (!(error instanceof KafkaError)) throw error;
        });
      }
      from = endOffsetOf(records);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.prefetchTimer !== undefined) clearInterval(this.prefetchTimer);
    await this.running;
    await Promise.all(this.placing.values());
    // Saving where the placeholders stand spares the next open a check of every record produced
    // since the last move (each decoded and its placeholder appended again as a duplicate). Not
    // after a failed move: the file's intent of that move must stay for the next open to redo.
    if (this.opened !== undefined && this.retrying === undefined && !this.delayLog.isUnusable) {
      const placedBelow = this.placedBelow();
      if (placedBelow !== this.state.placedBelow) {
        const writes = await saveDelayState(this.host.fs, this.host.dataDir, { ...this.state, placedBelow });
        this.state = { ...this.state, placedBelow, writes };
      }
      await saveDelayIndexSnapshot(this.host.fs, this.host.dataDir, { delayLogEndOffset: this.delayLog.logEndOffset, moved: this.state.moved, ...this.index.contents() });
    }
  }

  /** Runs the scheduler now, or once more after the current run. */
  private kick(): void {
    if (this.closed || this.opened === undefined) return;
    this.startReadAhead();
    if (this.running !== undefined) {
      this.again = true;
      return;
    }
    this.running = this.run().finally(() => {
      this.running = undefined;
      this.schedule();
    });
  }

  /**
   * Starts the periodic read-ahead, with a first one now: from the first pending record on, not
   * from the first due one, so the records due first are in memory when they come due.
   */
  private startReadAhead(): void {
    if (this.prefetchTimer !== undefined) return;
    this.prefetchTimer = setInterval(() => this.prefetch(), PREFETCH_INTERVAL_MS);
    (this.prefetchTimer as { unref?: () => void }).unref?.();
    this.prefetch();
  }

  /** Arms the timer for the earliest due key, unless a run is on (it arms it when done). */
  private schedule(): void {
    if (this.closed || this.running !== undefined || this.opened === undefined) return;
    if (this.retrying !== undefined) return this.armAt(this.host.nowMs() + this.config.retryBackoffMs);
    if (this.index.needsRebuild) return this.kick();
    const next = this.index.next();
    if (next === undefined) return;
    this.startReadAhead();
    this.armAt(next.dueMs);
  }

  private armAt(dueMs: number): void {
    if (this.timer !== undefined) {
      if (dueMs >= this.timerDueMs) return;
      clearTimeout(this.timer);
    }
    this.timerDueMs = dueMs;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerDueMs = Number.POSITIVE_INFINITY;
      this.kick();
    }, Math.max(0, dueMs - this.host.nowMs()));
    (this.timer as { unref?: () => void }).unref?.();
  }

  private async run(): Promise<void> {
    do {
      this.again = false;
      while (!this.closed) {
        if (this.retrying === undefined && this.index.needsRebuild) {
          await this.whenDelayLogSynced(this.delayLog.logEndOffset);
          if (this.delayLog.highWatermark < this.delayLog.logEndOffset) continue;
          this.rebuild();
          continue;
        }
        const keys = this.retrying ?? this.index.takeDue(this.host.nowMs(), this.config.maxRecordsPerMove);
        if (keys.length === 0) break;
        try {
          await this.move(keys);
          this.retrying = undefined;
        } catch (error) {
          this.retrying = keys;
          this.counters.lastError = error instanceof Error ? error.message : String(error);
          return;
        }
      }
    } while (this.again && !this.closed);
  }

  /** Resolves once the delay log is fsynced up to `endOffset`. */
  private async whenDelayLogSynced(endOffset: number): Promise<void> {
    while (this.delayLog.highWatermark < endOffset) await this.delayLog.flush();
  }

  /**
   * Rescans the delay log's batch headers (no record is decoded) for the pending keys, keeping
   * the earliest ones that fit (three quarters of the index, leaving room for new ones).
   * Synchronous, and only when the whole delay log is fsynced, so every key is seen.
   */
  private rebuild(): void {
    const moved = this.state.moved;
    const keep = new SmallestKeys(Math.max(1, Math.floor((this.config.indexMaxEntries * 3) / 4)));
    const end = this.delayLog.highWatermark;
    for (let from = this.delayLog.logStartOffset; from < end; ) {
      const records = this.delayLog.read(from, 1 << 20).records;
      if (records.length === 0) break;
      const dv = new DataView(records.buffer, records.byteOffset, records.byteLength);
      let next = from;
      for (let pos = 0; pos < records.length; pos += batchSizeAt(dv, pos)) {
        const dueMs = readInt64(dv, pos + BatchOffset.maxTimestamp);
        const offset = readInt64(dv, pos + BatchOffset.baseOffset);
        if (offset >= from && (moved === undefined || dueMs > moved.dueMs || (dueMs === moved.dueMs && offset > moved.offset))) keep.offer(dueMs, offset);
        next = offset + dv.getInt32(pos + BatchOffset.lastOffsetDelta) + 1;
      }
      from = next;
    }
    this.index.replace(keep.result());
    this.prefetched.clear();
    this.toPrefetch.clear();
    this.counters.rebuilds++;
  }

  /**
   * Moves the records of `keys` (in key order) to their partitions: the state file first names
   * the move, then each partition gets its records as idempotent batches.
   */
  private async move(keys: readonly DelayKey[]): Promise<void> {
    const last = keys[keys.length - 1];
    if (last === undefined) return;
    this.frontierDueMs = Math.max(this.frontierDueMs, last.dueMs);
    await this.whenDelayLogSynced(last.offset + 1);
    const byPartition = new Map<string, DelayedRecord[]>();
    const read = this.takePrefetched(keys);
    for (const key of keys) {
      const record = read.get(key.offset);
      if (record === undefined) throw new Error(`invariant: delay log record ${key.offset} is missing`);
      const partitionKeyOf = partitionKey(record.topic, record.partition);
      let records = byPartition.get(partitionKeyOf);
      if (records === undefined) byPartition.set(partitionKeyOf, (records = []));
      records.push(record);
    }
    const moves: PartitionMove[] = [];
    let dropped = 0;
    for (const [key, records] of byPartition) {
      const first = records[0]!;
      const log = this.host.partitionLog(first.topic, first.partition);
      if (log === undefined || log.isUnusable) {
        dropped += records.length;
        continue;
      }
      const built = this.buildBatches(records, log.logConfig.maxMessageBytes, this.state.nextSequence.get(key) ?? 0);
      dropped += built.dropped;
      if (built.bytes.length > 0) moves.push({ log, bytes: built.bytes, key, nextSequence: built.nextSequence });
    }
    // The next records due are read while this move waits for its fsyncs.
    this.prefetch();
    const writes = await saveDelayState(this.host.fs, this.host.dataDir, { ...this.state, moving: last, placedBelow: this.placedBelow() });
    // A retry of this move saves its intent again into the other slot, so a torn retry leaves this one.
    this.state = { ...this.state, writes };
    await this.truncateDelayLog(keys);
    await Promise.all(moves.map((m) => m.log.append(m.bytes, Acks.all)));
    const nextSequence = new Map(this.state.nextSequence);
    for (const m of moves) nextSequence.set(m.key, m.nextSequence);
    this.state = { ...this.state, moved: last, moving: last, nextSequence };
    this.counters.moved += keys.length - dropped;
    this.counters.dropped += dropped;
  }

  /** The records at `keys`, from the prefetched ones (which it forgets) or read now. */
  private takePrefetched(keys: readonly DelayKey[]): Map<number, DelayedRecord> {
    for (const key of keys) this.toPrefetch.delete(key.offset);
    const missing = ascendingOffsets(keys.filter((k) => !this.prefetched.has(k.offset)));
    const out = missing.length > 0 ? this.readDelayed(missing) : new Map<number, DelayedRecord>();
    for (const key of keys) {
      const record = this.prefetched.get(key.offset);
      if (record === undefined) continue;
      out.set(key.offset, record);
      this.prefetched.delete(key.offset);
    }
    return out;
  }

  /**
   * Reads ahead the records due within `prefetchLeadMs` (at most `prefetchMaxRecords` held), so a
   * move at the due time does not wait for the disk. Also while moves run (they mostly wait for
   * fsyncs): PREFETCH_STEP_RECORDS at a time, in slices with the event loop turning in between. A
   * move takes its keys out of the index before it reads, and out of `toPrefetch`. Each key is
   * handed to the read-ahead once (`takeUnreadDueBy`). Best effort: a failed read-ahead is noted in
   * `lastError` and leaves its records to their moves, which read them.
   */
  private prefetch(): void {
    if (this.opened === undefined || this.closed || this.prefetching !== undefined) return;
    const step = Math.min(PREFETCH_STEP_RECORDS, this.config.prefetchMaxRecords);
    const room = Math.min(step, this.config.prefetchMaxRecords - this.prefetched.size);
    // Not a few at a time: the records due next lie scattered over the delay log, and only a
    // step's worth together lie close enough for reads of several records each.
    if (room < Math.ceil(step / 2)) return;
    const wanted = this.index.takeUnreadDueBy(this.host.nowMs() + this.config.prefetchLeadMs, room, this.delayLog.highWatermark);
    if (wanted.length === 0) return;
    // In offset order, so each slice reads one stretch of the delay log.
    const offsets = ascendingOffsets(wanted);
    for (const offset of offsets) this.toPrefetch.add(offset);
    this.prefetching = this.prefetchSlices(offsets).finally(() => (this.prefetching = undefined));
  }

  private async prefetchSlices(offsets: Float64Array): Promise<void> {
    try {
      for (let i = 0; i < offsets.length && !this.closed && this.toPrefetch.size > 0; ) {
        // A slice of records still wanted: a move may have taken many of them meanwhile.
        const slice: number[] = [];
        for (; i < offsets.length && slice.length < PREFETCH_SLICE_RECORDS; i++) if (this.toPrefetch.has(offsets[i]!)) slice.push(offsets[i]!);
        if (slice.length > 0) {
          for (const [offset, record] of this.readDelayed(slice)) if (this.toPrefetch.delete(offset)) this.prefetched.set(offset, record);
        }
        // After I/O callbacks (fsync completions, requests), not a timer's millisecond later.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } catch (error) {
      this.counters.lastError = `read-ahead: ${error instanceof Error ? error.message : String(error)}`;
    } finally {
      this.toPrefetch.clear();
    }
  }

  /**
   * The delay log records at `offsets` (ascending); where they lie close together on disk one read
   * serves several. Only those asked for are decoded.
   */
  private readDelayed(offsets: ArrayLike<number>): Map<number, DelayedRecord> {
    const out = new Map<number, DelayedRecord>();
    for (let i = 0; i < offsets.length; ) {
      // Several records in one read only where wanted ones lie close together, and never past the
      // last of them; one batch otherwise.
      let last = i;
      while (last + 1 < offsets.length && offsets[last + 1]! - offsets[i]! < DENSE_SPAN_OFFSETS) last++;
      const dense = last + 1 - i >= DENSE_RECORDS;
      // A dense read asks for about the bytes its span of offsets holds (at the bytes per offset
      // the last dense read found, with room to spare): a read of READ_CHUNK_BYTES for a span a
      // third as long copied the rest for nothing.
      const span = offsets[last]! - offsets[i]! + 1;
      const maxBytes = !dense ? SINGLE_READ_BYTES : this.bytesPerOffset === 0 ? READ_CHUNK_BYTES : Math.min(READ_CHUNK_BYTES, Math.ceil(span * this.bytesPerOffset * 1.25));
      const records = this.delayLog.read(offsets[i]!, maxBytes, (dense ? offsets[last]! : offsets[i]!) + 1).records;
      const dv = new DataView(records.buffer, records.byteOffset, records.byteLength);
      if (dense && records.length > 0) this.bytesPerOffset = records.length / (endOffsetOf(records) - readInt64(dv, BatchOffset.baseOffset));
      const before = i;
      for (let pos = 0; pos < records.length && i < offsets.length; pos += batchSizeAt(dv, pos)) {
        const offset = readInt64(dv, pos + BatchOffset.baseOffset);
        if (offset !== offsets[i]) continue;
        out.set(offset, decodeDelayedRecord(records.subarray(pos, pos + batchSizeAt(dv, pos))));
        i++;
      }
      if (i === before) throw new Error(`invariant: delay log record ${offsets[i]} is missing`);
    }
    return out;
  }

  /**
   * The records as batches of the scheduler's producer, each within the partition's
   * max.message.bytes, sequences from `sequence` on. Deterministic, so a move written again after
   * a crash repeats the same batches. A record too large on its own is dropped.
   */
  private buildBatches(records: readonly DelayedRecord[], maxMessageBytes: number, sequence: number): { bytes: Uint8Array; nextSequence: number; dropped: number } {
    const sealed: Uint8Array[] = [];
    let dropped = 0;
    let next = sequence;
    let builder: RecordBatchBuilder | undefined;
    const seal = (): void => {
      if (builder === undefined || builder.count === 0) return;
      sealed.push(builder.seal({ producerId: this.state.producerId, producerEpoch: 0, baseSequence: next, isTransactional: false }));
      next = incrementSequence(next, builder.count);
      builder = undefined;
    };
    for (const record of records) {
      for (let attempt = 0; ; attempt++) {
        builder ??= new RecordBatchBuilder({ maxBatchBytes: maxMessageBytes, producerId: this.state.producerId, producerEpoch: 0, baseSequence: next });
        try {
          builder.appendEncoded(record.dueMs, record.tail);
          break;
        } catch (error) {
          if (!(error instanceof KafkaError && error.errorName === 'MESSAGE_TOO_LARGE')) throw error;
          if (builder.count === 0 || attempt > 0) {
            dropped++;
            break;
          }
          seal();
        }
      }
    }
    seal();
    return { bytes: concat(sealed), nextSequence: next, dropped };
  }

  /**
   * Deletes the delay log below every pending record and every record of the move at hand (which
   * a crash would move again), once the state file names this move.
   */
  private async truncateDelayLog(moving: readonly DelayKey[]): Promise<void> {
    const nowMs = this.host.nowMs();
    if (nowMs - this.lastTruncateMs < TRUNCATE_INTERVAL_MS) return;
    this.lastTruncateMs = nowMs;
    let keepFrom = this.index.minPendingOffset();
    for (const key of moving) keepFrom = Math.min(keepFrom, key.offset);
    const before = Math.min(keepFrom, this.delayLog.highWatermark);
    if (before > this.delayLog.logStartOffset) await this.delayLog.deleteRecordsBefore(before);
  }
}

/**
 * The request's batches with their records taken out (see `emptyBatchHeader`), one per batch.
 * Each header is copied into its own buffer first: a request's bytes may be a Node Buffer, whose
 * `slice` shares memory, and `emptyBatchHeader` rewrites the slice it takes.
 */
function placeholderParts(batches: Uint8Array): Uint8Array[] {
  const dv = new DataView(batches.buffer, batches.byteOffset, batches.byteLength);
  const parts: Uint8Array[] = [];
  for (let pos = 0; pos < batches.length; pos += batchSizeAt(dv, pos)) parts.push(emptyBatchHeader(new Uint8Array(batches.subarray(pos, pos + BATCH_HEADER_BYTES))));
  return parts;
}

/** Whether a placeholder carries a producer id, and so can be checked against the producer state. */
function isIdempotent(placeholder: Uint8Array): boolean {
  return readInt64(new DataView(placeholder.buffer, placeholder.byteOffset, placeholder.byteLength), BatchOffset.producerId) >= 0;
}

function sameKey(a: DelayKey | undefined, b: DelayKey | undefined): boolean {
  return a === undefined || b === undefined ? a === b : a.dueMs === b.dueMs && a.offset === b.offset;
}

/** The keys' offsets in ascending order (a typed array sorts numerically without a comparator call). */
function ascendingOffsets(keys: readonly DelayKey[]): Float64Array {
  const offsets = new Float64Array(keys.length);
  for (let i = 0; i < keys.length; i++) offsets[i] = keys[i]!.offset;
  return offsets.sort();
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
