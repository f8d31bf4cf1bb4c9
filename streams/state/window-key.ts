import type { BinaryString } from './binary-string.ts';

/**
 * The key of one window in a window store, its changelog and its snapshots:
 *
 *   0  key    the key serde's bytes
 *   n  start  int64, big-endian: the window start, ms since the epoch (never negative)
 *
 * Kafka Streams' window store keys (WindowKeySchema.toStoreKeyBinary) are the same followed by a
 * 4-byte sequence number that only stores keeping duplicates use; ours never keep duplicates, so
 * the suffix is the 8-byte start alone, the layout of Kafka Streams' windowed pipe serde.
 *
 * Entries are in the byte order of this key, as in Kafka Streams' RocksDB window stores: the windows
 * of one key are in start order (a non-negative big-endian start sorts as its number), and keys of
 * one length are in key order. A key that is a proper prefix of another may interleave with it
 * (key "a" with start bytes 0x62.. against key "ab"), so a fetch by key skips entries whose key part
 * is not the key it asked for.
 */
export const WINDOW_START_BYTES = 8;

const TWO_32 = 0x1_0000_0000;

/** `binaryKey` (the key serde's bytes) followed by `startMs`. */
export function windowKeyOf(binaryKey: BinaryString, startMs: number): BinaryString {
  if (!Number.isSafeInteger(startMs) || startMs < 0) throw new Error(`invariant: a window start must be a non-negative safe integer, got ${startMs}`);
  const high = Math.floor(startMs / TWO_32);
  const low = startMs - high * TWO_32;
  return (
    binaryKey +
    String.fromCharCode((high >>> 24) & 0xff, (high >>> 16) & 0xff, (high >>> 8) & 0xff, high & 0xff, (low >>> 24) & 0xff, (low >>> 16) & 0xff, (low >>> 8) & 0xff, low & 0xff)
  );
}

/** The window start of a window key. */
export function startOfWindowKey(windowKey: BinaryString): number {
  const at = windowKey.length - WINDOW_START_BYTES;
  if (at < 0) throw new Error(`invariant: a window key of ${windowKey.length} bytes is shorter than its start`);
  let high = 0;
  let low = 0;
  for (let i = 0; i < 4; i++) high = high * 256 + windowKey.charCodeAt(at + i);
  for (let i = 4; i < 8; i++) low = low * 256 + windowKey.charCodeAt(at + i);
  return high * TWO_32 + low;
}

/** The key part (the key serde's bytes) of a window key. */
export function keyOfWindowKey(windowKey: BinaryString): BinaryString {
  return windowKey.slice(0, windowKey.length - WINDOW_START_BYTES);
}

/** Whether `windowKey` is one of `binaryKey`'s windows (its key part is exactly `binaryKey`). */
export function isWindowOf(windowKey: BinaryString, binaryKey: BinaryString): boolean {
  return windowKey.length === binaryKey.length + WINDOW_START_BYTES && windowKey.startsWith(binaryKey);
}
