import { BatchAttribute, BatchOffset, readInt64 } from '../../../sdk/record/batch-header.ts';
import type { Clock } from '../clock.ts';
import type { FileSystem } from '../file-system.ts';
import type { LogConfig } from '../log-config.ts';
import type { LogSegment } from '../log-segment.ts';
import type { PartitionLog } from '../partition-log.ts';
import { controlTypeOf, recordBytesOf } from './batch-rewrite.ts';
import { CleanedTransactions } from './cleaned-transactions.ts';
import { type CleanerPacer, SegmentBatchReader } from './cleaner-io.ts';
import { readCleanerCheckpoint, writeCleanerCheckpoint } from './cleaner-checkpoint.ts';
import { type DirtyRange, dirtyRange } from './dirty-range.ts';
import { OffsetMap } from './offset-map.ts';
import { ProducerRetention } from './producer-retention.ts';
import { RecordSpans } from './record-spans.ts';
import { type PassContext, type PassStats, rewriteSegments } from './segment-rewriter.ts';

const INT32_MAX = 0x7fffffff;

export interface CleanPassOptions {
  fs: FileSystem;
  clock: Clock;
  /** `log.cleaner.dedupe.buffer.size` */
  dedupeBufferSizeBytes: number;
  /** `log.cleaner.io.buffer.load.factor` */
  loadFactor: number;
  /** `log.cleaner.io.buffer.size` */
  ioBufferSizeBytes: number;
  pacer: CleanerPacer;
  /** A segment's first batch's maxTimestamp (for max.compaction.lag.ms), -1 when empty. */
  firstBatchTimestampOf: (segment: LogSegment) => number;
}

export interface CleanPassResult extends PassStats {
  range: DirtyRange;
  /** The pass cleaned every segment below it; its records at or past it were not deduplicated. */
  endOffset: number;
  segmentsCleaned: number;
  /** Share of the offset map's slots used. */
  bufferUtilization: number;
}

/**
 * Kafka's groupSegmentsBySize: consecutive segments merged into one cleaned segment while their
 * log bytes fit segment.bytes, their index bytes segment.index.bytes, and their offsets an int32
 * span, so cleaning does not leave ever smaller segments behind.
 */
export function groupSegments(segments: readonly LogSegment[], config: Readonly<LogConfig>): LogSegment[][] {
  const groups: LogSegment[][] = [];
  for (let i = 0; i < segments.length; ) {
    const group = [segments[i]!];
    let logBytes = segments[i]!.sizeBytes;
    let indexBytes = segments[i]!.indexFileEntries * 8;
    let timeIndexBytes = segments[i]!.timeIndexFileEntries * 12;
    for (i++; i < segments.length; i++) {
      const candidate = segments[i]!;
      if (
        logBytes + candidate.sizeBytes > config.segmentBytes ||
        indexBytes + candidate.indexFileEntries * 8 > config.segmentIndexBytes ||
        timeIndexBytes + candidate.timeIndexFileEntries * 12 > config.segmentIndexBytes ||
        candidate.nextOffset - 1 - group[0]!.baseOffset > INT32_MAX
      ) {
        break;
      }
      group.push(candidate);
      logBytes += candidate.sizeBytes;
      indexBytes += candidate.indexFileEntries * 8;
      timeIndexBytes += candidate.timeIndexFileEntries * 12;
    }
    groups.push(group);
  }
  return groups;
}

/**
 * Maps the latest offset of every key in [firstDirtyOffset, upperBoundOffset), skipping control
 * batches and aborted data, until the map is full (Kafka's buildOffsetMap). Returns where it
 * stopped: the offset of the first record it could not map, or the bound.
 */
async function buildOffsetMap(
  options: CleanPassOptions,
  dirty: readonly LogSegment[],
  firstDirtyOffset: number,
  upperBoundOffset: number,
  map: OffsetMap,
  txns: CleanedTransactions,
  spans: RecordSpans,
  stats: PassStats,
): Promise<number> {
  for (const segment of dirty) {
    const reader = new SegmentBatchReader(options.fs, segment, options.ioBufferSizeBytes);
    try {
      for (let read = reader.next(); read !== undefined; read = reader.next()) {
        const { bytes } = read;
        const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        const baseOffset = readInt64(dv, BatchOffset.baseOffset);
        if (baseOffset >= upperBoundOffset) return upperBoundOffset;
        const lastOffset = baseOffset + dv.getInt32(BatchOffset.lastOffsetDelta);
        const attributes = dv.getInt16(BatchOffset.attributes);
        const producerId = readInt64(dv, BatchOffset.producerId);
        stats.bytesRead += bytes.length;
        if ((attributes & BatchAttribute.control) !== 0) {
          const data = recordBytesOf(bytes, dv);
          spans.scan(data, dv.getInt32(BatchOffset.recordsCount));
          txns.onControlBatch(producerId, controlTypeOf(data, spans), lastOffset);
        } else if (lastOffset >= firstDirtyOffset && !txns.onDataBatch(producerId, (attributes & BatchAttribute.transactional) !== 0, lastOffset)) {
          const data = recordBytesOf(bytes, dv);
          spans.scan(data, dv.getInt32(BatchOffset.recordsCount));
          for (let i = 0; i < spans.count; i++) {
            const offset = baseOffset + spans.offsetDelta[i]!;
            const keyStart = spans.keyStart[i]!;
            if (offset < firstDirtyOffset || keyStart < 0) continue;
            if (!map.put(data, keyStart, keyStart + spans.keyLength[i]!, offset)) return offset;
          }
        }
        await options.pacer.pace(bytes.length);
      }
    } finally {
      reader.close();
    }
  }
  return upperBoundOffset;
}

