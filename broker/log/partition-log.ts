import { KafkaError } from '../../sdk/protocol/kafka-error.ts';
import { SwapRemoveList } from '../swap-remove-list.ts';
import { BatchAttribute, BatchOffset, readInt64, writeInt64 } from '../../sdk/record/batch-header.ts';
import { Acks, type AcksValue } from './acks.ts';
import { batchSizeAt, type ProduceRules, validateBatches } from './batch-validation.ts';
import type { Clock } from './clock.ts';
import type { FileSystem } from './file-system.ts';
import { type LogConfig, maxSegmentAgeMs } from './log-config.ts';
import { assertTimestampsInBounds, MessageTimestampType, stampLogAppendTime } from './message-timestamps.ts';
import { recoverLog } from './log-recovery.ts';
import { commitSwap, finishSwap, removeCleaned, CLEANED_SUFFIX, SwapError } from './cleaner/segment-swap.ts';
import { SealedHandles } from './sealed-handles.ts';
import type { PreparedAppend } from '../producer-state/producer-state-manager.ts';
import { LogSegment } from './log-segment.ts';
import { lookupOffsetIndexFile, OFFSET_INDEX_ENTRY_BYTES } from './offset-index.ts';
import { readBatchAt, readBatches, type SegmentSource, walkHeaders } from './segment-read.ts';
import { lookupTimeIndexFileBefore } from './time-index.ts';
import { writeFileAtomic } from './atomic-file.ts';
import { type AbortedTxn, collectAbortedTxns, encodeTxnIndex } from './transaction-index.ts';
import { endOffsetOf, holdsOnlyEmptyBatches, omitAbortedBatches } from './stored-batches.ts';
import { encodeSnapshot } from '../producer-state/producer-snapshot.ts';
import { listSnapshotOffsets, loadProducerState, snapshotPath, writeTxnIndexFile } from '../producer-state/producer-state-loader.ts';
import { AppendOrigin, type AppendOriginValue, ProducerStateManager } from '../producer-state/producer-state-manager.ts';

export interface AppendResult {
  baseOffset: number;
  lastOffset: number;
  /** -1 unless the topic uses LogAppendTime. */
  logAppendTimeMs: number;
  logStartOffset: number;
}

export interface ReadResult {
  /** Whole stored batches, possibly none. */
  records: Uint8Array;
  highWatermark: number;
  logStartOffset: number;
}

export interface CommittedReadResult extends ReadResult {
  lastStableOffset: number;
  /** Aborted transactions overlapping the returned batches (whose data batches were left out). */
  abortedTransactions: readonly { producerId: number; firstOffset: number }[];
}

export const NO_ABORTED_TRANSACTIONS: CommittedReadResult['abortedTransactions'] = Object.freeze([]);

/**
 * A committed read as one object literal of a fixed shape: fetches build these thousands of times a
 * second, and object spread here made V8 keep the results long enough to promote them, which
 * doubled the broker's scavenge pauses.
 */
function committedRead(
  read: ReadResult,
  records: Uint8Array,
  lastStableOffset: number,
  abortedTransactions: CommittedReadResult['abortedTransactions'],
): CommittedReadResult {
  return { records, highWatermark: read.highWatermark, logStartOffset: read.logStartOffset, lastStableOffset, abortedTransactions };
}

export interface PartitionLogOptions {
  dir: string;
  /** `<topic>-<partition>`, for messages. */
  topicPartition: string;
  fs: FileSystem;
  clock: Clock;
  config: LogConfig;
  /** Every offset below it was fsynced by a previous run; 0 if unknown. */
  recoveryPoint: number;
  /**
   * The previous run closed the data directory cleanly (its marker was there): batches below the
   * recovery point are trusted without recomputing their CRCs, as sealed segments' are.
   */
  cleanShutdown?: boolean;
  /**
   * The log start offset a previous run checkpointed (DeleteRecords may have moved it inside the
   * first segment); 0 if unknown. The first segment's base offset is the floor.
   */
  logStartOffset?: number;
}

/** An acks=all append (or a flush) waiting for the group commit that covers `endOffset`. */
interface DurabilityWaiter {
  endOffset: number;
  resolve: () => void;
  reject: (error: KafkaError) => void;
}

/** A descriptor the next group commit must fsync; sealed segments' files are closed after it. */
interface SyncTarget {
  fd: number;
  path: string;
  closeAfterSync: boolean;
}

const MAX_RELATIVE_OFFSET = 0x7fffffff;
/** Producer snapshots kept in a partition directory; older ones are deleted after each write. */
const RETAINED_SNAPSHOTS = 2;

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The durable log of one partition: a directory of segments in Kafka's layout, appended to with
 * group-committed fsyncs. The high watermark is the fsynced end offset, so readers never see bytes a
 * crash could take away. Any I/O failure takes the partition offline for good.
 */
