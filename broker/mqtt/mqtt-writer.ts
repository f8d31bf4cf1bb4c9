const utf8 = new TextEncoder();

/** Writes MQTT's data types (§1.5) into a growable buffer; the encoder's counterpart of MqttReader. */
export class MqttWriter {
  private buf: Uint8Array;
  private pos = 0;

  constructor(initialBytes = 64) {
    this.buf = new Uint8Array(Math.max(1, initialBytes));
  }

  get length(): number {
    return this.pos;
  }

  private ensure(count: number): void {
    if (this.pos + count <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.pos + count));
    grown.set(this.buf.subarray(0, this.pos));
    this.buf = grown;
  }

  byte(value: number): this {
    this.ensure(1);
    this.buf[this.pos++] = value & 0xff;
    return this;
  }

  u16(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xffff) throw new Error(`invariant: ${value} is not a two byte integer`);
    this.ensure(2);
    this.buf[this.pos++] = value >>> 8;
    this.buf[this.pos++] = value & 0xff;
    return this;
  }

  u32(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) throw new Error(`invariant: ${value} is not a four byte integer`);
    this.ensure(4);
    this.buf[this.pos++] = value >>> 24;
    this.buf[this.pos++] = (value >>> 16) & 0xff;
    this.buf[this.pos++] = (value >>> 8) & 0xff;
    this.buf[this.pos++] = value & 0xff;
    return this;
  }

  varint(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 268_435_455) throw new Error(`invariant: ${value} is not a variable byte integer`);
    do {
      let b = value % 128;
      value = Math.floor(value / 128);
      if (value > 0) b |= 0x80;
      this.byte(b);
    } while (value > 0);
    return this;
  }

  bytes(value: Uint8Array): this {
    this.ensure(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
    return this;
  }

  binary(value: Uint8Array): this {
    return this.u16(value.length).bytes(value);
  }

  utf8(value: string): this {
    return this.binary(utf8.encode(value));
  }

  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

export function sizeOfVarint(value: number): number {
  return value < 128 ? 1 : value < 16_384 ? 2 : value < 2_097_152 ? 3 : 4;
}
