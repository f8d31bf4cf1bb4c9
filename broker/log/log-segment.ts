import { join } from 'node:path';
import { OffsetIndex } from './offset-index.ts';
import { TimeIndex } from './time-index.ts';
import { type AbortedTxn, TXN_INDEX_SUFFIX } from './transaction-index.ts';

export const LOG_SUFFIX = '.log';
export const INDEX_SUFFIX = '.index';
export const TIME_INDEX_SUFFIX = '.timeindex';
/** Batches whose positions the active segment remembers for readers at the tail. */
const RECENT_BATCHES = 32;

/** Kafka's segment file name: the base offset as 20 zero-padded digits, then the suffix. */
export function segmentFileName(baseOffset: number, suffix: string): string {
  return `${String(baseOffset).padStart(20, '0')}${suffix}`;
}

/** The base offset named by a segment file name, or undefined for any other file. */
export function parseSegmentFileName(name: string, suffix: string): number | undefined {
  if (!name.endsWith(suffix)) return undefined;
  const digits = name.slice(0, -suffix.length);
  return /^\d{20}$/.test(digits) && Number.isSafeInteger(Number(digits)) ? Number(digits) : undefined;
}

/**
 * One segment: `<base>.log` holding batches with offsets base..nextOffset-1, and its indexes.
 * The `.log` file is RecordBatch v2 batches back to back, byte for byte as producers sent them
 * except for the baseOffset the broker patched in; nothing else (no framing, no padding). A
 * segment the cleaner rewrote holds fewer batches and records, each at its original offset, so
 * its offsets have gaps; a sealed segment spans up to the next segment's base offset whatever
 * its last batch.
 * The active segment keeps its indexes in memory (written to disk when it is rolled or closed);
 * sealed segments keep only entry counts and are looked up in their index files.
 */
export class LogSegment {
  readonly logPath: string;
  readonly indexPath: string;
  readonly timeIndexPath: string;
  readonly txnIndexPath: string;
  sizeBytes = 0;
  nextOffset: number;
  /** Largest batch maxTimestamp so far, -1 when there is none. */
  maxTimestamp = -1;
  private offsetOfMaxTimestamp: number;
  private bytesSinceLastIndexEntry = 0;
  /** Clock time the segment's age is measured from (its first append), -1 while empty. */
  firstAppendMs = -1;
  /** In memory while active; undefined once sealed. */
  offsetIndex: OffsetIndex | undefined = new OffsetIndex();
  timeIndex: TimeIndex | undefined = new TimeIndex();
  /** Entry counts of the index files of a sealed segment. */
  indexFileEntries = 0;
  timeIndexFileEntries = 0;
  /** Transactions whose ABORT marker lies in this segment, in marker order (the `.txnindex` content). */
  abortedTxns: AbortedTxn[] = [];
  /**
   * Base offsets and positions of the last RECENT_BATCHES batches (a ring, oldest at `recentHead`),
   * so a reader at the tail starts at its batch instead of at the sparse index entry up to one
   * index interval before it, and reads only the new bytes.
   */
  private readonly recentBaseOffsets = new Float64Array(RECENT_BATCHES);
  private readonly recentPositions = new Float64Array(RECENT_BATCHES);
  private recentCount = 0;
  private recentHead = 0;

  constructor(
    dir: string,
    readonly baseOffset: number,
  ) {
    this.logPath = join(dir, segmentFileName(baseOffset, LOG_SUFFIX));
    this.indexPath = join(dir, segmentFileName(baseOffset, INDEX_SUFFIX));
    this.timeIndexPath = join(dir, segmentFileName(baseOffset, TIME_INDEX_SUFFIX));
    this.txnIndexPath = join(dir, segmentFileName(baseOffset, TXN_INDEX_SUFFIX));
    this.nextOffset = baseOffset;
    this.offsetOfMaxTimestamp = baseOffset;
  }

  get isEmpty(): boolean {
    return this.sizeBytes === 0;
  }

  /** Accounts for a batch just placed at `position` (Kafka's LogSegment.append index logic). */
  recordBatch(
    baseOffset: number,
    lastOffset: number,
    position: number,
    sizeBytes: number,
    maxTimestamp: number,
    indexIntervalBytes: number,
  ): void {
    if (!this.offsetIndex || !this.timeIndex) throw new Error(`segment ${this.logPath} is sealed`);
    if (maxTimestamp > this.maxTimestamp) {
      this.maxTimestamp = maxTimestamp;
      this.offsetOfMaxTimestamp = lastOffset;
    }
    if (this.bytesSinceLastIndexEntry > indexIntervalBytes) {
      this.offsetIndex.append(lastOffset - this.baseOffset, position);
      this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp - this.baseOffset);
      this.bytesSinceLastIndexEntry = 0;
    }
    this.bytesSinceLastIndexEntry += sizeBytes;
    const slot = (this.recentHead + this.recentCount) % RECENT_BATCHES;
    this.recentBaseOffsets[slot] = baseOffset;
    this.recentPositions[slot] = position;
    if (this.recentCount < RECENT_BATCHES) this.recentCount++;
    else this.recentHead = (this.recentHead + 1) % RECENT_BATCHES;
    this.sizeBytes = position + sizeBytes;
    this.nextOffset = lastOffset + 1;
  }

  /** Position of the batch holding `offset` when it is one of the recent batches, else -1. */
  recentBatchPosition(offset: number): number {
    if (this.recentCount === 0 || offset < this.recentBaseOffsets[this.recentHead]! || offset >= this.nextOffset) return -1;
    for (let i = this.recentCount - 1; i >= 0; i--) {
      const slot = (this.recentHead + i) % RECENT_BATCHES;
      if (this.recentBaseOffsets[slot]! <= offset) return this.recentPositions[slot]!;
    }
    return -1;
  }

  /** Adds the final time index entry so the last entry holds the segment's largest timestamp. */
  completeTimeIndex(): void {
    this.timeIndex?.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp - this.baseOffset);
  }

  /** Drops the in-memory indexes once their files are written. */
  seal(): void {
    if (!this.offsetIndex || !this.timeIndex) throw new Error(`segment ${this.logPath} is already sealed`);
    this.indexFileEntries = this.offsetIndex.entries;
    this.timeIndexFileEntries = this.timeIndex.entries;
    this.offsetIndex = undefined;
    this.timeIndex = undefined;
  }
}
