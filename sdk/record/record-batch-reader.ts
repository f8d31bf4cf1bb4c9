import { KafkaError } from '../protocol/kafka-error.ts';
import {
  BATCH_HEADER_BYTES,
  BATCH_LOG_OVERHEAD_BYTES,
  type BatchHeader,
  BatchAttribute,
  BatchOffset,
  CompressionType,
  CURRENT_MAGIC,
  readBatchHeader,
  readInt64,
} from './batch-header.ts';
import { DEFAULT_MAX_DECOMPRESSED_BYTES, decompress } from './compression.ts';
import { crc32c } from './crc32c.ts';
import { TimestampType, type Record, type RecordHeader, type TimestampTypeValue } from './record.ts';
import { type ByteCursor, byteCursor, readVarint, readVarlong } from './varint.ts';

export interface ReadRecordBatchesOptions {
  /** Throw CORRUPT_MESSAGE on a trailing partial batch instead of stopping before it (produce validation). */
  strict?: boolean;
  /** Bound on one batch's decompressed records. */
  maxDecompressedBytes?: number;
}

/** attributes, timestampDelta, offsetDelta, key length, value length, header count: one byte each at least. */
const MIN_RECORD_BODY_BYTES = 6;

function corrupt(message: string): KafkaError {
  return new KafkaError('CORRUPT_MESSAGE', message);
}

/**
 * Iterates the consecutive batches in `bytes` (a log segment slice or a fetch response's records).
 * A trailing partial batch, which fetch responses may end with, ends the iteration quietly.
 * Each view's `bytes` is a subarray of the input; nothing is copied.
 */
export function* readRecordBatches(
  bytes: Uint8Array,
  options: ReadRecordBatchesOptions = {},
): Generator<RecordBatchView, void, undefined> {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const maxDecompressedBytes = options.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES;
  let pos = 0;
  while (pos < bytes.length) {
    const remaining = bytes.length - pos;
    const batchLength = remaining >= BATCH_LOG_OVERHEAD_BYTES ? dv.getInt32(pos + BatchOffset.batchLength) : -1;
    if (remaining >= BATCH_LOG_OVERHEAD_BYTES && batchLength < BATCH_HEADER_BYTES - BATCH_LOG_OVERHEAD_BYTES) {
      throw corrupt(`record batch at byte ${pos} declares batchLength ${batchLength}, below the header size`);
    }
    const total = batchLength + BATCH_LOG_OVERHEAD_BYTES;
    if (remaining < BATCH_LOG_OVERHEAD_BYTES || total > remaining) {
      if (options.strict) throw corrupt(`record batch at byte ${pos} is truncated: ${remaining} bytes remain`);
      return;
    }
    yield new RecordBatchView(bytes.subarray(pos, pos + total), maxDecompressedBytes);
    pos += total;
  }
}

/** One complete RecordBatch v2; header fields are read on demand, records decoded lazily. */
export class RecordBatchView {
  /** Exactly this batch's bytes. */
  readonly bytes: Uint8Array;
  private readonly dv: DataView;
  private readonly maxDecompressedBytes: number;
  private cachedHeader: BatchHeader | undefined;
  private decompressed: Uint8Array | undefined;

  constructor(bytes: Uint8Array, maxDecompressedBytes = DEFAULT_MAX_DECOMPRESSED_BYTES) {
    if (bytes.length < BATCH_HEADER_BYTES) {
      throw corrupt(`record batch is ${bytes.length} bytes, shorter than its ${BATCH_HEADER_BYTES}-byte header`);
    }
    this.bytes = bytes;
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.maxDecompressedBytes = maxDecompressedBytes;
    const batchLength = this.dv.getInt32(BatchOffset.batchLength);
    if (batchLength + BATCH_LOG_OVERHEAD_BYTES !== bytes.length) {
      throw corrupt(`record batch declares batchLength ${batchLength} but spans ${bytes.length} bytes`);
    }
    const magic = this.dv.getInt8(BatchOffset.magic);
    if (magic !== CURRENT_MAGIC) throw corrupt(`record batch has magic ${magic}; only magic ${CURRENT_MAGIC} is supported`);
  }

  get header(): BatchHeader {
    return (this.cachedHeader ??= readBatchHeader(this.bytes));
  }

  get byteLength(): number {
    return this.bytes.length;
  }

  get baseOffset(): number {
    return readInt64(this.dv, BatchOffset.baseOffset);
  }

  /** baseOffset + lastOffsetDelta: the next batch starts at lastOffset + 1. */
  get lastOffset(): number {
    return this.baseOffset + this.dv.getInt32(BatchOffset.lastOffsetDelta);
  }

  get attributes(): number {
    return this.dv.getInt16(BatchOffset.attributes);
  }

  /** The attribute's compression bits (a CompressionType value, or an unknown 5..7). */
  get compression(): number {
    return this.attributes & BatchAttribute.compressionMask;
  }

  get isTransactional(): boolean {
    return (this.attributes & BatchAttribute.transactional) !== 0;
  }

  get isControl(): boolean {
    return (this.attributes & BatchAttribute.control) !== 0;
  }

  get timestampType(): TimestampTypeValue {
    return this.attributes & BatchAttribute.timestampTypeLogAppendTime ? TimestampType.LogAppendTime : TimestampType.CreateTime;
  }

  get recordsCount(): number {
    return this.dv.getInt32(BatchOffset.recordsCount);
  }

  /** Whether the stored CRC-32C matches bytes attributes..end. */
  verifyCrc(): boolean {
    return crc32c(this.bytes, BatchOffset.attributes, this.bytes.length) === this.dv.getUint32(BatchOffset.crc);
  }

