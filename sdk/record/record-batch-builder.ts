import { KafkaError } from '../protocol/kafka-error.ts';
import {
  BATCH_HEADER_BYTES,
  BatchAttribute,
  BatchOffset,
  CompressionType,
  CURRENT_MAGIC,
  writeInt64,
} from './batch-header.ts';
import { type CompressionName, compress, supportedCompressionType } from './compression.ts';
import { crc32c } from './crc32c.ts';
import { type RecordHeader, type RecordInput, TimestampType, type TimestampTypeValue } from './record.ts';
import { byteCursor, readVarint, readVarlong, sizeOfVarint, sizeOfVarlong, writeVarint, writeVarlong } from './varint.ts';

export const DEFAULT_MAX_BATCH_BYTES = 64 * 1024 * 1024;
const DEFAULT_INITIAL_CAPACITY_BYTES = 16 * 1024;
const INT32_MAX = 0x7fff_ffff;

export interface RecordBatchBuilderOptions {
  baseOffset?: number;
  /** -1 for a producer without idempotence. */
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  isTransactional?: boolean;
  isControl?: boolean;
  compression?: CompressionName | number;
  /** kafkajs writes 0 here; the broker owns the field and may overwrite it without touching the CRC. */
  partitionLeaderEpoch?: number;
  timestampType?: TimestampTypeValue;
  /** Appends that would grow the batch past this many bytes fail with MESSAGE_TOO_LARGE. */
  maxBatchBytes?: number;
  initialCapacityBytes?: number;
  /** Supplies the timestamp of records appended without one; called at most once per batch. */
  clock?: () => number;
}

function assertInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new Error(`RecordBatchBuilder: ${name} must be an integer in [${min}, ${max}], got ${value}`);
  }
}

/** UTF-8 byte length, counting a lone surrogate as the 3-byte U+FFFD that TextEncoder writes for it. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if ((c & 0xfc00) === 0xd800 && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

const utf8Encoder = new TextEncoder();

function writeUtf8(buf: Uint8Array, pos: number, s: string, byteLength: number): number {
  if (byteLength === s.length) {
    for (let i = 0; i < byteLength; i++) buf[pos + i] = s.charCodeAt(i);
  } else {
    utf8Encoder.encodeInto(s, buf.subarray(pos, pos + byteLength));
  }
  return pos + byteLength;
}

function sizeOfBytes(bytes: Uint8Array | null | undefined): number {
  return bytes == null ? 1 : sizeOfVarint(bytes.length) + bytes.length;
}

function writeBytes(buf: Uint8Array, pos: number, bytes: Uint8Array | null | undefined): number {
  if (bytes == null) return writeVarint(buf, pos, -1);
  pos = writeVarint(buf, pos, bytes.length);
  buf.set(bytes, pos);
  return pos + bytes.length;
}

/**
 * Text values longer than this are encoded by the runtime's encoder into a scratch buffer (about
 * 60 ns for 100 characters) rather than measured and copied character by character in JavaScript
 * (about 440 ns), which wins only for short strings.
 */
const SHORT_TEXT_CHARS = 16;
let textScratch = new Uint8Array(64 * 1024);

/** Encodes `s` into the scratch buffer; returns its UTF-8 length. The scratch is valid until the next call. */
function encodeTextToScratch(s: string): number {
  if (s.length * 3 > textScratch.length) textScratch = new Uint8Array(s.length * 3);
  return utf8Encoder.encodeInto(s, textScratch).written;
}

/** A value's size as a length-prefixed field; text counts its UTF-8 bytes (`textBytes`, measured once). */
function sizeOfValue(value: Uint8Array | string | null | undefined, textBytes: number): number {
  if (typeof value === 'string') return sizeOfVarint(textBytes) + textBytes;
  return sizeOfBytes(value);
}

function writeValue(buf: Uint8Array, pos: number, value: Uint8Array | string | null | undefined, textBytes: number): number {
  if (typeof value !== 'string') return writeBytes(buf, pos, value);
  pos = writeVarint(buf, pos, textBytes);
  if (value.length <= SHORT_TEXT_CHARS) return writeUtf8(buf, pos, value, textBytes);
  buf.set(textScratch.subarray(0, textBytes), pos);
  return pos + textBytes;
}

function sizeOfHeaders(headers: readonly RecordHeader[]): number {
  let size = sizeOfVarint(headers.length);
  for (const header of headers) {
    const keyBytes = utf8Length(header.key);
    size += sizeOfVarint(keyBytes) + keyBytes + sizeOfBytes(header.value);
  }
  return size;
}

