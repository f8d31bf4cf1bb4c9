import { crc32c } from '../../sdk/record/crc32c.ts';
import type { ProducerEntry } from './producer-entry.ts';
import { readInt64, writeInt64 } from '../../sdk/record/batch-header.ts';

export const SNAPSHOT_SUFFIX = '.snapshot';
const SNAPSHOT_VERSION = 1;
const HEADER_BYTES = 2 + 4 + 8 + 4;
const ENTRY_FIXED_BYTES = 8 + 2 + 4 + 8 + 8 + 1;
const BATCH_BYTES = 4 + 4 + 8 + 4;

/**
 * A producer-state snapshot, `<20-digit offset>.snapshot` in the partition directory, holding the
 * state after applying every batch below that offset. Big-endian:
 *
 *   version              int16   1
 *   crc                  uint32  CRC-32C of every byte after this field
 *   offset               int64   the log offset the snapshot reflects
 *   entryCount           int32
 *   entryCount entries:
 *     producerId             int64
 *     producerEpoch          int16
 *     coordinatorEpoch       int32
 *     lastTimestampMs        int64   broker time of the producer's last append (expiry)
 *     currentTxnFirstOffset  int64   -1 when no transaction is open
 *     batchCount             int8    at most 5, oldest first
 *     batchCount batches:
 *       firstSeq         int32
 *       lastSeq          int32
 *       baseOffset       int64
 *       lastOffsetDelta  int32   lastOffset - baseOffset
 *
 * Kafka's snapshot keeps only the last batch per producer; this one keeps all five so a retry
 * after a restart is still answered with its original offsets.
 */
export function encodeSnapshot(offset: number, entries: Iterable<ProducerEntry>): Uint8Array {
  const list = [...entries];
  let size = HEADER_BYTES;
  for (const e of list) size += ENTRY_FIXED_BYTES + e.batches.length * BATCH_BYTES;
  const bytes = new Uint8Array(size);
  const dv = new DataView(bytes.buffer);
  dv.setInt16(0, SNAPSHOT_VERSION);
  writeInt64(dv, 6, offset);
  dv.setInt32(14, list.length);
  let pos = HEADER_BYTES;
  for (const e of list) {
    writeInt64(dv, pos, e.producerId);
    dv.setInt16(pos + 8, e.producerEpoch);
    dv.setInt32(pos + 10, e.coordinatorEpoch);
    writeInt64(dv, pos + 14, e.lastTimestampMs);
    writeInt64(dv, pos + 22, e.currentTxnFirstOffset);
    dv.setInt8(pos + 30, e.batches.length);
    pos += ENTRY_FIXED_BYTES;
    for (const b of e.batches) {
      dv.setInt32(pos, b.firstSeq);
      dv.setInt32(pos + 4, b.lastSeq);
      writeInt64(dv, pos + 8, b.baseOffset);
      dv.setInt32(pos + 16, b.lastOffset - b.baseOffset);
      pos += BATCH_BYTES;
    }
  }
  dv.setUint32(2, crc32c(bytes, 6));
  return bytes;
}

/** The snapshot's offset and entries, or undefined when it is damaged (the caller falls back to an older one). */
export function decodeSnapshot(bytes: Uint8Array): { offset: number; entries: ProducerEntry[] } | undefined {
  if (bytes.length < HEADER_BYTES) return undefined;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getInt16(0) !== SNAPSHOT_VERSION || dv.getUint32(2) !== crc32c(bytes, 6)) return undefined;
  const offset = readInt64(dv, 6);
  const count = dv.getInt32(14);
  const entries: ProducerEntry[] = [];
  let pos = HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    if (pos + ENTRY_FIXED_BYTES > bytes.length) return undefined;
    const batchCount = dv.getInt8(pos + 30);
    const entry: ProducerEntry = {
      producerId: readInt64(dv, pos),
      producerEpoch: dv.getInt16(pos + 8),
      coordinatorEpoch: dv.getInt32(pos + 10),
      lastTimestampMs: readInt64(dv, pos + 14),
      currentTxnFirstOffset: readInt64(dv, pos + 22),
      batches: [],
    };
    pos += ENTRY_FIXED_BYTES;
    if (batchCount < 0 || pos + batchCount * BATCH_BYTES > bytes.length) return undefined;
    for (let b = 0; b < batchCount; b++) {
      const baseOffset = readInt64(dv, pos + 8);
      entry.batches.push({ firstSeq: dv.getInt32(pos), lastSeq: dv.getInt32(pos + 4), baseOffset, lastOffset: baseOffset + dv.getInt32(pos + 16) });
      pos += BATCH_BYTES;
    }
    entries.push(entry);
  }
  return pos === bytes.length ? { offset, entries } : undefined;
}