export class PartitionLog {
  readonly dir: string;
  readonly topicPartition: string;
  private readonly fs: FileSystem;
  private readonly clock: Clock;
  private config: LogConfig;
  private readonly segments: LogSegment[];
  private activeFd: number;
  private syncedOffset: number;
  private committing = false;
  private commitInFlight: Promise<void> = Promise.resolve();
  private dirNeedsSync = false;
  private pendingSealed: SyncTarget[] = [];
  /** Ordered by endOffset (appends are); bounded by the appends in flight. */
  private waiters: DurabilityWaiter[] = [];
  private waitersHead = 0;
  /**
   * High-watermark listeners. Parked fetches subscribe and leave thousands of times a second, so
   * each knows its index and leaves by swapping with the last, without the rehashing of a Set.
   */
  private readonly listeners = new SwapRemoveList<{ listener: (highWatermark: number) => void; index: number }>();
  private offlineError: KafkaError | undefined;
  private closed = false;
  /** The first offset readers may fetch: at least the first segment's base, further once DeleteRecords moved it. */
  private startOffset: number;
  private readonly sealedHandles: SealedHandles;
  /** Retention, DeleteRecords and segment swaps change the segment list over several awaits; they run one at a time. */
  private maintenance: Promise<unknown> = Promise.resolve();
  readonly producerState: ProducerStateManager;
  /** A snapshot taken at the last roll, written once the group commit has made the sealed segment durable. */
  private pendingSnapshot: { offset: number; bytes: Uint8Array } | undefined;
  private snapshotWork: Promise<void> = Promise.resolve();

  private constructor(options: PartitionLogOptions, segments: LogSegment[], activeFd: number, producerState: ProducerStateManager) {
    this.dir = options.dir;
    this.topicPartition = options.topicPartition;
    this.fs = options.fs;
    this.clock = options.clock;
    this.config = options.config;
    this.segments = segments;
    this.activeFd = activeFd;
    this.syncedOffset = this.active.nextOffset;
    this.startOffset = Math.min(Math.max(options.logStartOffset ?? 0, segments[0]!.baseOffset), this.syncedOffset);
    this.producerState = producerState;
    this.sealedHandles = new SealedHandles(options.fs);
  }

  static async open(options: PartitionLogOptions): Promise<PartitionLog> {
    const { segments, activeFd } = await recoverLog(options);
    const producerState = new ProducerStateManager(options.topicPartition);
    try {
      await loadProducerState({
        fs: options.fs,
        dir: options.dir,
        segments,
        logEndOffset: segments[segments.length - 1]!.nextOffset,
        nowMs: options.clock.nowMs(),
        state: producerState,
      });
    } catch (error) {
      options.fs.closeSync(activeFd);
      throw error;
    }
    return new PartitionLog(options, segments, activeFd, producerState);
  }

  private get active(): LogSegment {
    return this.segments[this.segments.length - 1]!;
  }

  get logStartOffset(): number {
    return this.startOffset;
  }

  get logEndOffset(): number {
    return this.active.nextOffset;
  }

  get highWatermark(): number {
    return this.syncedOffset;
  }

  /** Where read_committed readers stop: the first offset of the oldest unfinished transaction, else the high watermark. */
  get lastStableOffset(): number {
    return this.producerState.firstUnstableOffset(this.syncedOffset);
  }

  get recoveryPoint(): number {
    return this.syncedOffset;
  }

  /** The largest record timestamp in the log (appended, not only synced), -1 when it has none. */
  get maxTimestamp(): number {
    let max = -1;
    for (const segment of this.segments) if (!segment.isEmpty && segment.maxTimestamp > max) max = segment.maxTimestamp;
    return max;
  }

  get sizeBytes(): number {
    let total = 0;
    for (const segment of this.segments) total += segment.sizeBytes;
    return total;
  }

  get isOffline(): boolean {
    return this.offlineError !== undefined;
  }

  /** Closed, or offline: nothing may change its segments any more. */
  get isUnusable(): boolean {
    return this.closed || this.offlineError !== undefined;
  }

  get logConfig(): Readonly<LogConfig> {
    return this.config;
  }

  /** Base offset of the active segment, which only appends write and the cleaner never reads. */
  get activeSegmentBaseOffset(): number {
    return this.active.baseOffset;
  }

  /** The segments, oldest first; every one but the last is sealed. A copy: later changes do not show. */
  segmentsSnapshot(): LogSegment[] {
    return this.segments.slice();
  }

  updateConfig(config: LogConfig): void {
    this.config = config;
  }

  onHighWatermark(listener: (highWatermark: number) => void): () => void {
    const entry = { listener, index: -1 };
    this.listeners.add(entry);
    return () => void this.listeners.remove(entry);
  }