const NO_HEADERS: readonly RecordHeader[] = [];

function writeHeaders(buf: Uint8Array, pos: number, headers: readonly RecordHeader[]): number {
  pos = writeVarint(buf, pos, headers.length);
  for (const header of headers) {
    const keyBytes = utf8Length(header.key);
    pos = writeVarint(buf, pos, keyBytes);
    pos = writeUtf8(buf, pos, header.key, keyBytes);
    pos = writeBytes(buf, pos, header.value);
  }
  return pos;
}

/** A record's length, attributes (0), timestampDelta and offsetDelta: what precedes its key. */
function writeRecordPrefix(buf: Uint8Array, pos: number, bodySize: number, timestampDelta: number, offsetDelta: number): number {
  pos = writeVarint(buf, pos, bodySize);
  buf[pos++] = 0;
  pos = writeVarlong(buf, pos, timestampDelta);
  return writeVarint(buf, pos, offsetDelta);
}

/**
 * A record's key, value and headers as a batch encodes them (everything after its offsetDelta),
 * for `RecordBatchBuilder.appendEncoded`: a record stored apart and put into a batch later is then
 * copied instead of encoded again.
 */
export function encodeRecordTail(record: { key: Uint8Array | null; value: Uint8Array | null; headers: readonly RecordHeader[] }): Uint8Array {
  const out = new Uint8Array(sizeOfBytes(record.key) + sizeOfBytes(record.value) + sizeOfHeaders(record.headers));
  let pos = writeBytes(out, 0, record.key);
  pos = writeBytes(out, pos, record.value);
  pos = writeHeaders(out, pos, record.headers);
  if (pos !== out.length) throw new Error(`encodeRecordTail: ${out.length} bytes computed, ${pos} written`);
  return out;
}

/** Producer fields a batch may learn only when it is sealed (a producer assigns sequence numbers at send time). */
export interface SealProducerFields {
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  isTransactional: boolean;
}

/**
 * Encodes records straight into one growable buffer and seals them into a RecordBatch v2.
 *
 * Record layout (all varints zig-zag, see NOTES.md §2.2):
 *   length varint | attributes int8 (0) | timestampDelta varlong | offsetDelta varint |
 *   keyLength varint, key | valueLength varint, value | headerCount varint |
 *   per header: keyLength varint, utf8 key | valueLength varint, value (-1 = null)
 *
 * baseTimestamp is the smallest record timestamp and maxTimestamp the largest, as kafkajs writes
 * them, so every timestampDelta is non-negative. Deltas are encoded against the first record's
 * timestamp while appending; if a later record is older, seal() re-encodes the deltas once.
 */
export class RecordBatchBuilder {
  private readonly baseOffset: number;
  private producerId: number;
  private producerEpoch: number;
  private baseSequence: number;
  private readonly partitionLeaderEpoch: number;
  private attributes: number;
  private readonly compression: number;
  private readonly maxBatchBytes: number;
  private readonly clock: () => number;
  private buf: Uint8Array;
  private pos = BATCH_HEADER_BYTES;
  private recordCount = 0;
  private defaultTimestamp: number | undefined;
  private firstTimestamp = 0;
  private minTimestamp = 0;
  private maxTimestamp = 0;
  private sealed = false;

  constructor(options: RecordBatchBuilderOptions = {}) {
    this.baseOffset = options.baseOffset ?? 0;
    this.producerId = options.producerId ?? -1;
    this.producerEpoch = options.producerEpoch ?? -1;
    this.baseSequence = options.baseSequence ?? -1;
    this.partitionLeaderEpoch = options.partitionLeaderEpoch ?? 0;
    this.maxBatchBytes = options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
    this.clock = options.clock ?? Date.now;
    assertInteger('baseOffset', this.baseOffset, 0, Number.MAX_SAFE_INTEGER);
    assertInteger('producerId', this.producerId, -1, Number.MAX_SAFE_INTEGER);
    assertInteger('producerEpoch', this.producerEpoch, -1, 0x7fff);
    assertInteger('baseSequence', this.baseSequence, -1, INT32_MAX);
    assertInteger('partitionLeaderEpoch', this.partitionLeaderEpoch, -1, INT32_MAX);
    assertInteger('maxBatchBytes', this.maxBatchBytes, BATCH_HEADER_BYTES, INT32_MAX);

    this.compression = supportedCompressionType(options.compression ?? CompressionType.none);
    let attributes = this.compression;
    if (options.timestampType === TimestampType.LogAppendTime) attributes |= BatchAttribute.timestampTypeLogAppendTime;
    if (options.isTransactional) attributes |= BatchAttribute.transactional;
    if (options.isControl) attributes |= BatchAttribute.control;
    this.attributes = attributes;

    const initial = options.initialCapacityBytes ?? DEFAULT_INITIAL_CAPACITY_BYTES;
    this.buf = new Uint8Array(Math.min(Math.max(initial, BATCH_HEADER_BYTES), this.maxBatchBytes));
  }

