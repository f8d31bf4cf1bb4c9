import { ArraySnapshot } from './array-snapshot.ts';
import type { BinaryString } from './binary-string.ts';
import type { SortedTree } from './sorted-tree.ts';
import type { StoreSnapshot } from './task-store.ts';

/**
 * A global store's state with the positions of its topic's partitions it covers, as the entries
 * of one snapshot file (streams/state/snapshot-file.ts, written and chosen by SnapshotDirectory):
 *
 *   key 0x00 + partition (int32, big-endian)  →  value: next offset to read (int64, big-endian)
 *   key 0x01 + the store's serialized key      →  value: the topic's value bytes
 *
 * Positions sort before entries, and keys stay strictly ascending as the file requires. The file's
 * "changelog partition" field holds the topic's partition count (a snapshot of a topic that had
 * another count is not this one's), its "changelog offset" the sum of the positions, so the newest
 * snapshot is the one with the highest file name.
 */
const POSITION = '\u0000';
const ENTRY = '\u0001';

export interface GlobalState {
  /** Next offset to read, per partition of the topic. */
  readonly positions: ReadonlyMap<number, number>;
  readonly keys: readonly BinaryString[];
  readonly values: readonly BinaryString[];
}

/** A snapshot of `tree` (a clone no one changes) at `positions`. */
export function globalSnapshotOf(tree: SortedTree<BinaryString>, positions: ReadonlyMap<number, number>): StoreSnapshot {
  const sorted = [...positions].sort(([a], [b]) => a - b);
  let sum = 0;
  for (const [, offset] of sorted) sum += offset;
  return {
    changelogOffset: sum,
    entryCount: sorted.length + tree.size,
    *entries() {
      for (const [partition, offset] of sorted) yield [POSITION + int32Binary(partition), int64Binary(offset)];
      for (const [key, value] of tree.entries()) yield [ENTRY + key, value];
    },
  };
}

/** The positions and entries of a loaded global snapshot, or why it is malformed. */
export function globalStateOf(snapshot: ArraySnapshot): GlobalState | string {
  const positions = new Map<number, number>();
  let i = 0;
  for (; i < snapshot.keys.length && snapshot.keys[i]![0] === POSITION; i++) {
    const key = snapshot.keys[i]!;
    const value = snapshot.values[i]!;
    if (key.length !== 5 || value.length !== 8) return `position entry ${i} has ${key.length - 1} key bytes and ${value.length} value bytes, expected 4 and 8`;
    positions.set(binaryInt(key, 1, 4), binaryInt(value, 0, 8));
  }
  const keys: BinaryString[] = [];
  const values: BinaryString[] = [];
  for (; i < snapshot.keys.length; i++) {
    const key = snapshot.keys[i]!;
    if (key[0] !== ENTRY) return `entry ${i} has no entry tag`;
    keys.push(key.slice(1));
    values.push(snapshot.values[i]!);
  }
  return { positions, keys, values };
}

function int32Binary(n: number): BinaryString {
  return String.fromCharCode((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

/** Offsets are below 2^53: the high word fits a double's exact range. */
function int64Binary(n: number): BinaryString {
  const high = Math.floor(n / 2 ** 32);
  return int32Binary(high) + int32Binary(n >>> 0);
}

function binaryInt(text: BinaryString, from: number, length: number): number {
  let n = 0;
  for (let i = from; i < from + length; i++) n = n * 256 + text.charCodeAt(i);
  return n;
}