/**
 * One cleaning pass over one partition (Kafka's Cleaner.doClean): map the dirty section's keys,
 * then rewrite every segment below where the mapping ended, group by group, each swapped in as
 * soon as it is written, and move the checkpoint. The pass holds the log's segment list (see
 * PartitionLog.runCleanerPass); an abort or error leaves every segment not yet swapped as it was.
 */
export function cleanPartitionLog(log: PartitionLog, options: CleanPassOptions): Promise<CleanPassResult> {
  return log.runCleanerPass(async (swap) => {
    const { fs, clock } = options;
    const nowMs = clock.nowMs();
    const config = log.logConfig;
    const segments = log.segmentsSnapshot();
    const checkpoint = await readCleanerCheckpoint(fs, log.dir);
    const range = dirtyRange(
      { segments, config, logStartOffset: log.logStartOffset, logEndOffset: log.logEndOffset, lastStableOffset: log.lastStableOffset },
      checkpoint.firstDirtyOffset,
      nowMs,
      options.firstBatchTimestampOf,
    );
    const { firstDirtyOffset, firstUncleanableOffset } = range;
    const sealed = segments.slice(0, -1);
    const spans = new RecordSpans();
    const stats: PassStats = { bytesRead: 0, bytesWritten: 0, recordsRead: 0, recordsRemoved: 0, batchesRemoved: 0, nextDeleteHorizonMs: Number.POSITIVE_INFINITY };
    const map = new OffsetMap(options.dedupeBufferSizeBytes, options.loadFactor, Math.max(0, firstUncleanableOffset - firstDirtyOffset));
    let endOffset = firstUncleanableOffset;
    if (firstDirtyOffset < firstUncleanableOffset) {
      const dirty = sealed.filter((s) => s.baseOffset < firstUncleanableOffset && s.nextOffset > firstDirtyOffset);
      const txns = new CleanedTransactions(log.abortedTransactions(dirty[0]?.baseOffset ?? firstDirtyOffset, firstUncleanableOffset));
      endOffset = await buildOffsetMap(options, dirty, firstDirtyOffset, firstUncleanableOffset, map, txns, spans, stats);
    }
    const groups = groupSegments(
      sealed.filter((s) => s.baseOffset < endOffset),
      config,
    );
    const result = (segmentsCleaned: number): CleanPassResult => ({
      ...stats,
      range,
      endOffset,
      segmentsCleaned,
      bufferUtilization: map.utilization,
    });
    if (groups.length === 0) return result(0);
    if (endOffset > checkpoint.cleanedBelowOffset) {
      await writeCleanerCheckpoint(fs, log.dir, { firstDirtyOffset, cleanedBelowOffset: endOffset });
    }
    const ctx: PassContext = {
      fs,
      map,
      endOffset,
      nowMs,
      deleteRetentionMs: config.deleteRetentionMs,
      indexIntervalBytes: config.indexIntervalBytes,
      ioBufferSizeBytes: options.ioBufferSizeBytes,
      txns: new CleanedTransactions(log.abortedTransactions(log.logStartOffset, endOffset)),
      producers: new ProducerRetention(log.producerState.allEntries()),
      pacer: options.pacer,
      spans,
      stats,
    };
    let segmentsCleaned = 0;
    for (const group of groups) {
      const groupEnd = segments[segments.indexOf(group.at(-1)!) + 1]!.baseOffset;
      const cleaned = await rewriteSegments(ctx, group, groupEnd);
      await swap(group, cleaned);
      segmentsCleaned += group.length;
    }
    await writeCleanerCheckpoint(fs, log.dir, {
      firstDirtyOffset: Math.max(firstDirtyOffset, endOffset),
      cleanedBelowOffset: Math.max(checkpoint.cleanedBelowOffset, endOffset),
    });
    return result(segmentsCleaned);
  });
}