  /**
   * Validates every batch, assigns offsets by patching each batch's baseOffset in `batches` in place,
   * and writes them with one system call. acks=all resolves after the group commit covering them.
   *
   * Batches of idempotent or transactional producers are checked against the producer state and
   * the state updated in the same synchronous step as the write, so no other append can come in
   * between; a retried batch is answered with its original offsets and not written again.
   * `rules` relax validation for batches the broker made: delayed delivery's placeholders hold
   * no records (broker/delay/), a batch sealed by `Broker.appendBuilt` has a CRC no one could change.
   */
  append(batches: Uint8Array, acks: AcksValue, origin: AppendOriginValue = AppendOrigin.client, rules: ProduceRules = {}): Promise<AppendResult> {
    try {
      this.assertUsable();
      validateBatches(batches, this.config.maxMessageBytes, this.topicPartition, rules);
      if (origin === AppendOrigin.client) this.assertClientAppendAllowed(batches, acks);
    } catch (error) {
      return Promise.reject(error);
    }
    const dv = new DataView(batches.buffer, batches.byteOffset, batches.byteLength);
    const baseOffset = this.logEndOffset;
    let nextOffset = baseOffset;
    let stateful = origin !== AppendOrigin.client;
    for (let pos = 0; pos < batches.length; pos += batchSizeAt(dv, pos)) {
      nextOffset += dv.getInt32(pos + BatchOffset.lastOffsetDelta) + 1;
      if (dv.getInt32(pos + BatchOffset.producerId) >= 0 || (dv.getInt16(pos + BatchOffset.attributes) & BatchAttribute.control) !== 0) stateful = true;
    }
    let prepared: PreparedAppend | undefined;
    if (stateful) {
      try {
        const outcome = this.producerState.prepare(batches, baseOffset, origin, this.clock.nowMs());
        if (outcome.kind === 'duplicate') return this.duplicateResult(outcome.baseOffset, outcome.lastOffset, acks);
        prepared = outcome;
      } catch (error) {
        return Promise.reject(error);
      }
    }
    const logAppendTimeMs = origin === AppendOrigin.client && this.config.messageTimestampType === MessageTimestampType.logAppendTime ? this.clock.nowMs() : -1;
    let segment = this.active;
    try {
      if (logAppendTimeMs >= 0) stampLogAppendTime(batches, logAppendTimeMs);
      if (this.shouldRoll(segment, batches.length, nextOffset - 1)) segment = this.roll();
      for (let pos = 0, offset = baseOffset; pos < batches.length; pos += batchSizeAt(dv, pos)) {
        writeInt64(dv, pos + BatchOffset.baseOffset, offset);
        offset += dv.getInt32(pos + BatchOffset.lastOffsetDelta) + 1;
      }
      this.fs.writeSync(this.activeFd, batches, segment.sizeBytes);
    } catch (error) {
      return Promise.reject(this.takeOffline(`write to ${segment.logPath} failed: ${reasonOf(error)}`));
    }
    for (let pos = 0, position = segment.sizeBytes; pos < batches.length; ) {
      const size = batchSizeAt(dv, pos);
      const batchBase = readInt64(dv, pos);
      segment.recordBatch(batchBase, batchBase + dv.getInt32(pos + BatchOffset.lastOffsetDelta), position, size, readInt64(dv, pos + BatchOffset.maxTimestamp), this.config.indexIntervalBytes);
      pos += size;
      position += size;
    }
    if (prepared) {
      for (const txn of this.producerState.apply(prepared)) {
        if (txn.isAborted) segment.abortedTxns.push({ producerId: txn.producerId, firstOffset: txn.firstOffset, lastOffset: txn.lastOffset, lastStableOffset: txn.lastStableOffset });
      }
    }
    if (segment.firstAppendMs < 0) segment.firstAppendMs = this.clock.nowMs();
    const result: AppendResult = { baseOffset, lastOffset: nextOffset - 1, logAppendTimeMs, logStartOffset: this.logStartOffset };
    if (acks !== Acks.all) {
      this.startCommit();
      return Promise.resolve(result);
    }
    const done = this.waitFor(nextOffset).then(() => result);
    this.startCommit();
    return done;
  }

  /**
   * The checks `append` makes of a client's batches, without writing anything: delayed delivery
   * (broker/delay/) runs them on a batch it keeps back before it writes the batch elsewhere.
   */
  checkClientAppend(batches: Uint8Array, acks: AcksValue): void {
    this.assertUsable();
    validateBatches(batches, this.config.maxMessageBytes, this.topicPartition);
    this.assertClientAppendAllowed(batches, acks);
  }

