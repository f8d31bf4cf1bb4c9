import type { FuzzRandom } from './fuzz-random.ts';
import type { ByteRange } from './fuzz-seeds.ts';
import { concatBytes } from './batch-fixture.ts';

/**
 * Values that stress length and count handling when written over a field: int16 string lengths
 * past the end, int32 array counts up to 2^31-1, negative sizes, and unsigned varints that are
 * huge, overlong or never terminate.
 */
const INTERESTING: readonly (readonly number[])[] = [
  [0x7f, 0xff],
  [0x80, 0x00],
  [0xff, 0xff],
  [0xff, 0xfe],
  [0x00, 0x00],
  [0x7f, 0xff, 0xff, 0xff],
  [0x80, 0x00, 0x00, 0x00],
  [0xff, 0xff, 0xff, 0xff],
  [0x00, 0x00, 0x00, 0x00],
  [0x00, 0xff, 0xff, 0xff],
  [0x00, 0x10, 0x00, 0x00],
  [0xff, 0xff, 0xff, 0xff, 0x0f],
  [0xff, 0xff, 0xff, 0xff, 0x07],
  [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
  [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
  [0xfe, 0xff, 0x03],
  [0x81, 0x80, 0x80, 0x80, 0x00],
];

/** An offset in `bytes`, half the time inside `focus` (the part before the records, say). */
function offsetIn(rng: FuzzRandom, length: number, focus?: ByteRange): number {
  if (focus !== undefined && focus.end > focus.start && rng.chance(0.5)) return rng.range(focus.start, focus.end - 1);
  return rng.int(length);
}

/** One random structural edit of `bytes`; never returns the same array. */
export function mutateOnce(rng: FuzzRandom, bytes: Uint8Array, focus?: ByteRange): Uint8Array {
  if (bytes.length === 0) return rng.bytes(rng.range(1, 16));
  const out = bytes.slice();
  const at = offsetIn(rng, bytes.length, focus);
  switch (rng.weighted({ flipBit: 4, setByte: 4, interesting: 6, insert: 2, delete: 2, truncate: 2, duplicate: 1, swap: 1 })) {
    case 'flipBit':
      out[at] = out[at]! ^ (1 << rng.int(8));
      return out;
    case 'setByte':
      out[at] = rng.pick([0x00, 0x01, 0x7f, 0x80, 0xff, rng.int(256)]);
      return out;
    case 'interesting': {
      const value = rng.pick(INTERESTING);
      for (let i = 0; i < value.length && at + i < out.length; i++) out[at + i] = value[i]!;
      return out;
    }
    case 'insert': {
      const extra = rng.chance(0.5) ? rng.bytes(rng.range(1, 8)) : Uint8Array.from(rng.pick(INTERESTING));
      return concatBytes([bytes.subarray(0, at), extra, bytes.subarray(at)]);
    }
    case 'delete':
      return concatBytes([bytes.subarray(0, at), bytes.subarray(Math.min(bytes.length, at + rng.range(1, 8)))]);
    case 'truncate':
      return bytes.slice(0, at);
    case 'duplicate': {
      const end = Math.min(bytes.length, at + rng.range(1, 64));
      return concatBytes([bytes.subarray(0, end), bytes.subarray(at, end), bytes.subarray(end)]);
    }
    case 'swap': {
      const other = rng.int(bytes.length);
      out[at] = bytes[other]!;
      out[other] = bytes[at]!;
      return out;
    }
  }
}

/**
 * Changes one byte inside a CRC-32C-covered range to a different value. CRC-32C detects every
 * error burst of 32 bits or fewer, so the batch's stored CRC no longer matches.
 */
export function breakCrc(rng: FuzzRandom, bytes: Uint8Array, covered: ByteRange): Uint8Array {
  const out = bytes.slice();
  const at = rng.range(covered.start, covered.end - 1);
  out[at] = (out[at]! + rng.range(1, 255)) & 0xff;
  return out;
}

/** Overwrites the request header's api key and/or version with values the broker may not serve. */
export function mutateHeader(rng: FuzzRandom, frame: Uint8Array): Uint8Array {
  const out = frame.slice();
  if (out.length < 4) return out;
  const dv = new DataView(out.buffer);
  if (rng.chance(0.5)) dv.setInt16(0, rng.pick([-1, 32767, -32768, rng.range(0, 100), rng.range(0, 32767)]));
  if (rng.chance(0.7)) dv.setInt16(2, rng.pick([-1, 32767, -32768, rng.range(0, 20), rng.range(0, 32767)]));
  return out;
}

export function sizePrefixed(frame: Uint8Array, declaredSize = frame.length): Uint8Array {
  const out = new Uint8Array(4 + frame.length);
  new DataView(out.buffer).setInt32(0, declaredSize | 0);
  out.set(frame, 4);
  return out;
}