  /** Records appended so far. */
  get count(): number {
    return this.recordCount;
  }

  /** Bytes of the batch so far (header plus uncompressed records); the sealed size for `none`. */
  get sizeEstimate(): number {
    return this.pos;
  }

  /** Appends one record with offsetDelta = its index. Throws MESSAGE_TOO_LARGE (and appends nothing) past the bound. */
  append(record: RecordInput): void {
    const timestamp = record.timestamp ?? (this.defaultTimestamp ??= this.clock());
    const timestampDelta = this.timestampDeltaOf(timestamp);
    const offsetDelta = this.recordCount;
    const headers = record.headers ?? NO_HEADERS;
    const value = record.value;
    const textBytes = typeof value !== 'string' ? 0 : value.length <= SHORT_TEXT_CHARS ? utf8Length(value) : encodeTextToScratch(value);
    const bodySize =
      1 +
      sizeOfVarlong(timestampDelta) +
      sizeOfVarint(offsetDelta) +
      sizeOfBytes(record.key) +
      sizeOfValue(value, textBytes) +
      sizeOfHeaders(headers);
    const end = this.reserve(bodySize);
    const buf = this.buf;
    let pos = writeRecordPrefix(buf, this.pos, bodySize, timestampDelta, offsetDelta);
    pos = writeBytes(buf, pos, record.key);
    pos = writeValue(buf, pos, value, textBytes);
    pos = writeHeaders(buf, pos, headers);
    if (pos !== end) throw new Error(`RecordBatchBuilder: record size ${end - this.pos} computed, ${pos - this.pos} written`);
    this.appended(end, timestamp);
  }

  /**
   * Appends a record whose key, value and headers were encoded before (`encodeRecordTail`): they
   * are copied, not encoded again. Throws MESSAGE_TOO_LARGE (and appends nothing) past the bound.
   */
  appendEncoded(timestamp: number, tail: Uint8Array): void {
    const timestampDelta = this.timestampDeltaOf(timestamp);
    const offsetDelta = this.recordCount;
    const bodySize = 1 + sizeOfVarlong(timestampDelta) + sizeOfVarint(offsetDelta) + tail.length;
    const end = this.reserve(bodySize);
    const pos = writeRecordPrefix(this.buf, this.pos, bodySize, timestampDelta, offsetDelta);
    this.buf.set(tail, pos);
    this.appended(end, timestamp);
  }

  /** The delta of the next record's timestamp against the batch's first. */
  private timestampDeltaOf(timestamp: number): number {
    if (this.sealed) throw new Error('RecordBatchBuilder: append after seal');
    if (!Number.isSafeInteger(timestamp)) {
      throw new Error(`RecordBatchBuilder: record timestamp must be a safe integer, got ${timestamp}`);
    }
    const timestampDelta = timestamp - (this.recordCount === 0 ? timestamp : this.firstTimestamp);
    if (!Number.isSafeInteger(timestampDelta)) {
      throw new Error(`RecordBatchBuilder: timestamp ${timestamp} is too far from the batch's first timestamp`);
    }
    return timestampDelta;
  }

  /** Makes room for a record of `bodySize` bytes; returns where it ends. */
  private reserve(bodySize: number): number {
    const end = this.pos + sizeOfVarint(bodySize) + bodySize;
    if (end > this.maxBatchBytes) {
      throw new KafkaError(
        'MESSAGE_TOO_LARGE',
        `record batch would grow to ${end} bytes, more than the limit of ${this.maxBatchBytes}`,
      );
    }
    if (end > this.buf.length) this.grow(end);
    return end;
  }

  private appended(end: number, timestamp: number): void {
    if (this.recordCount === 0) {
      this.firstTimestamp = this.minTimestamp = this.maxTimestamp = timestamp;
    } else if (timestamp < this.minTimestamp) {
      this.minTimestamp = timestamp;
    } else if (timestamp > this.maxTimestamp) {
      this.maxTimestamp = timestamp;
    }
    this.pos = end;
    this.recordCount++;
  }

