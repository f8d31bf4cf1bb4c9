import { setImmediate as nextTurn } from 'node:timers/promises';
import type { BinaryString } from './binary-string.ts';
import { emptyTree, type SortedTree, treeOfSorted } from './sorted-tree.ts';

/**
 * Keys whose tree entry may lag behind the map before the tree catches up by itself: bounds the
 * lag set's memory and how long one catch-up holds the event loop (tens of milliseconds).
 */
const LAG_MAX = 1 << 16;
/** Map insertions between two yields to the event loop while loading (a few milliseconds' worth). */
const LOAD_PER_TURN = 1 << 15;

/**
 * A store's committed state: serialized keys to serialized values, in two structures. A Map
 * answers point reads and takes every write (a random lookup in a B+ tree of a million string
 * keys costs about ten times a hash lookup: each comparison on the way down is a cache miss). The
 * B+ tree gives key order and O(1) copy-on-write clones; it is brought up to date only when order
 * is needed (a range, a snapshot) or when LAG_MAX keys lag, by applying the lagging keys in key
 * order (neighbouring keys share a path, so sorted application costs half of random). A key
 * rewritten many times between two catch-ups costs the tree one update.
 */
export class CommittedState {
  private map = new Map<BinaryString, BinaryString>();
  private tree: SortedTree<BinaryString> = emptyTree();
  private lag = new Set<BinaryString>();

  constructor(private readonly lagMax = LAG_MAX) {}

  get size(): number {
    return this.map.size;
  }

  get(key: BinaryString): BinaryString | undefined {
    return this.map.get(key);
  }

  has(key: BinaryString): boolean {
    return this.map.has(key);
  }

  set(key: BinaryString, value: BinaryString): void {
    this.map.set(key, value);
    this.lagged(key);
  }

  delete(key: BinaryString): void {
    if (this.map.delete(key)) this.lagged(key);
  }

  /** The state in key order. The tree is the store's own: read it, do not change it. */
  ordered(): SortedTree<BinaryString> {
    if (this.lag.size > 0) this.catchUp();
    return this.tree;
  }

  /**
   * Replaces the state with `keys` (strictly ascending) and their `values`. The tree is built in
   * one O(n) step; the map, which costs several times more, in slices with the event loop running
   * between them. The state changes only at the end.
   */
  async load(keys: BinaryString[], values: BinaryString[]): Promise<void> {
    const tree = treeOfSorted(keys, values);
    const map = new Map<BinaryString, BinaryString>();
    for (let i = 0; i < keys.length; i++) {
      if (i > 0 && i % LOAD_PER_TURN === 0) await nextTurn();
      map.set(keys[i]!, values[i]!);
    }
    this.tree = tree;
    this.map = map;
    this.lag.clear();
  }

  clear(): void {
    this.map = new Map();
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
      const value = this.map.get(key);
      if (value === undefined) tree.delete(key);
      else tree.set(key, value);
    }
  }
}
