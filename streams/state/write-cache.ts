import type { BinaryCodec } from './binary-codec.ts';
import { type BinaryString, compareBinary } from './binary-string.ts';
import { emptyTree, type SortedTree } from './sorted-tree.ts';

/** A key written since the last commit. */
export interface CacheEntry<K, V> {
  readonly binaryKey: BinaryString;
  key: K;
  /** Written since the last flush: `value` is the key's state (undefined: deleted). */
  dirty: boolean;
  /** The object last put (held by reference until a flush serializes it); undefined: deleted. */
  value: V | undefined;
  /** What the commit's last flush wrote: the serialized value, null when the key was absent; undefined before any flush. */
  flushed: BinaryString | null | undefined;
}

/**
 * The per-commit write cache: typed values of the keys written since the last commit, by
 * serialized key. Point reads and writes go through a Map; the sorted index that ranges need is
 * built on the first range of a commit and kept up to date only from then on, so a store used
 * without ranges never pays for ordering.
 */
export class WriteCache<K, V> {
  private readonly entries = new Map<BinaryString, CacheEntry<K, V>>();
  private dirtyEntries: CacheEntry<K, V>[] = [];
  private index: SortedTree<CacheEntry<K, V>> | undefined;

  get size(): number {
    return this.entries.size;
  }

  get dirtyCount(): number {
    return this.dirtyEntries.length;
  }

  get(binaryKey: BinaryString): CacheEntry<K, V> | undefined {
    return this.entries.get(binaryKey);
  }

  /** Records `value` (undefined: a delete) as the key's state since the last flush. */
  write(binaryKey: BinaryString, key: K, value: V | undefined): void {
    let entry = this.entries.get(binaryKey);
    if (entry === undefined) {
      entry = { binaryKey, key, dirty: true, value, flushed: undefined };
      this.entries.set(binaryKey, entry);
      this.index?.set(binaryKey, entry);
      this.dirtyEntries.push(entry);
      return;
    }
    entry.key = key;
    entry.value = value;
    if (!entry.dirty) {
      entry.dirty = true;
      this.dirtyEntries.push(entry);
    }
  }

  /** The entries written since the last flush, in the order they became dirty; they stay dirty until the caller flushes them. */
  takeDirty(): CacheEntry<K, V>[] {
    const taken = this.dirtyEntries;
    this.dirtyEntries = [];
    return taken;
  }

  /** Puts back entries taken by a flush that failed before it got to them (they are still dirty, so no write queued them again). */
  requeueDirty(entries: readonly CacheEntry<K, V>[]): void {
    for (const entry of entries) if (entry.dirty) this.dirtyEntries.push(entry);
  }

  /** The entries, in serialized-key order. */
  sorted(): SortedTree<CacheEntry<K, V>> {
    if (this.index === undefined) {
      const index = emptyTree<CacheEntry<K, V>>();
      for (const [binaryKey, entry] of this.entries) index.set(binaryKey, entry);
      this.index = index;
    }
    return this.index;
  }

  values(): IterableIterator<CacheEntry<K, V>> {
    return this.entries.values();
  }

  clear(): void {
    this.entries.clear();
    this.dirtyEntries = [];
    this.index = undefined;
  }
}

export function byBinaryKey(a: { readonly binaryKey: BinaryString }, b: { readonly binaryKey: BinaryString }): number {
  return compareBinary(a.binaryKey, b.binaryKey);
}

/** The key's state as of now: the object last put while dirty, else what the last flush wrote, decoded. */
export function currentValue<K, V>(entry: CacheEntry<K, V>, values: BinaryCodec<V>): V | undefined {
  if (entry.dirty) return entry.value;
  return entry.flushed === null || entry.flushed === undefined ? undefined : values.decode(entry.flushed);
}