  /** A producer's append against the topic's min.insync.replicas and CreateTime timestamp bounds. */
  private assertClientAppendAllowed(batches: Uint8Array, acks: AcksValue): void {
    if (acks === Acks.all && this.config.minInsyncReplicas > 1) {
      throw new KafkaError(
        'NOT_ENOUGH_REPLICAS',
        `${this.topicPartition} has 1 in-sync replica, fewer than its min.insync.replicas ${this.config.minInsyncReplicas}: acks=all cannot be satisfied (acks=1 or 0 can)`,
      );
    }
    if (this.config.messageTimestampType === MessageTimestampType.createTime) {
      assertTimestampsInBounds(
        batches,
        { beforeMaxMs: this.config.messageTimestampBeforeMaxMs, afterMaxMs: this.config.messageTimestampAfterMaxMs },
        this.clock.nowMs(),
        this.topicPartition,
      );
    }
  }

  /** A retry of a batch already in the log: its original offsets, once they are as durable as `acks` asks. */
  private duplicateResult(baseOffset: number, lastOffset: number, acks: AcksValue): Promise<AppendResult> {
    const result: AppendResult = { baseOffset, lastOffset, logAppendTimeMs: -1, logStartOffset: this.logStartOffset };
    if (acks !== Acks.all) return Promise.resolve(result);
    const done = this.waitFor(lastOffset + 1).then(() => result);
    this.startCommit();
    return done;
  }

  /** Forgets idle producers without an open transaction (`producer.id.expiration.ms`); returns how many. */
  expireProducers(expirationMs: number): number {
    return this.producerState.expire(this.clock.nowMs(), expirationMs);
  }

  /** Resolves once everything appended so far is fsynced. */
  flush(): Promise<void> {
    if (this.offlineError) return Promise.reject(this.offlineError);
    const done = this.waitFor(this.logEndOffset);
    this.startCommit();
    return done;
  }

  /**
   * Stored batches from the one containing `offset`: whole batches entirely below
   * `upperBoundOffset` (default and cap: the high watermark), at most `maxBytes` except that the
   * first batch is always whole. Reads a single segment per call.
   */
  read(offset: number, maxBytes: number, upperBoundOffset?: number): ReadResult {
    this.assertUsable();
    const highWatermark = this.syncedOffset;
    const logStartOffset = this.logStartOffset;
    if (offset < logStartOffset || offset > highWatermark) {
      throw new KafkaError(
        'OFFSET_OUT_OF_RANGE',
        `offset ${offset} is out of range for ${this.topicPartition}: log start ${logStartOffset}, high watermark ${highWatermark}`,
      );
    }
    const upper = Math.min(upperBoundOffset ?? highWatermark, highWatermark);
    const empty = { records: new Uint8Array(0), highWatermark, logStartOffset };
    if (offset >= upper) return empty;
    // Headers the cleaner kept only for producer state hold no record. An answer made of nothing
    // else stalls clients that advance by records (kafkajs), so the read goes on past them, and
    // returns them only when nothing else lies below the bound.
    let skipped: Uint8Array | undefined;
    let from = offset;
    for (let i = this.segmentIndexFor(offset); i < this.segments.length && from < upper; ) {
      const records = readBatches(this.sourceOf(this.segments[i]!), from, maxBytes, upper, this.config.indexIntervalBytes);
      if (records === undefined) {
        i++;
        continue;
      }
      if (records.length > 0 && holdsOnlyEmptyBatches(records)) {
        skipped = records;
        from = endOffsetOf(records);
        continue;
      }
      return { records: records.length === 0 && skipped !== undefined ? skipped : records, highWatermark, logStartOffset };
    }
    return skipped === undefined ? empty : { records: skipped, highWatermark, logStartOffset };
  }

  /**
   * A read_committed read (KIP-98): batches below the last stable offset only, with the data
   * batches of aborted transactions left out (their markers stay, so readers move past them) and
   * the aborted transactions overlapping the returned range listed. When everything read belongs
   * to aborted transactions it reads on, so a reader never gets an empty answer below the LSO.
   */
  readCommitted(offset: number, maxBytes: number): CommittedReadResult {
    const lastStableOffset = this.lastStableOffset;
    let from = offset;
    for (;;) {
      const read = this.read(from, maxBytes, lastStableOffset);
      if (read.records.length === 0) return committedRead(read, read.records, lastStableOffset, NO_ABORTED_TRANSACTIONS);
      const firstOffset = readInt64(new DataView(read.records.buffer, read.records.byteOffset, read.records.byteLength), 0);
      const endOffset = endOffsetOf(read.records);
      const aborted = this.abortedTransactions(firstOffset, endOffset);
      if (aborted.length === 0) return committedRead(read, read.records, lastStableOffset, NO_ABORTED_TRANSACTIONS);
      const kept = omitAbortedBatches(read.records, aborted);
      if (kept.length > 0) {
        return committedRead(read, kept, lastStableOffset, aborted.map((t) => ({ producerId: t.producerId, firstOffset: t.firstOffset })));
      }
      from = endOffset;
    }
  }

