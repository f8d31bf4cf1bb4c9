import { setImmediate as nextTurn } from 'node:timers/promises';
import type { BinaryString } from './binary-string.ts';
import { emptyTree, type SortedTree, treeOfSorted } from './sorted-tree.ts';

/**
 * Keys whose tree entry may lag behind the maps before the tree catches up by itself: bounds the
 * lag set's memory and how long one catch-up holds the event loop (tens of milliseconds).
 */
const LAG_MAX = 1 << 16;
/** Map insertions between two yields to the event loop while loading (a few milliseconds' worth). */
const LOAD_PER_TURN = 1 << 14;
/**
 * Point reads go to one of this many maps, chosen by a hash of the key. A Map rehashes all of its
 * entries in one step when it grows: one map of a million entries stalls the event loop for
 * hundreds of milliseconds at each doubling, and a Map holds at most 2^24 entries.
 */
const SHARDS = 64;
/** Chars hashed at each end of a long key. */
const HASHED_END_CHARS = 16;

/**
 * A store's committed state: serialized keys to serialized values, in two structures. Hash maps
 * answer point reads and take every write (a random lookup in a B+ tree of a million string keys
 * costs about ten times a hash lookup: each comparison on the way down is a cache miss). The B+
 * tree gives key order and O(1) copy-on-write clones; it is brought up to date only when order is
 * needed (a range, a snapshot) or when LAG_MAX keys lag, by applying the lagging keys in key order
 * (neighbouring keys share a path, so sorted application costs half of random). A key rewritten
 * many times between two catch-ups costs the tree one update.
 */
export class CommittedState {
  private shards = newShards();
  private count = 0;
  private tree: SortedTree<BinaryString> = emptyTree();
  private readonly lag = new Set<BinaryString>();

  constructor(private readonly lagMax = LAG_MAX) {}

  get size(): number {
    return this.count;
  }

  get(key: BinaryString): BinaryString | undefined {
    return this.shards[shardOf(key)]!.get(key);
  }

  has(key: BinaryString): boolean {
    return this.shards[shardOf(key)]!.has(key);
  }

  set(key: BinaryString, value: BinaryString): void {
    const shard = this.shards[shardOf(key)]!;
    const before = shard.size;
    shard.set(key, value);
    this.count += shard.size - before;
    this.lagged(key);
  }

  delete(key: BinaryString): void {
    if (!this.shards[shardOf(key)]!.delete(key)) return;
    this.count--;
    this.lagged(key);
  }

  /** The state in key order. The tree is the store's own: read it, do not change it. */
  ordered(): SortedTree<BinaryString> {
    if (this.lag.size > 0) this.catchUp();
    return this.tree;
  }

  /**
   * Replaces the state with `keys` (strictly ascending) and their `values`. The tree is built in
   * one O(n) step; the maps, which cost several times more, in slices with the event loop running
   * between them. The state changes only at the end.
   */
  async load(keys: readonly BinaryString[], values: readonly BinaryString[]): Promise<void> {
    const tree = treeOfSorted(keys, values);
    const shards = newShards();
    for (let i = 0; i < keys.length; i++) {
      if (i > 0 && i % LOAD_PER_TURN === 0) await nextTurn();
      shards[shardOf(keys[i]!)]!.set(keys[i]!, values[i]!);
    }
    this.tree = tree;
    this.shards = shards;
    this.count = keys.length;
    this.lag.clear();
  }

  clear(): void {
    this.shards = newShards();
    this.count = 0;
    this.tree = emptyTree();
    this.lag.clear();
  }

  private lagged(key: BinaryString): void {
    this.lag.add(key);
    if (this.lag.size >= this.lagMax) this.catchUp();
  }

  private catchUp(): void {
    const keys = [...this.lag].sort();
    this.lag.clear();
    const tree = this.tree;
    for (const key of keys) {
      const value = this.get(key);
      if (value === undefined) tree.delete(key);
      else tree.set(key, value);
    }
  }
}

function newShards(): Map<BinaryString, BinaryString>[] {
  return Array.from({ length: SHARDS }, () => new Map<BinaryString, BinaryString>());
}

/** FNV-1a over the key, or over both ends of a long one (keys that share a long prefix differ at the end). */
function shardOf(key: BinaryString): number {
  let hash = 0x811c9dc5;
  const length = key.length;
  if (length <= 2 * HASHED_END_CHARS) {
    for (let i = 0; i < length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  } else {
    for (let i = 0; i < HASHED_END_CHARS; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
    for (let i = length - HASHED_END_CHARS; i < length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  }
  return (hash ^ (hash >>> 15)) & (SHARDS - 1);
}
