/**
 * Big-endian signed 64-bit integers held as JavaScript numbers (safe integers), read and written
 * byte by byte: no DataView or BigInt per value on serde hot paths.
 */
const TWO_32 = 0x1_0000_0000;

/** Writes `value` (a safe integer) at `pos`. */
export function writeInt64BE(bytes: Uint8Array, pos: number, value: number): void {
  const high = Math.floor(value / TWO_32);
  const low = value - high * TWO_32;
  bytes[pos] = high >>> 24;
  bytes[pos + 1] = high >>> 16;
  bytes[pos + 2] = high >>> 8;
  bytes[pos + 3] = high;
  bytes[pos + 4] = low >>> 24;
  bytes[pos + 5] = low >>> 16;
  bytes[pos + 6] = low >>> 8;
  bytes[pos + 7] = low;
}

/** The integer at `pos`; beyond the safe range it is rounded (callers check `Number.isSafeInteger`). */
export function readInt64BE(bytes: Uint8Array, pos: number): number {
  const high = (bytes[pos]! << 24) | (bytes[pos + 1]! << 16) | (bytes[pos + 2]! << 8) | bytes[pos + 3]!;
  const low = ((bytes[pos + 4]! << 24) | (bytes[pos + 5]! << 16) | (bytes[pos + 6]! << 8) | bytes[pos + 7]!) >>> 0;
  return high * TWO_32 + low;
}
