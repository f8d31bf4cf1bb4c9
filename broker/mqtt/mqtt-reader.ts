import { malformed } from './mqtt-reason-code.ts';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads MQTT's data types (§1.5) from one packet's bytes. Every read is bounds-checked against
 * the packet's end before anything is allocated, so a length field can never make the reader
 * allocate more than the packet holds; a short or invalid field is a Malformed Packet.
 */
export class MqttReader {
  private pos: number;

  constructor(
    private readonly bytes: Uint8Array,
    start = 0,
    private end = bytes.length,
  ) {
    this.pos = start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  get offset(): number {
    return this.pos;
  }

  private need(count: number, what: string): void {
    if (this.end - this.pos < count) throw malformed(`${what} runs past the end of the packet`);
  }

  byte(what = 'byte'): number {
    this.need(1, what);
    return this.bytes[this.pos++]!;
  }

  u16(what = 'two byte integer'): number {
    this.need(2, what);
    const value = (this.bytes[this.pos]! << 8) | this.bytes[this.pos + 1]!;
    this.pos += 2;
    return value;
  }

  u32(what = 'four byte integer'): number {
    this.need(4, what);
    const b = this.bytes;
    const value = (b[this.pos]! * 0x1000000 + ((b[this.pos + 1]! << 16) | (b[this.pos + 2]! << 8) | b[this.pos + 3]!)) >>> 0;
    this.pos += 4;
    return value;
  }

  /** Variable Byte Integer (§1.5.5): at most 4 bytes, and in its shortest form. */
  varint(what = 'variable byte integer'): number {
    let value = 0;
    let multiplier = 1;
    for (let i = 0; i < 4; i++) {
      const b = this.byte(what);
      value += (b & 0x7f) * multiplier;
      if ((b & 0x80) === 0) {
        if (i > 0 && b === 0) throw malformed(`${what} is not in its shortest encoding`);
        return value;
      }
      multiplier *= 128;
    }
    throw malformed(`${what} is longer than 4 bytes`);
  }

  binary(what = 'binary data'): Uint8Array {
    const length = this.u16(what);
    this.need(length, what);
    const value = this.bytes.slice(this.pos, this.pos + length);
    this.pos += length;
    return value;
  }

  /** UTF-8 Encoded String (§1.5.4): well-formed UTF-8 without U+0000 (surrogates are ill-formed UTF-8 already). */
  utf8(what = 'string'): string {
    const length = this.u16(what);
    this.need(length, what);
    const raw = this.bytes.subarray(this.pos, this.pos + length);
    this.pos += length;
    if (raw.includes(0)) throw malformed(`${what} contains U+0000`);
    try {
      return strictUtf8.decode(raw);
    } catch {
      throw malformed(`${what} is not well-formed UTF-8`);
    }
  }

  /** The rest of the packet (a PUBLISH payload). */
  rest(): Uint8Array {
    const value = this.bytes.slice(this.pos, this.end);
    this.pos = this.end;
    return value;
  }

  /** Narrows the readable end to `length` bytes from here (a property block), returning the old end. */
  limit(length: number, what: string): number {
    this.need(length, what);
    const old = this.end;
    this.end = this.pos + length;
    return old;
  }

  restore(end: number): void {
    this.end = end;
  }

  expectEnd(what: string): void {
    if (this.pos !== this.end) throw malformed(`${what} has ${this.end - this.pos} unexpected trailing bytes`);
  }
}
