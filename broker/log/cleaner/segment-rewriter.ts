import { dirname } from 'node:path';
import { BatchAttribute, BatchOffset, readInt64 } from '../../../sdk/record/batch-header.ts';
import type { FileSystem } from '../file-system.ts';
import { writeFileSynced } from '../atomic-file.ts';
import { LogSegment } from '../log-segment.ts';
import { encodeTxnIndex } from '../transaction-index.ts';
import { controlTypeOf, deleteHorizonOf, emptyBatchHeader, rebuildBatch, recordBytesOf } from './batch-rewrite.ts';
import type { CleanedTransactions } from './cleaned-transactions.ts';
import { type CleanerPacer, SegmentBatchReader } from './cleaner-io.ts';
import type { OffsetMap } from './offset-map.ts';
import type { ProducerRetention } from './producer-retention.ts';
import type { RecordSpans } from './record-spans.ts';
import { CLEANED_SUFFIX, removeCleaned } from './segment-swap.ts';

/** Offset index positions are int32. */
const MAX_POSITION = 0x7fffffff;

export interface PassStats {
  bytesRead: number;
  bytesWritten: number;
  recordsRead: number;
  recordsRemoved: number;
  batchesRemoved: number;
  /**
   * The earliest delete horizon of a kept batch holding something that goes once it passes (a
   * tombstone, or a marker whose transaction is gone), Infinity when none: a pass from then on
   * drops it.
   */
  nextDeleteHorizonMs: number;
}

/** What one pass decides with, shared by the groups of segments it rewrites in offset order. */
export interface PassContext {
  fs: FileSystem;
  /** Key hash to the offset of the key's latest record in the mapped dirty section. */
  map: OffsetMap;
  /** Records at or past it were not mapped and stay; batches starting at or past it are copied whole. */
  endOffset: number;
  nowMs: number;
  deleteRetentionMs: number;
  indexIntervalBytes: number;
  ioBufferSizeBytes: number;
  txns: CleanedTransactions;
  producers: ProducerRetention;
  pacer: CleanerPacer;
  spans: RecordSpans;
  stats: PassStats;
}

/**
 * What becomes of one stored batch (Kafka's LogCleaner.cleanInto with MemoryRecords.filterTo):
 * the same bytes, a rewritten batch, an empty header, or nothing.
 *
 * - Data of an aborted transaction goes. A record goes when a later record of its key was mapped,
 *   when it has no key, or when it is a tombstone whose batch's delete horizon has passed; a batch
 *   keeping a tombstone gets a delete horizon (now + delete.retention.ms) if it has none.
 * - A marker goes once no batch of its transaction is left and its delete horizon has passed; it
 *   gets a horizon the first time the cleaner finds its transaction empty.
 * - A batch the producer state still remembers keeps at least its header.
 */
function cleanBatch(batch: Uint8Array, ctx: PassContext): Uint8Array | undefined {
  const due = (horizonMs: number): void => {
    if (horizonMs < ctx.stats.nextDeleteHorizonMs) ctx.stats.nextDeleteHorizonMs = horizonMs;
  };
  const dv = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  const baseOffset = readInt64(dv, BatchOffset.baseOffset);
  if (baseOffset >= ctx.endOffset) return batch;
  const lastOffset = baseOffset + dv.getInt32(BatchOffset.lastOffsetDelta);
  const attributes = dv.getInt16(BatchOffset.attributes);
  const producerId = readInt64(dv, BatchOffset.producerId);
  const producerEpoch = dv.getInt16(BatchOffset.producerEpoch);
  const { spans, stats, nowMs } = ctx;
  const data = recordBytesOf(batch, dv);
  spans.scan(data, dv.getInt32(BatchOffset.recordsCount));
  stats.recordsRead += spans.count;
  const horizon = deleteHorizonOf(dv);

  if ((attributes & BatchAttribute.control) !== 0) {
    const transactionGone = ctx.txns.onControlBatch(producerId, controlTypeOf(data, spans), lastOffset);
    if (ctx.producers.keepsMarker(producerId, producerEpoch) || !transactionGone) return batch;
    if (spans.count === 0 || (horizon !== undefined && horizon <= nowMs)) {
      stats.recordsRemoved += spans.count;
      return undefined;
    }
    due(horizon ?? nowMs + ctx.deleteRetentionMs);
    return horizon === undefined ? rebuildBatch(batch, data, spans, new Uint8Array(spans.count).fill(1), nowMs + ctx.deleteRetentionMs) : batch;
  }

  const keepsHeader = producerId >= 0 && ctx.producers.keepsDataBatch(producerId, producerEpoch, baseOffset);
  if (ctx.txns.onDataBatch(producerId, (attributes & BatchAttribute.transactional) !== 0, lastOffset)) {
    stats.recordsRemoved += spans.count;
    if (!keepsHeader) return undefined;
    return spans.count === 0 ? batch : emptyBatchHeader(batch);
  }
  const keep = new Uint8Array(spans.count);
  let kept = 0;
  let keepsTombstone = false;
  for (let i = 0; i < spans.count; i++) {
    const offset = baseOffset + spans.offsetDelta[i]!;
    const keyStart = spans.keyStart[i]!;
    let retain: boolean;
    if (offset >= ctx.endOffset) retain = true;
    else if (keyStart < 0) retain = false;
    else if (ctx.map.get(data, keyStart, keyStart + spans.keyLength[i]!) > offset) retain = false;
    else retain = spans.valueIsNull[i] === 0 || horizon === undefined || nowMs < horizon;
    if (!retain) continue;
    keep[i] = 1;
    kept++;
    if (spans.valueIsNull[i] === 1) keepsTombstone = true;
  }
  stats.recordsRemoved += spans.count - kept;
  if (kept === 0) {
    if (!keepsHeader) return undefined;
    return spans.count === 0 ? batch : emptyBatchHeader(batch);
  }
  const newHorizon = keepsTombstone && horizon === undefined ? nowMs + ctx.deleteRetentionMs : undefined;
  if (keepsTombstone) due(horizon ?? newHorizon!);
  if (kept === spans.count && newHorizon === undefined) return batch;
  return rebuildBatch(batch, data, spans, keep, newHorizon);
}

