import { type DecodeErrorName, ProtocolDecodeError } from './decode-error.ts';

const MAX_STRING_BYTES = 0x7fff;
// Kafka strings are read as Java reads them: a leading U+FEFF is a character, not a byte-order mark to drop.
const textDecoder = new TextDecoder('utf-8', { ignoreBOM: true });
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const EMPTY_BYTES = new Uint8Array(0);

/**
 * A cursor over one frame. Every read checks the bytes it needs against `end` first, and every
 * length or element count is checked against the bytes left before anything is allocated, so a
 * declared count of 2^31-1 in a 100-byte frame fails at once. Bytes and records are returned as
 * subarrays of the frame (zero copy): they stay valid only as long as the frame's buffer does.
 *
 * `end` can be narrowed temporarily (`pushLimit`) so a tagged field's value cannot read past its
 * declared size.
 */
export class Reader {
  readonly buf: Uint8Array;
  readonly view: DataView;
  pos: number;
  end: number;

  constructor(buf: Uint8Array, pos = 0, end = buf.length) {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = pos;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  fail(message: string, errorName: DecodeErrorName = 'CORRUPT_MESSAGE'): ProtocolDecodeError {
    return new ProtocolDecodeError(errorName, message, this.pos);
  }

  private need(bytes: number): void {
    if (bytes > this.end - this.pos) throw this.fail(`need ${bytes} bytes, ${this.end - this.pos} left`);
  }

  skip(bytes: number): void {
    this.need(bytes);
    this.pos += bytes;
  }

  readInt8(): number {
    this.need(1);
    return this.view.getInt8(this.pos++);
  }

  readBool(): boolean {
    this.need(1);
    return this.buf[this.pos++] !== 0;
  }

  readInt16(): number {
    this.need(2);
    const value = this.view.getInt16(this.pos);
    this.pos += 2;
    return value;
  }

  readUint16(): number {
    this.need(2);
    const value = this.view.getUint16(this.pos);
    this.pos += 2;
    return value;
  }

  readInt32(): number {
    this.need(4);
    const value = this.view.getInt32(this.pos);
    this.pos += 4;
    return value;
  }

  readInt64(): bigint {
    this.need(8);
    const value = this.view.getBigInt64(this.pos);
    this.pos += 8;
    return value;
  }

  readFloat64(): number {
    this.need(8);
    const value = this.view.getFloat64(this.pos);
    this.pos += 8;
    return value;
  }

  /** 16 bytes, returned as lowercase hex in the 8-4-4-4-12 layout (`crypto.randomUUID()`'s format). */
  readUuid(): string {
    this.need(16);
    const b = this.buf;
    const p = this.pos;
    this.pos += 16;
    let s = '';
    for (let i = 0; i < 16; i++) {
      if (i === 4 || i === 6 || i === 8 || i === 10) s += '-';
      s += HEX[b[p + i]!]!;
    }
    return s;
  }

  /** Unsigned LEB128, at most 5 bytes (a 32-bit value), as Kafka's `readUnsignedVarint`. */
  readUvarint(): number {
    const b = this.buf;
    let value = 0;
    for (let i = 0; i < 5; i++) {
      if (this.pos >= this.end) throw this.fail('truncated varint');
      const byte = b[this.pos++]!;
      value += (byte & 0x7f) * 2 ** (7 * i);
      if ((byte & 0x80) === 0) {
        if (value > 0xffffffff) throw this.fail('varint above 32 bits');
        return value;
      }
    }
    throw this.fail('varint longer than 5 bytes');
  }

  private utf8(length: number): string {
    if (length > MAX_STRING_BYTES) throw this.fail(`string length ${length} above ${MAX_STRING_BYTES}`);
    this.need(length);
    const start = this.pos;
    this.pos += length;
    if (length < 32) {
      const b = this.buf;
      let s = '';
      for (let i = start; i < start + length; i++) {
        const c = b[i]!;
        if (c >= 0x80) return textDecoder.decode(b.subarray(start, start + length));
        s += String.fromCharCode(c);
      }
      return s;
    }
    return textDecoder.decode(this.buf.subarray(start, start + length));
  }

  /** Classic STRING: int16 length, then UTF-8. */
  readString(): string {
    const length = this.readInt16();
    if (length < 0) throw this.fail('null or negative length for a non-nullable string');
    return this.utf8(length);
  }

  /** Classic NULLABLE_STRING: int16 length, -1 is null. */
  readNullableString(): string | null {
    const length = this.readInt16();
    if (length === -1) return null;
    if (length < 0) throw this.fail(`negative string length ${length}`);
    return this.utf8(length);
  }

  /** COMPACT_STRING: uvarint length+1. */
  readCompactString(): string {
    const length = this.readUvarint() - 1;
    if (length < 0) throw this.fail('null for a non-nullable compact string');
    return this.utf8(length);
  }

  readCompactNullableString(): string | null {
    const length = this.readUvarint() - 1;
    return length < 0 ? null : this.utf8(length);
  }

  private slice(length: number): Uint8Array {
    this.need(length);
    if (length === 0) return EMPTY_BYTES;
    const start = this.pos;
    this.pos += length;
    return this.buf.subarray(start, start + length);
  }

  /** Classic BYTES: int32 length. */
  readBytes(): Uint8Array {
    const length = this.readInt32();
    if (length < 0) throw this.fail('null or negative length for non-nullable bytes');
    return this.slice(length);
  }

  readNullableBytes(): Uint8Array | null {
    const length = this.readInt32();
    if (length === -1) return null;
    if (length < 0) throw this.fail(`negative bytes length ${length}`);
    return this.slice(length);
  }

  readCompactBytes(): Uint8Array {
    const length = this.readUvarint() - 1;
    if (length < 0) throw this.fail('null for non-nullable compact bytes');
    return this.slice(length);
  }

  readCompactNullableBytes(): Uint8Array | null {
    const length = this.readUvarint() - 1;
    return length < 0 ? null : this.slice(length);
  }

  private count(count: number, minElementBytes: number): number {
    if (count * minElementBytes > this.end - this.pos) {
      throw this.fail(`array of ${count} elements cannot fit in ${this.end - this.pos} bytes`);
    }
    return count;
  }

  /**
   * Classic ARRAY count (int32). `minElementBytes` (at least 1) is the smallest encoding of one
   * element, so the count is rejected before any element is allocated.
   */
  readArrayLength(minElementBytes: number): number {
    const count = this.readInt32();
    if (count < 0) throw this.fail('null or negative count for a non-nullable array');
    return this.count(count, minElementBytes);
  }

  /** Classic nullable ARRAY count: -1 for null. */
  readNullableArrayLength(minElementBytes: number): number {
    const count = this.readInt32();
    if (count === -1) return -1;
    if (count < 0) throw this.fail(`negative array count ${count}`);
    return this.count(count, minElementBytes);
  }

  readCompactArrayLength(minElementBytes: number): number {
    const count = this.readUvarint() - 1;
    if (count < 0) throw this.fail('null for a non-nullable compact array');
    return this.count(count, minElementBytes);
  }

  /** Compact nullable array count: -1 for null. */
  readCompactNullableArrayLength(minElementBytes: number): number {
    const count = this.readUvarint() - 1;
    return count < 0 ? -1 : this.count(count, minElementBytes);
  }

  /** A nullable struct is preceded by an int8 marker: -1 null, 1 present. */
  readStructPresent(): boolean {
    return this.readInt8() >= 0;
  }

  /** Narrows `end` to the next `size` bytes; returns the previous end for `popLimit`. */
  pushLimit(size: number): number {
    this.need(size);
    const saved = this.end;
    this.end = this.pos + size;
    return saved;
  }

  /** Moves past whatever the tagged value left unread and restores the outer end. */
  popLimit(savedEnd: number): void {
    this.pos = this.end;
    this.end = savedEnd;
  }

  /** Skips a tagged-field section whose tags this version does not know. */
  skipTaggedFields(): void {
    for (let count = this.readUvarint(); count > 0; count--) {
      this.readUvarint();
      this.skip(this.readUvarint());
    }
  }

  expectEnd(): void {
    if (this.pos !== this.end) throw this.fail(`${this.end - this.pos} trailing bytes after the message`);
  }
}
