import type { BinaryCodec } from './binary-codec.ts';
import type { BinaryString } from './binary-string.ts';
import type { CacheEntry } from './write-cache.ts';
import type { SortedTree } from './sorted-tree.ts';

/** Serialized-key bounds of a scan: `low` inclusive, `high` inclusive or not; absent bounds are open. */
export interface ScanBounds {
  readonly low: BinaryString | undefined;
  readonly high: BinaryString | undefined;
  readonly highInclusive: boolean;
  readonly reverse: boolean;
}

/** A cache entry as it was when the scan started (the entry itself changes with later writes). */
export interface CachedItem<K, V> {
  readonly binaryKey: BinaryString;
  readonly key: K;
  readonly present: boolean;
  /** The typed value while the entry was dirty, else undefined and `serialized` holds it. */
  readonly value: V | undefined;
  readonly serialized: BinaryString | null | undefined;
}

function below(key: BinaryString, bounds: ScanBounds): boolean {
  return bounds.high === undefined || key < bounds.high || (bounds.highInclusive && key === bounds.high);
}

function above(key: BinaryString, bounds: ScanBounds): boolean {
  return bounds.low === undefined || key >= bounds.low;
}

/**
 * The cache's entries within `bounds`, in scan order, copied when the scan starts: a caller that
 * writes while it iterates (deleting what it visits, say) sees the store as it was at the start,
 * and the cache's index is never walked while it changes.
 */
export function cachedItems<K, V>(index: SortedTree<CacheEntry<K, V>>, bounds: ScanBounds): CachedItem<K, V>[] {
  const items: CachedItem<K, V>[] = [];
  const take = (entry: CacheEntry<K, V>): void => {
    if (entry.dirty) items.push({ binaryKey: entry.binaryKey, key: entry.key, present: entry.value !== undefined, value: entry.value, serialized: undefined });
    else items.push({ binaryKey: entry.binaryKey, key: entry.key, present: entry.flushed !== null, value: undefined, serialized: entry.flushed });
  };
  if (bounds.reverse) {
    const start = bounds.high === undefined ? index.entriesReversed() : index.entriesReversed(bounds.high, undefined, !bounds.highInclusive);
    for (const [binaryKey, entry] of start) {
      if (!above(binaryKey, bounds)) break;
      take(entry);
    }
  } else {
    for (const [binaryKey, entry] of index.entries(bounds.low)) {
      if (!below(binaryKey, bounds)) break;
      take(entry);
    }
  }
  return items;
}

/** The committed entries within `bounds`, in scan order, read lazily. */
export function* committedEntries(tree: SortedTree<BinaryString>, bounds: ScanBounds): Generator<[BinaryString, BinaryString]> {
  if (bounds.reverse) {
    if (tree.size === 0) return;
    const start = bounds.high === undefined ? tree.entriesReversed() : tree.entriesReversed(bounds.high, undefined, !bounds.highInclusive);
    for (const entry of start) {
      if (!above(entry[0], bounds)) return;
      yield entry;
    }
  } else {
    for (const entry of tree.entries(bounds.low)) {
      if (!below(entry[0], bounds)) return;
      yield entry;
    }
  }
}

/**
 * Merges the cache's items and the committed entries in scan order; where both hold a key the
 * cache's state wins, and a cached delete hides the committed entry. `beforeEach` runs before
 * every step, so the store can refuse an iterator that outlived the committed state it reads.
 */
export function* mergeScan<K, V>(
  cached: readonly CachedItem<K, V>[],
  committed: Iterator<[BinaryString, BinaryString]>,
  reverse: boolean,
  keys: BinaryCodec<K>,
  values: BinaryCodec<V>,
  beforeEach: () => void,
): Generator<[K, V]> {
  const valueOf = (item: CachedItem<K, V>): V => (item.serialized === undefined ? item.value! : values.decode(item.serialized!));
  let c = 0;
  beforeEach();
  let next = committed.next();
  while (next.done !== true) {
    const item = cached[c];
    const [committedKey, committedValue] = next.value;
    if (item === undefined || (reverse ? committedKey > item.binaryKey : committedKey < item.binaryKey)) {
      yield [keys.decode(committedKey), values.decode(committedValue)];
    } else {
      c++;
      if (item.present) yield [item.key, valueOf(item)];
      if (committedKey !== item.binaryKey) continue;
    }
    beforeEach();
    next = committed.next();
  }
  for (; c < cached.length; c++) {
    const item = cached[c]!;
    if (item.present) yield [item.key, valueOf(item)];
  }
}