  /** Aborted transactions overlapping [fromOffset, upperBoundOffset), from the segments' txn indexes. */
  abortedTransactions(fromOffset: number, upperBoundOffset: number): AbortedTxn[] {
    const out: AbortedTxn[] = [];
    for (let i = this.segmentIndexFor(fromOffset); i < this.segments.length; i++) {
      if (collectAbortedTxns(this.segments[i]!.abortedTxns, fromOffset, upperBoundOffset, out)) break;
    }
    return out;
  }

  /**
   * The first batch at or after `fromOffset` and below the high watermark whose maxTimestamp is at
   * least `timestampMs`. (A batch's records may all be older: a control batch's, or one the
   * cleaner emptied; the caller then looks again from the batch's end.)
   */
  firstBatchAtOrAfterTimestamp(timestampMs: number, fromOffset = 0): { bytes: Uint8Array; baseOffset: number; lastOffset: number } | undefined {
    this.assertUsable();
    const highWatermark = this.syncedOffset;
    for (let i = this.segmentIndexFor(fromOffset); i < this.segments.length; i++) {
      const segment = this.segments[i]!;
      if (segment.baseOffset >= highWatermark) return undefined;
      if (segment.maxTimestamp < timestampMs) continue;
      const source = this.sourceOf(segment);
      const relativeOffset = segment.timeIndex
        ? segment.timeIndex.lookupBefore(timestampMs)
        : this.sealedTimeIndexLookup(segment, timestampMs);
      const startOffset = Math.max(fromOffset, relativeOffset < 0 ? segment.baseOffset : segment.baseOffset + relativeOffset + 1);
      let found: { bytes: Uint8Array; baseOffset: number; lastOffset: number } | undefined;
      let pastHighWatermark = false;
      walkHeaders(source, source.positionFor(startOffset), (header) => {
        if (header.lastOffset >= highWatermark) {
          pastHighWatermark = true;
          return true;
        }
        if (header.lastOffset < startOffset || header.maxTimestamp < timestampMs) return false;
        found = { bytes: readBatchAt(source, header), baseOffset: header.baseOffset, lastOffset: header.lastOffset };
        return true;
      });
      if (found || pastHighWatermark) return found;
    }
    return undefined;
  }

  /**
   * Deletes the oldest whole segments (never the active one, never above the high watermark) whose
   * newest timestamp is older than retentionMs, or while the partition exceeds retentionBytes, when
   * the cleanup policy includes delete (a compact-only log keeps every segment; the cleaner bounds
   * it). The log start offset moves to at least the first remaining segment's base offset.
   */
  applyRetention(): Promise<number> {
    return this.exclusive(async () => {
      if (this.offlineError || this.closed || !this.config.delete) return 0;
      const { retentionMs, retentionBytes } = this.config;
      let deleted = 0;
      while (this.segments.length > 1) {
        const oldest = this.segments[0]!;
        if (this.segments[1]!.baseOffset > this.syncedOffset) break;
        const newestMs = oldest.maxTimestamp >= 0 ? oldest.maxTimestamp : (await this.fs.stat(oldest.logPath)).modifiedMs;
        if (this.segments[0] !== oldest || this.closed) break;
        const expired = retentionMs >= 0 && this.clock.nowMs() - newestMs > retentionMs;
        const oversized = retentionBytes >= 0 && this.sizeBytes - oldest.sizeBytes >= retentionBytes;
        if (!expired && !oversized) break;
        await this.deleteOldestSegment();
        deleted++;
      }
      if (deleted > 0) await this.fs.fsyncDir(this.dir);
      return deleted;
    });
  }

  /**
   * Rolls the active segment once it is older than segment.ms (or a compacted log's
   * max.compaction.lag.ms) even when no append comes to do it, as Kafka's documentation of
   * segment.ms promises: retention and the cleaner only reach sealed segments. Returns whether it rolled.
   */
  rollIfAged(): boolean {
    if (this.offlineError || this.closed) return false;
    const active = this.active;
    if (active.isEmpty || this.clock.nowMs() - active.firstAppendMs <= maxSegmentAgeMs(this.config)) return false;
    try {
      this.roll();
    } catch (error) {
      this.takeOffline(`rolling ${active.logPath} failed: ${reasonOf(error)}`);
      return false;
    }
    this.startCommit();
    return true;
  }

