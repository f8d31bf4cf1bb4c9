import type { Clock } from '../clock.ts';
import type { FileSystem } from '../file-system.ts';
import { BATCH_HEADER_BYTES, BatchOffset, readInt64 } from '../../../sdk/record/batch-header.ts';
import type { LogSegment } from '../log-segment.ts';
import type { PartitionLog } from '../partition-log.ts';
import { readCleanerCheckpoint } from './cleaner-checkpoint.ts';
import { CleanerAbortedError, CleanerPacer } from './cleaner-io.ts';
import { cleanPartitionLog, type CleanPassResult } from './cleaner-pass.ts';
import type { CleanerPartitionStatus } from './cleaner-status.ts';
import { type DirtyRange, dirtyRange } from './dirty-range.ts';

/** Broker-wide cleaner settings, Kafka's `log.cleaner.*`. */
export interface CleanerSettings {
  dedupeBufferSizeBytes: number;
  ioBufferLoadFactor: number;
  ioBufferSizeBytes: number;
  ioMaxBytesPerSecond: number;
  backoffMs: number;
}

export interface CleanablePartition {
  topic: string;
  partition: number;
  log: PartitionLog;
}

export interface LogCleanerOptions {
  fs: FileSystem;
  clock: Clock;
  settings: CleanerSettings;
  /** The partitions of compacted topics right now. */
  partitions: () => Iterable<CleanablePartition>;
}

interface PartitionState {
  status: CleanerPartitionStatus;
  /** From the checkpoint file on first sight, then from the passes. */
  checkpointLoaded: boolean;
  /** When a kept batch's delete horizon passes, a pass can drop its tombstones or marker. */
  nextDeleteHorizonMs: number;
}

interface Candidate {
  entry: CleanablePartition;
  state: PartitionState;
  range: DirtyRange;
  horizonDue: boolean;
}

/**
 * The background cleaner (Kafka's LogCleaner with its LogCleanerManager, one cleaner thread): each
 * round it looks at every compacted partition, rolls active segments past their age, and cleans
 * the one most in need: the one whose max.compaction.lag.ms is most overdue, else the one with the
 * largest dirty ratio above its min.cleanable.dirty.ratio, else one whose tombstones or markers
 * have reached their delete horizon (Kafka would leave those until the log is dirty again). With
 * nothing to clean it sleeps log.cleaner.backoff.ms.
 *
 * A pass that fails marks its partition failed (in its status) and is not retried until the broker
 * restarts; the partition's log is left readable and writable as it was (see PartitionLog.runCleanerPass).
 */