  /**
   * Writes the header and CRC and returns the finished batch. The builder is spent afterwards.
   * Throws MESSAGE_TOO_LARGE if compression or timestamp re-encoding pushed the batch past the bound.
   * `producer` replaces the producer fields given to the constructor.
   */
  seal(producer?: SealProducerFields): Uint8Array {
    if (this.sealed) throw new Error('RecordBatchBuilder: seal called twice');
    if (this.recordCount === 0) throw new Error('RecordBatchBuilder: cannot seal an empty batch');
    if (producer !== undefined) {
      assertInteger('producerId', producer.producerId, -1, Number.MAX_SAFE_INTEGER);
      assertInteger('producerEpoch', producer.producerEpoch, -1, 0x7fff);
      assertInteger('baseSequence', producer.baseSequence, -1, INT32_MAX);
      this.producerId = producer.producerId;
      this.producerEpoch = producer.producerEpoch;
      this.baseSequence = producer.baseSequence;
      this.attributes = producer.isTransactional
        ? this.attributes | BatchAttribute.transactional
        : this.attributes & ~BatchAttribute.transactional;
    }
    this.sealed = true;
    if (this.minTimestamp < this.firstTimestamp) this.rebaseTimestamps();

    let out: Uint8Array;
    if (this.compression === CompressionType.none) {
      // A mostly empty buffer is copied so a small batch does not pin the whole allocation.
      out = this.pos * 2 < this.buf.length ? this.buf.slice(0, this.pos) : this.buf.subarray(0, this.pos);
    } else {
      const compressed = compress(this.compression, this.buf.subarray(BATCH_HEADER_BYTES, this.pos));
      out = new Uint8Array(BATCH_HEADER_BYTES + compressed.length);
      out.set(compressed, BATCH_HEADER_BYTES);
    }
    if (out.length > this.maxBatchBytes) {
      throw new KafkaError(
        'MESSAGE_TOO_LARGE',
        `sealed record batch is ${out.length} bytes, more than the limit of ${this.maxBatchBytes}`,
      );
    }

    const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
    writeInt64(dv, BatchOffset.baseOffset, this.baseOffset);
    dv.setInt32(BatchOffset.batchLength, out.length - 12);
    dv.setInt32(BatchOffset.partitionLeaderEpoch, this.partitionLeaderEpoch);
    dv.setInt8(BatchOffset.magic, CURRENT_MAGIC);
    dv.setInt16(BatchOffset.attributes, this.attributes);
    dv.setInt32(BatchOffset.lastOffsetDelta, this.recordCount - 1);
    writeInt64(dv, BatchOffset.baseTimestamp, this.minTimestamp);
    writeInt64(dv, BatchOffset.maxTimestamp, this.maxTimestamp);
    writeInt64(dv, BatchOffset.producerId, this.producerId);
    dv.setInt16(BatchOffset.producerEpoch, this.producerEpoch);
    dv.setInt32(BatchOffset.baseSequence, this.baseSequence);
    dv.setInt32(BatchOffset.recordsCount, this.recordCount);
    dv.setUint32(BatchOffset.crc, crc32c(out, BatchOffset.attributes, out.length));
    return out;
  }

  private grow(minBytes: number): void {
    const capacity = Math.min(Math.max(this.buf.length * 2, minBytes), this.maxBatchBytes);
    const next = new Uint8Array(capacity);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  /** Re-encodes every record's timestampDelta against minTimestamp instead of the first timestamp. */
  private rebaseTimestamps(): void {
    const shift = this.firstTimestamp - this.minTimestamp;
    const src = this.buf;
    // Each record's varlong and length prefix grow by at most 9 and 1 bytes.
    const dst = new Uint8Array(this.pos + 10 * this.recordCount);
    const c = byteCursor(src, BATCH_HEADER_BYTES, this.pos);
    let out = BATCH_HEADER_BYTES;
    while (c.pos < this.pos) {
      const length = readVarint(c);
      const recordEnd = c.pos + length;
      c.pos++;
      const timestampDelta = readVarlong(c) + shift;
      const rest = src.subarray(c.pos, recordEnd);
      const bodySize = 1 + sizeOfVarlong(timestampDelta) + rest.length;
      out = writeVarint(dst, out, bodySize);
      dst[out++] = 0;
      out = writeVarlong(dst, out, timestampDelta);
      dst.set(rest, out);
      out += rest.length;
      c.pos = recordEnd;
    }
    this.buf = dst;
    this.pos = out;
  }
}