  /**
   * Runs a cleaner pass with the segment list to itself (retention waits; appends, rolls and reads
   * go on, and only ever add segments after the ones it works on). The pass gets `swap`, which
   * replaces consecutive sealed segments below the high watermark with one cleaned segment whose
   * files the cleaner wrote as `<name>.cleaned` beside them, by the protocol of
   * cleaner/segment-swap.ts. Readers see the old segments until the new one is committed on disk,
   * then the new one; both stay readable through descriptors opened before the first rename. A
   * swap that fails before its commit point leaves the old segments, after it the new one.
   */
  runCleanerPass<T>(pass: (swap: (replaced: readonly LogSegment[], cleaned: LogSegment) => Promise<void>) => Promise<T>): Promise<T> {
    return this.exclusive(() => pass((replaced, cleaned) => this.swapSegments(replaced, cleaned)));
  }

  private async swapSegments(replaced: readonly LogSegment[], cleaned: LogSegment): Promise<void> {
    this.assertUsable();
    const first = replaced.length === 0 ? -1 : this.segments.indexOf(replaced[0]!);
    const next = this.segments[first + replaced.length];
    if (
      first < 0 ||
      replaced.some((s, i) => this.segments[first + i] !== s) ||
      next === undefined ||
      next.baseOffset > this.syncedOffset ||
      cleaned.baseOffset !== replaced[0]!.baseOffset ||
      cleaned.nextOffset !== next.baseOffset ||
      cleaned.offsetIndex !== undefined
    ) {
      await removeCleaned(this.fs, cleaned);
      throw new Error(`invariant broken: cleaned segment ${cleaned.logPath} does not replace consecutive sealed segments of ${this.topicPartition}`);
    }
    for (const segment of replaced) this.sealedHandles.pin(segment);
    this.sealedHandles.pin(cleaned, CLEANED_SUFFIX);
    try {
      await commitSwap(this.fs, this.dir, replaced, cleaned);
    } catch (error) {
      if (error instanceof SwapError && error.committed) {
        // The new segment is the one on disk; its index files may keep their .cleaned names
        // until recovery renames them, so it stays pinned.
        this.switchSegments(first, replaced, cleaned);
      } else if (!(error instanceof SwapError) || error.rolledBack) {
        this.sealedHandles.unpin(cleaned);
        for (const segment of replaced) this.sealedHandles.unpin(segment);
      }
      // Otherwise the old segments' files may still carry .deleted names: they stay pinned
      // (readable) and recovery restores the names at the next open.
      throw error;
    }
    this.switchSegments(first, replaced, cleaned);
    this.sealedHandles.unpin(cleaned);
    await finishSwap(this.fs, this.dir, replaced);
  }

  private switchSegments(first: number, replaced: readonly LogSegment[], cleaned: LogSegment): void {
    this.segments.splice(first, replaced.length, cleaned);
    for (const segment of replaced) {
      this.sealedHandles.forget(segment);
      this.sealedHandles.unpin(segment);
    }
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.maintenance.then(task);
    this.maintenance = run.catch(() => undefined);
    return run;
  }