export class LogCleaner {
  private readonly states = new WeakMap<PartitionLog, PartitionState>();
  private readonly firstBatchTimestamps = new WeakMap<LogSegment, number>();
  private current: { log: PartitionLog; pacer: CleanerPacer } | undefined;
  private work: Promise<unknown> = Promise.resolve();
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly options: LogCleanerOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.runLoop();
  }

  /** Stops the loop, aborting a pass in progress (which leaves its partition as it was), and waits for it. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.current !== undefined) this.current.pacer.aborted = true;
    this.wake?.();
    await this.loop;
    await this.work.catch(() => undefined);
  }

  /** Aborts a pass on one of `logs` and waits until none runs (before a topic is deleted). */
  async forget(logs: readonly PartitionLog[]): Promise<void> {
    if (this.current !== undefined && logs.includes(this.current.log)) this.current.pacer.aborted = true;
    await this.work.catch(() => undefined);
  }

  /** The figures of a compacted partition the cleaner has looked at. */
  status(log: PartitionLog): CleanerPartitionStatus {
    return this.stateOf(log).status;
  }

  /**
   * One round of the loop: rolls aged active segments, then cleans the partition most in need, if
   * any. Resolves with the partition cleaned (undefined when none was) once its pass has ended.
   */
  runRound(): Promise<CleanablePartition | undefined> {
    return this.serially(async () => {
      const candidates: Candidate[] = [];
      for (const entry of this.options.partitions()) {
        const { log } = entry;
        if (log.isUnusable) continue;
        // Once the roll is durable the high watermark has passed the sealed segment, so this round may clean it.
        if (log.rollIfAged()) await log.flush().catch(() => undefined);
        const state = this.stateOf(log);
        if (state.status.state === 'failed') continue;
        const candidate = await this.evaluate(entry, state);
        if (candidate !== undefined) candidates.push(candidate);
      }
      const due = (c: Candidate): boolean => c.range.maxCompactionDelayMs > 0 && c.range.cleanableBytes > 0;
      const dirty = (c: Candidate): boolean => c.range.dirtyRatio > c.entry.log.logConfig.minCleanableDirtyRatio;
      const pick =
        candidates.filter(due).sort((a, b) => b.range.maxCompactionDelayMs - a.range.maxCompactionDelayMs)[0] ??
        candidates.filter(dirty).sort((a, b) => b.range.dirtyRatio - a.range.dirtyRatio)[0] ??
        candidates.find((c) => c.horizonDue);
      if (pick === undefined) return undefined;
      await this.clean(pick.entry, pick.state, pick.range.dirtyRatio);
      return pick.entry;
    });
  }

  private serially<T>(task: () => Promise<T>): Promise<T> {
    const run = this.work.then(task);
    this.work = run.catch(() => undefined);
    return run;
  }

  private async runLoop(): Promise<void> {
    while (this.running) {
      const cleaned = await this.runRound().catch(() => undefined);
      if (!this.running) return;
      if (cleaned === undefined) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.options.settings.backoffMs);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
      }
    }
  }

  private stateOf(log: PartitionLog): PartitionState {
    let state = this.states.get(log);
    if (state === undefined) {
      state = {
        status: {
          state: 'idle',
          firstDirtyOffset: log.logStartOffset,
          dirtyRatio: 0,
          cleanableBytes: 0,
          passes: 0,
          errors: 0,
          lastError: null,
          lastPass: null,
          totals: { bytesRead: 0, bytesWritten: 0, recordsRemoved: 0, durationMs: 0 },
        },
        checkpointLoaded: false,
        nextDeleteHorizonMs: Number.POSITIVE_INFINITY,
      };
      this.states.set(log, state);
    }
    return state;
  }

  private async evaluate(entry: CleanablePartition, state: PartitionState): Promise<Candidate | undefined> {
    const { log } = entry;
    try {
      if (!state.checkpointLoaded) {
        state.status.firstDirtyOffset = (await readCleanerCheckpoint(this.options.fs, log.dir)).firstDirtyOffset;
        state.checkpointLoaded = true;
      }
      if (log.isUnusable) return undefined;
      const range = dirtyRange(
        { segments: log.segmentsSnapshot(), config: log.logConfig, logStartOffset: log.logStartOffset, logEndOffset: log.logEndOffset, lastStableOffset: log.lastStableOffset },
        state.status.firstDirtyOffset,
        this.options.clock.nowMs(),
        (segment) => this.firstBatchTimestampOf(segment),
      );
      state.status.dirtyRatio = range.dirtyRatio;
      state.status.cleanableBytes = range.cleanableBytes;
      return { entry, state, range, horizonDue: this.options.clock.nowMs() >= state.nextDeleteHorizonMs };
    } catch (error) {
      this.fail(state, error);
      return undefined;
    }
  }

  private async clean(entry: CleanablePartition, state: PartitionState, dirtyRatio: number): Promise<CleanPassResult | undefined> {
    const { log } = entry;
    if (log.isUnusable || state.status.state === 'failed') return undefined;
    const { settings, fs, clock } = this.options;
    const pacer = new CleanerPacer(settings.ioMaxBytesPerSecond);
    this.current = { log, pacer };
    state.status.state = 'cleaning';
    const startedMs = clock.nowMs();
    const started = performance.now();
    try {
      const result = await cleanPartitionLog(log, {
        fs,
        clock,
        dedupeBufferSizeBytes: settings.dedupeBufferSizeBytes,
        loadFactor: settings.ioBufferLoadFactor,
        ioBufferSizeBytes: settings.ioBufferSizeBytes,
        pacer,
        firstBatchTimestampOf: (segment) => this.firstBatchTimestampOf(segment),
      });
      const durationMs = performance.now() - started;
      const { status } = state;
      status.state = 'idle';
      status.passes++;
      status.firstDirtyOffset = Math.max(result.range.firstDirtyOffset, result.endOffset);
      status.lastPass = {
        startedMs,
        durationMs,
        bytesRead: result.bytesRead,
        bytesWritten: result.bytesWritten,
        recordsRead: result.recordsRead,
        recordsRemoved: result.recordsRemoved,
        batchesRemoved: result.batchesRemoved,
        segmentsCleaned: result.segmentsCleaned,
        endOffset: result.endOffset,
        bufferUtilization: result.bufferUtilization,
        dirtyRatio,
      };
      status.totals.bytesRead += result.bytesRead;
      status.totals.bytesWritten += result.bytesWritten;
      status.totals.recordsRemoved += result.recordsRemoved;
      status.totals.durationMs += durationMs;
      state.nextDeleteHorizonMs = result.nextDeleteHorizonMs;
      return result;
    } catch (error) {
      if (error instanceof CleanerAbortedError) state.status.state = 'idle';
      else this.fail(state, error);
      return undefined;
    } finally {
      this.current = undefined;
    }
  }

  private fail(state: PartitionState, error: unknown): void {
    state.status.state = 'failed';
    state.status.errors++;
    state.status.lastError = error instanceof Error ? error.message : String(error);
  }

  /** A sealed segment's first batch's maxTimestamp, read once from its header; -1 for an empty segment. */
  private firstBatchTimestampOf(segment: LogSegment): number {
    const cached = this.firstBatchTimestamps.get(segment);
    if (cached !== undefined) return cached;
    if (segment.sizeBytes < BATCH_HEADER_BYTES) return -1;
    const header = new Uint8Array(BATCH_HEADER_BYTES);
    let fd: number;
    try {
      fd = this.options.fs.openSync(segment.logPath, 'read');
    } catch {
      // Retention deleted the segment since the snapshot was taken: it is no longer dirty.
      return -1;
    }
    try {
      if (this.options.fs.readSync(fd, header, 0) !== BATCH_HEADER_BYTES) return -1;
    } finally {
      this.options.fs.closeSync(fd);
    }
    const timestamp = readInt64(new DataView(header.buffer), BatchOffset.maxTimestamp);
    this.firstBatchTimestamps.set(segment, timestamp);
    return timestamp;
  }
}