/**
 * Cleans `group` (consecutive sealed segments ending where the segment at `groupEndOffset`
 * starts) into one new segment with the first one's base offset, written beside them as
 * `.cleaned` files (the `.log` first, see segment-swap.ts) and fsynced. On failure or abort the
 * `.cleaned` files are removed.
 */
export async function rewriteSegments(ctx: PassContext, group: readonly LogSegment[], groupEndOffset: number): Promise<LogSegment> {
  const { fs, stats } = ctx;
  const cleaned = new LogSegment(dirname(group[0]!.logPath), group[0]!.baseOffset);
  const retainedBefore = ctx.txns.retainedAbortedTxns.length;
  try {
    const fd = fs.openSync(cleaned.logPath + CLEANED_SUFFIX, 'create');
    try {
      const out = new Uint8Array(ctx.ioBufferSizeBytes);
      let outLength = 0;
      let position = 0;
      const flush = (): void => {
        if (outLength === 0) return;
        fs.writeSync(fd, out.subarray(0, outLength), position - outLength);
        outLength = 0;
      };
      for (const segment of group) {
        const reader = new SegmentBatchReader(fs, segment, ctx.ioBufferSizeBytes);
        try {
          for (let read = reader.next(); read !== undefined; read = reader.next()) {
            stats.bytesRead += read.bytes.length;
            const kept = cleanBatch(read.bytes, ctx);
            if (kept === undefined) {
              stats.batchesRemoved++;
            } else {
              const dv = new DataView(kept.buffer, kept.byteOffset, kept.byteLength);
              const baseOffset = readInt64(dv, BatchOffset.baseOffset);
              if (position + kept.length > MAX_POSITION) throw new Error(`cleaned segment ${cleaned.logPath} would exceed ${MAX_POSITION} bytes`);
              cleaned.recordBatch(baseOffset, baseOffset + dv.getInt32(BatchOffset.lastOffsetDelta), position, kept.length, readInt64(dv, BatchOffset.maxTimestamp), ctx.indexIntervalBytes);
              if (outLength + kept.length > out.length) flush();
              if (kept.length > out.length) fs.writeSync(fd, kept, position);
              else {
                out.set(kept, outLength);
                outLength += kept.length;
              }
              position += kept.length;
              stats.bytesWritten += kept.length;
            }
            await ctx.pacer.pace(read.bytes.length + (kept?.length ?? 0));
          }
        } finally {
          reader.close();
        }
      }
      flush();
      await fs.fsync(fd);
    } finally {
      fs.closeSync(fd);
    }
    cleaned.completeTimeIndex();
    const indexBytes = cleaned.offsetIndex!.encode();
    const timeIndexBytes = cleaned.timeIndex!.encode();
    cleaned.seal();
    cleaned.nextOffset = groupEndOffset;
    cleaned.abortedTxns = [
      ...ctx.txns.retainedAbortedTxns.slice(retainedBefore),
      ...group.flatMap((s) => s.abortedTxns.filter((t) => t.lastOffset >= ctx.endOffset)),
    ];
    await writeFileSynced(fs, cleaned.indexPath + CLEANED_SUFFIX, indexBytes);
    await writeFileSynced(fs, cleaned.timeIndexPath + CLEANED_SUFFIX, timeIndexBytes);
    if (cleaned.abortedTxns.length > 0) await writeFileSynced(fs, cleaned.txnIndexPath + CLEANED_SUFFIX, encodeTxnIndex(cleaned.abortedTxns));
    return cleaned;
  } catch (error) {
    await removeCleaned(fs, cleaned).catch(() => undefined);
    throw error;
  }
}