  /**
   * DeleteRecords (KIP-107): moves the log start offset up to `offset` (at most the high
   * watermark) and deletes the sealed segments wholly below it. Readers get OFFSET_OUT_OF_RANGE
   * below the new start at once; the caller makes the new start durable (the log start offset
   * checkpoint) before it answers, since the first segment may still hold the records below it.
   * Returns the new log start offset (Kafka's low watermark).
   */
  async deleteRecordsBefore(offset: number): Promise<number> {
    this.assertUsable();
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > this.syncedOffset) {
      throw new KafkaError(
        'OFFSET_OUT_OF_RANGE',
        `cannot delete records of ${this.topicPartition} before offset ${offset}: it must lie between 0 and the high watermark ${this.syncedOffset}`,
      );
    }
    if (offset <= this.startOffset) return this.startOffset;
    this.startOffset = offset;
    return this.exclusive(async () => {
      let deleted = 0;
      while (this.segments.length > 1 && this.segments[1]!.baseOffset <= this.startOffset) {
        await this.deleteOldestSegment();
        deleted++;
      }
      if (deleted > 0) await this.fs.fsyncDir(this.dir);
      return this.startOffset;
    });
  }

  /** Drops the first (sealed) segment from the log, then its files; the caller fsyncs the directory. */
  private async deleteOldestSegment(): Promise<void> {
    const oldest = this.segments.shift()!;
    this.startOffset = Math.max(this.startOffset, this.segments[0]!.baseOffset);
    this.sealedHandles.forget(oldest);
    this.sealedHandles.unpin(oldest);
    // The .log goes first: a crash in between leaves stray index files, which open removes.
    for (const path of [oldest.logPath, oldest.indexPath, oldest.timeIndexPath, oldest.txnIndexPath]) {
      if (await this.fs.exists(path)) await this.fs.unlink(path);
    }
  }

  /** Fsyncs everything, closes every file, and returns the recovery point to checkpoint. */
  async close(): Promise<number> {
    if (this.closed) return this.syncedOffset;
    if (!this.offlineError) {
      await this.flush().catch(() => undefined);
      while (this.committing || this.pendingSealed.length > 0 || this.dirNeedsSync) {
        if (this.offlineError) break;
        this.startCommit();
        await this.commitInFlight;
      }
      if (!this.offlineError) {
        await this.snapshotWork;
        await this.writeCloseState().catch(() => undefined);
      }
    }
    await this.snapshotWork;
    await this.release();
    return this.syncedOffset;
  }

  /** Closes the log without flushing and removes its directory. */
  async delete(): Promise<void> {
    if (!this.closed) await this.release();
    await this.fs.removeDirectory(this.dir);
  }

  /**
   * A clean close leaves the active segment's `.txnindex` and a snapshot at the log end, so the
   * next open replays nothing. A snapshot is never newer than what its `.txnindex` files cover.
   */
  private async writeCloseState(): Promise<void> {
    const active = this.active;
    if (active.abortedTxns.length > 0) await writeTxnIndexFile(this.fs, active);
    else if (await this.fs.exists(active.txnIndexPath)) await this.fs.unlink(active.txnIndexPath);
    await this.writeSnapshot(this.logEndOffset, encodeSnapshot(this.logEndOffset, this.producerState.allEntries()));
  }

  /** Snapshot writes run one after another; a failed one only means a longer replay at the next open. */
  private queueSnapshot(offset: number, bytes: Uint8Array): void {
    this.snapshotWork = this.snapshotWork.then(() => this.writeSnapshot(offset, bytes)).catch(() => undefined);
  }

  private async writeSnapshot(offset: number, bytes: Uint8Array): Promise<void> {
    await writeFileAtomic(this.fs, snapshotPath(this.dir, offset), bytes);
    const offsets = await listSnapshotOffsets(this.fs, this.dir);
    for (const old of offsets.slice(RETAINED_SNAPSHOTS)) await this.fs.unlink(snapshotPath(this.dir, old));
  }

  private async release(): Promise<void> {
    this.closed = true;
    while (this.committing) await this.commitInFlight;
    this.rejectWaiters(this.offlineError ?? new KafkaError('KAFKA_STORAGE_ERROR', `${this.topicPartition} is closed`));
    const fds = [this.activeFd, ...this.pendingSealed.map((target) => target.fd)];
    this.pendingSealed = [];
    this.sealedHandles.closeAll();
    for (const fd of fds) {
      try {
        this.fs.closeSync(fd);
      } catch {
        // Closing cannot lose data that was not already lost; the partition is going away.
      }
    }
  }

  private assertUsable(): void {
    if (this.offlineError) throw this.offlineError;
    if (this.closed) throw new KafkaError('KAFKA_STORAGE_ERROR', `${this.topicPartition} is closed`);
  }

  private shouldRoll(segment: LogSegment, incomingBytes: number, lastOffset: number): boolean {
    if (segment.isEmpty) return false;
    const indexFull =
      (segment.offsetIndex?.entries ?? 0) >= Math.floor(this.config.segmentIndexBytes / OFFSET_INDEX_ENTRY_BYTES);
    return (
      segment.sizeBytes + incomingBytes > this.config.segmentBytes ||
      segment.sizeBytes + incomingBytes > MAX_RELATIVE_OFFSET ||
      this.clock.nowMs() - segment.firstAppendMs > maxSegmentAgeMs(this.config) ||
      lastOffset - segment.baseOffset > MAX_RELATIVE_OFFSET ||
      indexFull
    );
  }

  /**
   * Seals the active segment (writes its index files) and starts a new one at the log end. The old
   * files and the directory are fsynced by the next group commit, before the high watermark can
   * move into the new segment.
   */
  private roll(): LogSegment {
    const old = this.active;
    old.completeTimeIndex();
    const indexBytes = old.offsetIndex!.encode();
    const timeIndexBytes = old.timeIndex!.encode();
    const indexFd = this.fs.openSync(old.indexPath, 'create');
    this.pendingSealed.push({ fd: this.activeFd, path: old.logPath, closeAfterSync: true });
    this.pendingSealed.push({ fd: indexFd, path: old.indexPath, closeAfterSync: true });
    this.fs.writeSync(indexFd, indexBytes, 0);
    const timeIndexFd = this.fs.openSync(old.timeIndexPath, 'create');
    this.pendingSealed.push({ fd: timeIndexFd, path: old.timeIndexPath, closeAfterSync: true });
    this.fs.writeSync(timeIndexFd, timeIndexBytes, 0);
    if (old.abortedTxns.length > 0) {
      const txnIndexFd = this.fs.openSync(old.txnIndexPath, 'create');
      this.pendingSealed.push({ fd: txnIndexFd, path: old.txnIndexPath, closeAfterSync: true });
      this.fs.writeSync(txnIndexFd, encodeTxnIndex(old.abortedTxns), 0);
    }
    old.seal();
    this.pendingSnapshot = { offset: old.nextOffset, bytes: encodeSnapshot(old.nextOffset, this.producerState.allEntries()) };
    const segment = new LogSegment(this.dir, old.nextOffset);
    this.activeFd = this.fs.openSync(segment.logPath, 'create');
    this.segments.push(segment);
    this.dirNeedsSync = true;
    return segment;
  }

  private waitFor(endOffset: number): Promise<void> {
    if (endOffset <= this.syncedOffset) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ endOffset, resolve, reject }));
  }

  /**
   * Group commit: one fsync covers every append before it; while it runs, later appends wait and
   * the next commit starts as soon as this one returns. Never more than one commit in flight.
   */
  private startCommit(): void {
    if (this.committing || this.offlineError || this.closed) return;
    const target = this.logEndOffset;
    if (target === this.syncedOffset && this.pendingSealed.length === 0 && !this.dirNeedsSync) return;
    const files = this.pendingSealed;
    this.pendingSealed = [];
    files.push({ fd: this.activeFd, path: this.active.logPath, closeAfterSync: false });
    const syncDir = this.dirNeedsSync;
    this.dirNeedsSync = false;
    this.committing = true;
    this.commitInFlight = this.commit(files, syncDir, target);
  }

  private async commit(files: SyncTarget[], syncDir: boolean, target: number): Promise<void> {
    let current = this.dir;
    try {
      for (const file of files) {
        current = file.path;
        await this.fs.fsync(file.fd);
      }
      if (syncDir) {
        current = this.dir;
        await this.fs.fsyncDir(this.dir);
      }
    } catch (error) {
      this.committing = false;
      this.pendingSealed.push(...files.filter((file) => file.closeAfterSync));
      this.takeOffline(`fsync of ${current} failed: ${reasonOf(error)}`);
      return;
    }
    for (const file of files) if (file.closeAfterSync) this.fs.closeSync(file.fd);
    this.committing = false;
    const snapshot = this.pendingSnapshot;
    if (snapshot !== undefined && snapshot.offset <= target) {
      this.pendingSnapshot = undefined;
      this.queueSnapshot(snapshot.offset, snapshot.bytes);
    }
    if (this.closed) return;
    this.advance(target);
    this.startCommit();
  }

  private advance(target: number): void {
    const advanced = target > this.syncedOffset;
    if (advanced) this.syncedOffset = target;
    while (this.waitersHead < this.waiters.length && this.waiters[this.waitersHead]!.endOffset <= this.syncedOffset) {
      this.waiters[this.waitersHead++]!.resolve();
    }
    if (this.waitersHead === this.waiters.length) {
      this.waiters = [];
      this.waitersHead = 0;
    } else if (this.waitersHead > 1024) {
      this.waiters = this.waiters.slice(this.waitersHead);
      this.waitersHead = 0;
    }
    if (!advanced) return;
    // Backwards, because a listener may remove itself: the one swapped into its place was already called.
    const listeners = this.listeners.items;
    for (let i = listeners.length - 1; i >= 0; i--) listeners[i]?.listener(this.syncedOffset);
  }

  private takeOffline(reason: string): KafkaError {
    if (!this.offlineError) {
      this.offlineError = new KafkaError('KAFKA_STORAGE_ERROR', `${this.topicPartition} is offline: ${reason}`);
      this.rejectWaiters(this.offlineError);
    }
    return this.offlineError;
  }

  private rejectWaiters(error: KafkaError): void {
    const waiters = this.waiters.slice(this.waitersHead);
    this.waiters = [];
    this.waitersHead = 0;
    for (const waiter of waiters) waiter.reject(error);
  }

  private segmentIndexFor(offset: number): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.segments[mid]!.baseOffset <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private sourceOf(segment: LogSegment): SegmentSource {
    const fs = this.fs;
    const base = segment.baseOffset;
    if (segment.offsetIndex) {
      const index = segment.offsetIndex;
      const positionFor = (offset: number): number => {
        const recent = segment.recentBatchPosition(offset);
        return recent >= 0 ? recent : index.lookup(offset - base);
      };
      return { fs, fd: this.activeFd, endPosition: segment.sizeBytes, positionFor };
    }
    const handles = this.sealedHandles.get(segment);
    return {
      fs,
      fd: handles.logFd,
      endPosition: segment.sizeBytes,
      positionFor: (offset) =>
        handles.indexFd === undefined ? 0 : lookupOffsetIndexFile(fs, handles.indexFd, segment.indexFileEntries, offset - base),
    };
  }

  private sealedTimeIndexLookup(segment: LogSegment, timestampMs: number): number {
    const fd = this.sealedHandles.timeIndexFd(segment);
    return fd === undefined ? -1 : lookupTimeIndexFileBefore(this.fs, fd, segment.timeIndexFileEntries, timestampMs);
  }
}
