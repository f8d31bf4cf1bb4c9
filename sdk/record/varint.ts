import { KafkaError } from '../protocol/kafka-error.ts';

/**
 * Kafka's variable-length integers (protobuf style): seven bits per byte, least significant group
 * first, high bit set on every byte but the last. Signed values are zig-zag encoded first
 * (0, -1, 1, -2, ... map to 0, 1, 2, 3, ...) so small negative numbers stay short.
 *
 * varint covers int32 (at most 5 bytes), varlong covers int64 (at most 10 bytes). JS numbers hold
 * varlongs exactly up to 2^53; larger values are rejected as corrupt when read.
 */

/** A read position inside `bytes`; readers never look at or past `end`. */
export interface ByteCursor {
  bytes: Uint8Array;
  pos: number;
  end: number;
}

export function byteCursor(bytes: Uint8Array, pos = 0, end = bytes.length): ByteCursor {
  return { bytes, pos, end };
}

/** Below this magnitude the zig-zag value (2|v| or 2|v|-1) is an exact double. */
const NUMBER_ZIGZAG_LIMIT = 2 ** 52;

function truncated(what: string): KafkaError {
  return new KafkaError('CORRUPT_MESSAGE', `truncated ${what}: input ends before its last byte`);
}

function tooLong(what: string, maxBytes: number): KafkaError {
  return new KafkaError('CORRUPT_MESSAGE', `${what} is longer than ${maxBytes} bytes or out of range`);
}

export function sizeOfUnsignedVarint(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x20_0000) return 3;
  if (value < 0x1000_0000) return 4;
  return 5;
}

export function sizeOfVarint(value: number): number {
  return sizeOfUnsignedVarint(((value << 1) ^ (value >> 31)) >>> 0);
}

export function sizeOfVarlong(value: number): number {
  if (value >= -0x4000_0000 && value < 0x4000_0000) return sizeOfVarint(value);
  let raw = value >= 0 ? 2 * value : -2 * value - 1;
  let bytes = 1;
  while (raw >= 128) {
    raw = Math.floor(raw / 128);
    bytes++;
  }
  return bytes;
}

/** Writes `value` (0..2^32-1) at `pos`; returns the position after it. The caller ensures room. */
export function writeUnsignedVarint(bytes: Uint8Array, pos: number, value: number): number {
  let v = value >>> 0;
  while (v >= 0x80) {
    bytes[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  bytes[pos++] = v;
  return pos;
}

/** Writes an int32 zig-zag varint at `pos`; returns the position after it. */
export function writeVarint(bytes: Uint8Array, pos: number, value: number): number {
  return writeUnsignedVarint(bytes, pos, ((value << 1) ^ (value >> 31)) >>> 0);
}

/** Writes a safe-integer zig-zag varlong at `pos`; returns the position after it. */
export function writeVarlong(bytes: Uint8Array, pos: number, value: number): number {
  if (value >= -0x4000_0000 && value < 0x4000_0000) return writeVarint(bytes, pos, value);
  if (value > -NUMBER_ZIGZAG_LIMIT && value < NUMBER_ZIGZAG_LIMIT) {
    let raw = value >= 0 ? 2 * value : -2 * value - 1;
    while (raw >= 128) {
      bytes[pos++] = (raw % 128) | 0x80;
      raw = Math.floor(raw / 128);
    }
    bytes[pos++] = raw;
    return pos;
  }
  if (!Number.isSafeInteger(value)) throw new Error(`varlong value ${value} is not a safe integer`);
  // The zig-zag form of |v| >= 2^52 can exceed 2^53, where doubles lose odd numbers.
  const big = BigInt(value);
  let raw = BigInt.asUintN(64, (big << 1n) ^ (big >> 63n));
  while (raw >= 128n) {
    bytes[pos++] = Number(raw & 0x7fn) | 0x80;
    raw >>= 7n;
  }
  bytes[pos++] = Number(raw);
  return pos;
}

/** Reads an unsigned varint of at most 5 bytes whose value fits in 32 bits. */
export function readUnsignedVarint(c: ByteCursor): number {
  const { bytes, end } = c;
  let pos = c.pos;
  let result = 0;
  for (let shift = 0; shift < 28; shift += 7) {
    if (pos >= end) throw truncated('varint');
    const b = bytes[pos++]!;
    result |= (b & 0x7f) << shift;
    if (b < 0x80) {
      c.pos = pos;
      return result >>> 0;
    }
  }
  if (pos >= end) throw truncated('varint');
  const last = bytes[pos++]!;
  if (last > 0x0f) throw tooLong('varint', 5);
  c.pos = pos;
  return (result >>> 0) + last * 0x1000_0000;
}

/** Reads an int32 zig-zag varint. */
export function readVarint(c: ByteCursor): number {
  const raw = readUnsignedVarint(c);
  return (raw >>> 1) ^ -(raw & 1);
}

/** Reads an int64 zig-zag varlong; values outside the safe-integer range are corrupt. */
export function readVarlong(c: ByteCursor): number {
  const { bytes, end } = c;
  let pos = c.pos;
  let lo = 0;
  // The first four groups (28 bits) accumulate with int32 arithmetic: the common case.
  for (let shift = 0; shift < 28; shift += 7) {
    if (pos >= end) throw truncated('varlong');
    const b = bytes[pos++]!;
    lo |= (b & 0x7f) << shift;
    if (b < 0x80) {
      c.pos = pos;
      return (lo >>> 1) ^ -(lo & 1);
    }
  }
  let raw = lo;
  let scale = 0x1000_0000;
  for (let i = 4; i < 10; i++) {
    if (pos >= end) throw truncated('varlong');
    const b = bytes[pos++]!;
    raw += (b & 0x7f) * scale;
    if (b < 0x80) {
      c.pos = pos;
      return zigzagDecodeLarge(raw, bytes, c.pos - (i + 1), c.pos);
    }
    scale *= 128;
  }
  throw tooLong('varlong', 10);
}

function zigzagDecodeLarge(raw: number, bytes: Uint8Array, start: number, end: number): number {
  if (raw < 2 ** 53) return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
  let big = 0n;
  for (let i = end - 1; i >= start; i--) big = (big << 7n) | BigInt(bytes[i]! & 0x7f);
  if (big >= 1n << 64n) throw tooLong('varlong', 10);
  const value = (big >> 1n) ^ -(big & 1n);
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new KafkaError('CORRUPT_MESSAGE', `varlong ${value} is outside the safe integer range`);
  }
  return Number(value);
}
