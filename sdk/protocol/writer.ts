import { ProtocolEncodeError } from './encode-error.ts';

const MAX_STRING_BYTES = 0x7fff;
/** Above Kafka's default socket.request.max.bytes (100 MiB): a frame this large is a caller bug. */
export const DEFAULT_MAX_FRAME_BYTES = 128 * 1024 * 1024;
const textEncoder = new TextEncoder();

function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

function uvarintSize(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

function hexNibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * Raw byte strings at least this long (record sets) are kept by reference until `finish()`. Below
 * it a copy costs less than a part of its own; above it, copying into the growing buffer meant a
 * doubling (a zeroed allocation and a copy of all before it) for each size class a record set
 * crosses: a 50 KB share-fetch response spent 7 % of the broker's time there.
 */
export const REFERENCE_RAW_BYTES = 4 * 1024;

/**
 * A growable big-endian buffer for one frame. It doubles as needed up to `maxBytes` and throws a
 * ProtocolEncodeError beyond it. `finish()` returns the written bytes: a view of the buffer, or,
 * when large raw byte strings were written, one copy joining the buffer's segments with them, so
 * record sets are copied once instead of again on every doubling (or not at all with
 * `finishParts()`). Callers must not change bytes given to `writeRaw` before `finish()`, or with
 * `finishParts()` before the parts are written out.
 */
export class Writer {
  buf: Uint8Array;
  view: DataView;
  pos = 0;
  readonly maxBytes: number;
  /** Finished buffer segments and referenced raw byte strings, in frame order. */
  private parts: Uint8Array[] | undefined;
  private partsBytes = 0;
  /** Where the buffer's bytes not yet in `parts` begin. */
  private segmentStart = 0;
  /** Tagged fields being written: their bytes are moved when the size is inserted, so none may be referenced. */
  private openTaggedFields = 0;

  constructor(initialBytes = 256, maxBytes = DEFAULT_MAX_FRAME_BYTES) {
    this.buf = new Uint8Array(initialBytes);
    this.view = new DataView(this.buf.buffer);
    this.maxBytes = maxBytes;
  }

  ensure(bytes: number): void {
    const needed = this.pos + bytes;
    if (needed <= this.buf.length) return;
    const frameBytes = this.partsBytes + needed - this.segmentStart;
    if (frameBytes > this.maxBytes) throw new ProtocolEncodeError(`frame of ${frameBytes} bytes exceeds ${this.maxBytes}`);
    const grown = new Uint8Array(Math.min(this.maxBytes, Math.max(needed, this.buf.length * 2)));
    grown.set(this.buf.subarray(0, this.pos));
    this.buf = grown;
    this.view = new DataView(grown.buffer);
  }

  /**
   * The written bytes as the parts they are held in: buffer segments and referenced raw byte
   * strings, in frame order, without joining them. A socket writes them with one writev, so record
   * sets reach the kernel without the copy `finish()` makes.
   */
  finishParts(): Uint8Array[] {
    const tail = this.buf.subarray(this.segmentStart, this.pos);
    return this.parts === undefined ? [tail] : [...this.parts, tail];
  }

  finish(): Uint8Array {
    const parts = this.parts;
    if (parts === undefined) return this.buf.subarray(0, this.pos);
    const out = new Uint8Array(this.partsBytes + this.pos - this.segmentStart);
    let at = 0;
    for (const part of parts) {
      out.set(part, at);
      at += part.length;
    }
    out.set(this.buf.subarray(this.segmentStart, this.pos), at);
    return out;
  }

  writeInt8(value: number): void {
    this.ensure(1);
    this.view.setInt8(this.pos++, value);
  }

  writeBool(value: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = value ? 1 : 0;
  }

  writeInt16(value: number): void {
    this.ensure(2);
    this.view.setInt16(this.pos, value);
    this.pos += 2;
  }

  writeUint16(value: number): void {
    this.ensure(2);
    this.view.setUint16(this.pos, value);
    this.pos += 2;
  }

  writeInt32(value: number): void {
    this.ensure(4);
    this.view.setInt32(this.pos, value);
    this.pos += 4;
  }

  writeInt64(value: bigint): void {
    this.ensure(8);
    this.view.setBigInt64(this.pos, value);
    this.pos += 8;
  }

  writeFloat64(value: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, value);
    this.pos += 8;
  }

  /** Accepts 32 hex digits, dashes anywhere (the 8-4-4-4-12 form `readUuid` returns). */
  writeUuid(value: string): void {
    this.ensure(16);
    let digits = 0;
    let byte = 0;
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i);
      if (c === 45) continue;
      const nibble = hexNibble(c);
      if (nibble < 0 || digits === 32) throw new ProtocolEncodeError(`malformed uuid ${JSON.stringify(value)}`);
      byte = (byte << 4) | nibble;
      if ((++digits & 1) === 0) {
        this.buf[this.pos + (digits >> 1) - 1] = byte;
        byte = 0;
      }
    }
    if (digits !== 32) throw new ProtocolEncodeError(`malformed uuid ${JSON.stringify(value)}`);
    this.pos += 16;
  }

  writeUvarint(value: number): void {
    this.ensure(5);
    const b = this.buf;
    while (value >= 0x80) {
      b[this.pos++] = (value & 0x7f) | 0x80;
      value = Math.floor(value / 128);
    }
    b[this.pos++] = value;
  }

  private utf8(s: string, length: number): void {
    this.ensure(length);
    if (length === s.length) {
      const b = this.buf;
      for (let i = 0; i < length; i++) b[this.pos + i] = s.charCodeAt(i);
    } else {
      textEncoder.encodeInto(s, this.buf.subarray(this.pos, this.pos + length));
    }
    this.pos += length;
  }

  private stringLength(s: string): number {
    const length = utf8Length(s);
    if (length > MAX_STRING_BYTES) throw new ProtocolEncodeError(`string of ${length} bytes exceeds ${MAX_STRING_BYTES}`);
    return length;
  }

  writeString(s: string): void {
    const length = this.stringLength(s);
    this.writeInt16(length);
    this.utf8(s, length);
  }

  writeNullableString(s: string | null): void {
    if (s === null) this.writeInt16(-1);
    else this.writeString(s);
  }

  writeCompactString(s: string): void {
    const length = this.stringLength(s);
    this.writeUvarint(length + 1);
    this.utf8(s, length);
  }

  writeCompactNullableString(s: string | null): void {
    if (s === null) this.writeUvarint(0);
    else this.writeCompactString(s);
  }

  writeRaw(bytes: Uint8Array): void {
    if (bytes.length >= REFERENCE_RAW_BYTES && this.openTaggedFields === 0) {
      const frameBytes = this.partsBytes + this.pos - this.segmentStart + bytes.length;
      if (frameBytes > this.maxBytes) throw new ProtocolEncodeError(`frame of ${frameBytes} bytes exceeds ${this.maxBytes}`);
      const parts = (this.parts ??= []);
      if (this.pos > this.segmentStart) parts.push(this.buf.subarray(this.segmentStart, this.pos));
      parts.push(bytes);
      this.partsBytes = frameBytes;
      this.segmentStart = this.pos;
      return;
    }
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  writeBytes(bytes: Uint8Array): void {
    this.writeInt32(bytes.length);
    this.writeRaw(bytes);
  }

  writeNullableBytes(bytes: Uint8Array | null): void {
    if (bytes === null) this.writeInt32(-1);
    else this.writeBytes(bytes);
  }

  writeCompactBytes(bytes: Uint8Array): void {
    this.writeUvarint(bytes.length + 1);
    this.writeRaw(bytes);
  }

  writeCompactNullableBytes(bytes: Uint8Array | null): void {
    if (bytes === null) this.writeUvarint(0);
    else this.writeCompactBytes(bytes);
  }

  /** Starts a tagged field: writes the tag and returns where its value begins. */
  beginTaggedField(tag: number): number {
    this.writeUvarint(tag);
    this.openTaggedFields++;
    return this.pos;
  }

  /** Inserts the value's size (uvarint) before the value written since `start`. */
  endTaggedField(start: number): void {
    this.openTaggedFields--;
    const size = this.pos - start;
    const sizeBytes = uvarintSize(size);
    this.ensure(sizeBytes);
    const b = this.buf;
    b.copyWithin(start + sizeBytes, start, this.pos);
    let at = start;
    let rest = size;
    while (rest >= 0x80) {
      b[at++] = (rest & 0x7f) | 0x80;
      rest = Math.floor(rest / 128);
    }
    b[at] = rest;
    this.pos += sizeBytes;
  }
}
