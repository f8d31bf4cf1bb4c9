import { BatchAttribute, BatchOffset, readInt64 } from '../../sdk/record/batch-header.ts';
import { batchSizeAt } from './batch-validation.ts';
import type { AbortedTxn } from './transaction-index.ts';

/* What the read paths need to know about a run of whole stored batches, from their headers alone. */

/** `records` without the data batches of `aborted` transactions (same producer, offset within the transaction). */
export function omitAbortedBatches(records: Uint8Array, aborted: readonly AbortedTxn[]): Uint8Array {
  const dv = new DataView(records.buffer, records.byteOffset, records.byteLength);
  const keep: [number, number][] = [];
  let keptBytes = 0;
  for (let pos = 0; pos < records.length; ) {
    const size = batchSizeAt(dv, pos);
    const attributes = dv.getInt16(pos + BatchOffset.attributes);
    const isAbortedData =
      (attributes & (BatchAttribute.transactional | BatchAttribute.control)) === BatchAttribute.transactional &&
      aborted.some((t) => {
        const base = readInt64(dv, pos);
        return t.producerId === readInt64(dv, pos + BatchOffset.producerId) && base >= t.firstOffset && base <= t.lastOffset;
      });
    if (!isAbortedData) {
      keep.push([pos, size]);
      keptBytes += size;
    }
    pos += size;
  }
  if (keptBytes === records.length) return records;
  const out = new Uint8Array(keptBytes);
  let at = 0;
  for (const [pos, size] of keep) {
    out.set(records.subarray(pos, pos + size), at);
    at += size;
  }
  return out;
}

/** Whether every batch in `records` holds no record (headers the cleaner kept only for producer state). */
export function holdsOnlyEmptyBatches(records: Uint8Array): boolean {
  const dv = new DataView(records.buffer, records.byteOffset, records.byteLength);
  for (let pos = 0; pos < records.length; pos += batchSizeAt(dv, pos)) {
    if (dv.getInt32(pos + BatchOffset.recordsCount) !== 0) return false;
  }
  return true;
}

/** The offset after the last batch in `records` (one or more whole batches). */
export function endOffsetOf(records: Uint8Array): number {
  const dv = new DataView(records.buffer, records.byteOffset, records.byteLength);
  let lastPos = 0;
  for (let pos = 0; pos < records.length; pos += batchSizeAt(dv, pos)) lastPos = pos;
  return readInt64(dv, lastPos) + dv.getInt32(lastPos + BatchOffset.lastOffsetDelta) + 1;
}