  /**
   * The batch's records. Keys, values and header values are subarrays of the batch bytes, or of the
   * one decompressed buffer for a compressed batch. Any inconsistency throws CORRUPT_MESSAGE; a
   * compression other than none/gzip throws UNSUPPORTED_COMPRESSION_TYPE.
   */
  records(): Iterable<Record> {
    const records: Record[] = [];
    this.forEachRecord((offset, timestamp, key, value, headers) => {
      records.push({ offset, timestamp, key, value, headers });
    });
    return records;
  }

  /**
   * Calls `visit` with each record's fields in order, without building a Record for it (the
   * consumer's path: it builds its own record type). Throws as `records()` does, possibly after
   * visiting the records before the inconsistency.
   */
  forEachRecord(visit: RecordVisitor): void {
    const data = this.recordBytes();
    const recordsCount = this.recordsCount;
    if (recordsCount < 0) throw corrupt(`record batch declares ${recordsCount} records`);
    const baseOffset = this.baseOffset;
    const baseTimestamp = readInt64(this.dv, BatchOffset.baseTimestamp);
    const appendTime = this.timestampType === TimestampType.LogAppendTime ? readInt64(this.dv, BatchOffset.maxTimestamp) : undefined;
    decodeRecords(byteCursor(data), recordsCount, baseOffset, baseTimestamp, appendTime, visit);
  }

  private recordBytes(): Uint8Array {
    const compression = this.compression;
    if (compression === CompressionType.none) return this.bytes.subarray(BATCH_HEADER_BYTES);
    return (this.decompressed ??= decompress(
      compression,
      this.bytes.subarray(BATCH_HEADER_BYTES),
      this.maxDecompressedBytes,
    ));
  }
}

/** Receives one decoded record's fields; keys, values and header values are views of the batch. */
export type RecordVisitor = (
  offset: number,
  timestamp: number,
  key: Uint8Array | null,
  value: Uint8Array | null,
  headers: readonly RecordHeader[],
) => void;

function decodeRecords(
  c: ByteCursor,
  recordsCount: number,
  baseOffset: number,
  baseTimestamp: number,
  appendTime: number | undefined,
  visit: RecordVisitor,
): void {
  const dataEnd = c.end;
  for (let i = 0; i < recordsCount; i++) {
    if (c.pos >= dataEnd) throw corrupt(`record batch declares ${recordsCount} records but holds only ${i}`);
    const length = readVarint(c);
    if (length < MIN_RECORD_BODY_BYTES || length > dataEnd - c.pos) {
      throw corrupt(`record ${i} has length ${length}, but ${dataEnd - c.pos} bytes remain in the batch`);
    }
    const recordEnd = c.pos + length;
    c.end = recordEnd;
    c.pos++; // record attributes: unused
    const timestampDelta = readVarlong(c);
    const offsetDelta = readVarint(c);
    const key = readNullableBytes(c, 'key');
    const value = readNullableBytes(c, 'value');
    const headerCount = readVarint(c);
    if (headerCount < 0) throw corrupt(`record ${i} declares ${headerCount} headers`);
    const headers = headerCount === 0 ? NO_HEADERS : readHeaders(c, headerCount, i);
    if (c.pos !== recordEnd) {
      throw corrupt(`record ${i} declares length ${length} but its fields end ${recordEnd - c.pos} bytes early`);
    }
    c.end = dataEnd;
    visit(baseOffset + offsetDelta, appendTime ?? baseTimestamp + timestampDelta, key, value, headers);
  }
  if (c.pos !== dataEnd) {
    throw corrupt(`record batch has ${dataEnd - c.pos} bytes after its ${recordsCount} declared records`);
  }
}

function readNullableBytes(c: ByteCursor, what: string): Uint8Array | null {
  const length = readVarint(c);
  if (length === -1) return null;
  if (length < -1 || length > c.end - c.pos) {
    throw corrupt(`${what} length ${length} does not fit in the ${c.end - c.pos} bytes left of the record`);
  }
  const bytes = c.bytes.subarray(c.pos, c.pos + length);
  c.pos += length;
  return bytes;
}

// A header key starting with U+FEFF keeps it (TextDecoder drops a leading BOM by default).
const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });
/** Shared by every record without headers; frozen, as records hand their headers out read-only. */
const NO_HEADERS: readonly RecordHeader[] = Object.freeze([]);

function readHeaders(c: ByteCursor, headerCount: number, recordIndex: number): RecordHeader[] {
  const headers: RecordHeader[] = [];
  for (let h = 0; h < headerCount; h++) {
    const keyLength = readVarint(c);
    if (keyLength < 0 || keyLength > c.end - c.pos) {
      throw corrupt(`record ${recordIndex} header ${h} key length ${keyLength} does not fit in the record`);
    }
    const headerKey = decodeUtf8(c.bytes, c.pos, c.pos + keyLength);
    c.pos += keyLength;
    headers.push({ key: headerKey, value: readNullableBytes(c, 'header value') });
  }
  return headers;
}

function decodeUtf8(bytes: Uint8Array, start: number, end: number): string {
  if (end - start <= 64) {
    let s = '';
    for (let i = start; i < end; i++) {
      const b = bytes[i]!;
      if (b >= 0x80) return utf8Decoder.decode(bytes.subarray(start, end));
      s += String.fromCharCode(b);
    }
    return s;
  }
  return utf8Decoder.decode(bytes.subarray(start, end));
}
