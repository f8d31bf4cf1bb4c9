import { BATCH_HEADER_BYTES, BATCH_LOG_OVERHEAD_BYTES, BatchOffset, CURRENT_MAGIC } from '../../sdk/record/batch-header.ts';
import { crc32c } from '../../sdk/record/crc32c.ts';

export interface BatchFixtureOptions {
  recordsCount?: number;
  /** Opaque bytes standing in for the records; the log never decodes them. */
  payloadBytes?: number;
  /** Seeds the payload content so batches differ. */
  seed?: number;
  baseTimestamp?: number;
  maxTimestamp?: number;
}

/**
 * A sealed RecordBatch v2 as the log sees it: a valid 61-byte header (magic 2, CRC-32C over
 * attributes..end, recordsCount and lastOffsetDelta consistent) followed by opaque payload bytes.
 */
export function makeBatch(options: BatchFixtureOptions = {}): Uint8Array {
  const recordsCount = options.recordsCount ?? 1;
  const payloadBytes = options.payloadBytes ?? 16;
  const seed = options.seed ?? 0;
  const baseTimestamp = options.baseTimestamp ?? 1_700_000_000_000;
  const maxTimestamp = options.maxTimestamp ?? baseTimestamp;
  const bytes = new Uint8Array(BATCH_HEADER_BYTES + payloadBytes);
  const dv = new DataView(bytes.buffer);
  dv.setBigInt64(BatchOffset.baseOffset, 0n);
  dv.setInt32(BatchOffset.batchLength, bytes.length - BATCH_LOG_OVERHEAD_BYTES);
  dv.setInt32(BatchOffset.partitionLeaderEpoch, 0);
  dv.setInt8(BatchOffset.magic, CURRENT_MAGIC);
  dv.setInt16(BatchOffset.attributes, 0);
  dv.setInt32(BatchOffset.lastOffsetDelta, recordsCount - 1);
  dv.setBigInt64(BatchOffset.baseTimestamp, BigInt(baseTimestamp));
  dv.setBigInt64(BatchOffset.maxTimestamp, BigInt(maxTimestamp));
  dv.setBigInt64(BatchOffset.producerId, -1n);
  dv.setInt16(BatchOffset.producerEpoch, -1);
  dv.setInt32(BatchOffset.baseSequence, -1);
  dv.setInt32(BatchOffset.recordsCount, recordsCount);
  let x = (seed * 2654435761 + 1) >>> 0;
  for (let i = BATCH_HEADER_BYTES; i < bytes.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  resealBatch(bytes);
  return bytes;
}

/** Recomputes the CRC of a batch at `start` after a test edited a covered field. */
export function resealBatch(bytes: Uint8Array, start = 0): void {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = start + dv.getInt32(start + BatchOffset.batchLength) + BATCH_LOG_OVERHEAD_BYTES;
  dv.setUint32(start + BatchOffset.crc, crc32c(bytes, start + BatchOffset.attributes, end));
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

export interface StoredBatch {
  baseOffset: number;
  lastOffset: number;
  bytes: Uint8Array;
}

/** Splits stored bytes into batches, reading only baseOffset, batchLength and lastOffsetDelta. */
export function splitBatches(bytes: Uint8Array): StoredBatch[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const batches: StoredBatch[] = [];
  for (let at = 0; at < bytes.length; ) {
    const size = dv.getInt32(at + BatchOffset.batchLength) + BATCH_LOG_OVERHEAD_BYTES;
    const baseOffset = Number(dv.getBigInt64(at + BatchOffset.baseOffset));
    batches.push({
      baseOffset,
      lastOffset: baseOffset + dv.getInt32(at + BatchOffset.lastOffsetDelta),
      bytes: bytes.subarray(at, at + size),
    });
    at += size;
  }
  return batches;
}

/** A copy of `batch` with its baseOffset set, as the log stores it. */
export function withBaseOffset(batch: Uint8Array, baseOffset: number): Uint8Array {
  const copy = batch.slice();
  new DataView(copy.buffer).setBigInt64(BatchOffset.baseOffset, BigInt(baseOffset));
  return copy;
}
