/**
 * RecordBatch v2 header layout (all big-endian), byte offsets from the start of the batch:
 *
 *   0  baseOffset           int64   assigned by the broker, patched in place
 *   8  batchLength          int32   bytes after this field (total = batchLength + 12)
 *  12  partitionLeaderEpoch int32
 *  16  magic                int8    always 2
 *  17  crc                  uint32  CRC-32C over bytes 21..end
 *  21  attributes           int16   bits 0-2 compression, 3 timestampType, 4 transactional, 5 control
 *  23  lastOffsetDelta      int32
 *  27  baseTimestamp        int64
 *  35  maxTimestamp         int64
 *  43  producerId           int64
 *  51  producerEpoch        int16
 *  53  baseSequence         int32
 *  57  recordsCount         int32
 *  61  records...
 *
 * The CRC starts at `attributes`, so `baseOffset` and `partitionLeaderEpoch` can be rewritten
 * without recomputing it.
 */
export const BatchOffset = {
  baseOffset: 0,
  batchLength: 8,
  partitionLeaderEpoch: 12,
  magic: 16,
  crc: 17,
  attributes: 21,
  lastOffsetDelta: 23,
  baseTimestamp: 27,
  maxTimestamp: 35,
  producerId: 43,
  producerEpoch: 51,
  baseSequence: 53,
  recordsCount: 57,
  records: 61,
} as const;

export const BATCH_HEADER_BYTES = 61;
/** baseOffset + batchLength: the bytes not counted by batchLength. */
export const BATCH_LOG_OVERHEAD_BYTES = 12;
export const CURRENT_MAGIC = 2;

export const BatchAttribute = {
  compressionMask: 0x07,
  timestampTypeLogAppendTime: 0x08,
  transactional: 0x10,
  control: 0x20,
  deleteHorizon: 0x40,
} as const;

export const CompressionType = {
  none: 0,
  gzip: 1,
  snappy: 2,
  lz4: 3,
  zstd: 4,
} as const;
export type CompressionTypeValue = (typeof CompressionType)[keyof typeof CompressionType];

/** Fixed-position fields of one batch header, read without touching the records. */
export interface BatchHeader {
  baseOffset: number;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordsCount: number;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Reads an int64 as a JS number; offsets and timestamps stay below 2^53 in practice. From its two
 * 32-bit halves, without the BigInt that `getBigInt64` allocates (the same value: one rounding).
 */
export function readInt64(dv: DataView, at: number): number {
  return dv.getInt32(at) * 4294967296 + dv.getUint32(at + 4);
}

export function writeInt64(dv: DataView, at: number, value: number): void {
  if (!Number.isSafeInteger(value)) {
    // Beyond 2^53 (or not an integer: BigInt throws RangeError) as before.
    dv.setBigInt64(at, BigInt(value));
    return;
  }
  const high = Math.floor(value / 4294967296);
  dv.setInt32(at, high);
  dv.setUint32(at + 4, value - high * 4294967296);
}

/** Decodes the 61-byte header at `start`; the caller has checked that 61 bytes are there. */
export function readBatchHeader(bytes: Uint8Array, start = 0): BatchHeader {
  const dv = view(bytes);
  const s = start;
  return {
    baseOffset: readInt64(dv, s + BatchOffset.baseOffset),
    batchLength: dv.getInt32(s + BatchOffset.batchLength),
    partitionLeaderEpoch: dv.getInt32(s + BatchOffset.partitionLeaderEpoch),
    magic: dv.getInt8(s + BatchOffset.magic),
    crc: dv.getUint32(s + BatchOffset.crc),
    attributes: dv.getInt16(s + BatchOffset.attributes),
    lastOffsetDelta: dv.getInt32(s + BatchOffset.lastOffsetDelta),
    baseTimestamp: readInt64(dv, s + BatchOffset.baseTimestamp),
    maxTimestamp: readInt64(dv, s + BatchOffset.maxTimestamp),
    producerId: readInt64(dv, s + BatchOffset.producerId),
    producerEpoch: dv.getInt16(s + BatchOffset.producerEpoch),
    baseSequence: dv.getInt32(s + BatchOffset.baseSequence),
    recordsCount: dv.getInt32(s + BatchOffset.recordsCount),
  };
}
