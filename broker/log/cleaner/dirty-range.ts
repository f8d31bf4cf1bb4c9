import type { LogConfig } from '../log-config.ts';
import type { LogSegment } from '../log-segment.ts';

/** What a partition log tells the cleaner about where it may clean. */
export interface CleanableLogState {
  /** All segments, oldest first; the last one is the active segment. */
  segments: readonly LogSegment[];
  config: Readonly<LogConfig>;
  logStartOffset: number;
  logEndOffset: number;
  /** The last stable offset, at most the high watermark. */
  lastStableOffset: number;
}

/** Kafka's OffsetsToClean and LogToClean for one partition. */
export interface DirtyRange {
  /** Where the dirty section starts: the checkpoint, moved into the log when retention or truncation left it outside. */
  firstDirtyOffset: number;
  /** The base offset of the first segment the cleaner may not touch (it never cleans part of a segment). */
  firstUncleanableOffset: number;
  /** Bytes of the segments below the first dirty offset. */
  cleanBytes: number;
  /** Bytes of the segments from the one holding the first dirty offset up to the first uncleanable one. */
  cleanableBytes: number;
  /** cleanableBytes over all bytes considered, 0 for an empty log. */
  dirtyRatio: number;
  /** How long ago max.compaction.lag.ms made the oldest dirty record due; 0 when nothing is due. */
  maxCompactionDelayMs: number;
}

function segmentContaining(segments: readonly LogSegment[], offset: number): LogSegment {
  let found = segments[0]!;
  for (const segment of segments) {
    if (segment.baseOffset > offset) break;
    found = segment;
  }
  return found;
}

/**
 * Kafka's LogCleanerManager.cleanableOffsets: the cleaner stays below the last stable offset (so
 * below the high watermark and every open transaction), below the active segment, and below the
 * first dirty segment holding a record younger than min.compaction.lag.ms; rounded down to a
 * segment's base offset. `firstBatchTimestampOf` gives a segment's first batch's maxTimestamp
 * (Kafka's "earliest" time of a segment for max.compaction.lag.ms), -1 for an empty one.
 */
export function dirtyRange(log: CleanableLogState, checkpointFirstDirtyOffset: number, nowMs: number, firstBatchTimestampOf: (segment: LogSegment) => number): DirtyRange {
  const { segments, config } = log;
  const active = segments[segments.length - 1]!;
  const firstDirtyOffset =
    checkpointFirstDirtyOffset < log.logStartOffset || checkpointFirstDirtyOffset > log.logEndOffset ? log.logStartOffset : checkpointFirstDirtyOffset;
  const dirtySealed = segments.filter((s, i) => s !== active && segments[i + 1]!.baseOffset > firstDirtyOffset);
  let uncleanable = Math.min(log.lastStableOffset, active.baseOffset);
  if (config.minCompactionLagMs > 0) {
    const young = dirtySealed.find((s) => s.maxTimestamp > nowMs - config.minCompactionLagMs);
    if (young !== undefined) uncleanable = Math.min(uncleanable, young.baseOffset);
  }
  const firstUncleanableOffset = segmentContaining(segments, Math.max(uncleanable, log.logStartOffset)).baseOffset;
  let cleanBytes = 0;
  let cleanableBytes = 0;
  const cleanableFrom = Math.min(firstDirtyOffset, firstUncleanableOffset);
  for (let i = 0; i < segments.length - 1; i++) {
    const segment = segments[i]!;
    if (segment.baseOffset < firstDirtyOffset) cleanBytes += segment.sizeBytes;
    if (segment.baseOffset < firstUncleanableOffset && segments[i + 1]!.baseOffset > cleanableFrom) cleanableBytes += segment.sizeBytes;
  }
  const total = cleanBytes + cleanableBytes;
  let earliestDirtyMs = Number.POSITIVE_INFINITY;
  for (const segment of dirtySealed) {
    const timestamp = firstBatchTimestampOf(segment);
    if (timestamp > 0 && timestamp < earliestDirtyMs) earliestDirtyMs = timestamp;
  }
  const cleanUntilMs = nowMs - Math.max(config.maxCompactionLagMs, 0);
  return {
    firstDirtyOffset,
    firstUncleanableOffset,
    cleanBytes,
    cleanableBytes,
    dirtyRatio: total === 0 ? 0 : cleanableBytes / total,
    maxCompactionDelayMs: earliestDirtyMs < cleanUntilMs ? cleanUntilMs - earliestDirtyMs : 0,
  };
}
