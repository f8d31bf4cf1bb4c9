import type { Serde } from '../../sdk/serde/serde.ts';
import { arraysOf } from './array-snapshot.ts';
import { type BinaryCodec, binaryCodec } from './binary-codec.ts';
import { type BinaryString, binaryOf, bytesOfBinary, prefixEnd } from './binary-string.ts';
import { CommittedState } from './committed-state.ts';
import type { FlushedChange, FlushListenable, ForwardedReadable, KeyValueStore } from './key-value-store.ts';
import { cachedItems, committedEntries, mergeScan, type ScanBounds } from './merged-range.ts';
import type { StoreEnvironment } from './open-task-store.ts';
import type { KeyValueStoreSpec } from './store-spec.ts';
import type { ChangelogRecord, StoreSnapshot, TaskStore } from './task-store.ts';
import { byBinaryKey, type CacheEntry, currentValue, WriteCache } from './write-cache.ts';

/**
 * A key-value store as one task holds it: committed state (serialized keys and values as binary
 * strings, in a hash map for point reads and a B+ tree for order and snapshots), and in front of
 * it the write cache of the keys written since the last commit, holding the typed values put.
 *
 * Values read from committed state are decoded copies. A value put is held by reference until the
 * next flush (`prepareCommit`) serializes it, and reads of that key return that same object until
 * then: changing it after put is changing the pending write. Once flushed, the write is bytes, so
 * nothing a caller does to an object changes what a flush wrote or what is committed.
 *
 * `put(key, null | undefined)` deletes the key, as in Kafka Streams.
 */
export class KeyValueTaskStore<K, V> implements KeyValueStore<K, V>, FlushListenable<K, V>, ForwardedReadable<K, V>, TaskStore {
  readonly name: string;
  private readonly keys: BinaryCodec<K>;
  private readonly values: BinaryCodec<V>;
  private readonly committed = new CommittedState();
  private readonly cache = new WriteCache<K, V>();
  private flushListener: ((change: FlushedChange<K, V>) => void) | undefined;
  private prepareCommitListener: (() => void) | undefined;
  private committedOffset = 0;
  /** Bumped whenever committed state changes, so an iterator over the old state refuses to go on. */
  private committedVersion = 0;
  private closed = false;
  private loading = false;

  constructor(
    private readonly spec: KeyValueStoreSpec,
    private readonly env: StoreEnvironment,
  ) {
    this.name = spec.name;
    this.keys = binaryCodec(spec.keySerde as Serde<K>);
    this.values = binaryCodec(spec.valueSerde as Serde<V>);
  }

  get store(): KeyValueTaskStore<K, V> {
    return this;
  }

  get pendingWrites(): number {
    return this.cache.size;
  }

  get changelogOffset(): number {
    return this.committedOffset;
  }

  get(key: K): V | undefined {
    const binaryKey = this.keys.encode(key);
    const entry = this.cache.get(binaryKey);
    if (entry !== undefined) return currentValue(entry, this.values);
    return this.committedValue(binaryKey);
  }

  /** As `ForwardedReadable`: a cached store's dirty writes left out, the commit's flushes and the committed state in. */
  getForwarded(key: K): V | undefined {
    if (!this.spec.cached) return this.get(key);
    const binaryKey = this.keys.encode(key);
    const flushed = this.cache.get(binaryKey)?.flushed;
    if (flushed === undefined) return this.committedValue(binaryKey);
    return flushed === null ? undefined : this.values.decode(flushed);
  }

  private committedValue(binaryKey: BinaryString): V | undefined {
    const committed = this.committed.get(binaryKey);
    return committed === undefined ? undefined : this.values.decode(committed);
  }

  put(key: K, value: V): void {
    this.cache.write(this.keys.encode(key), key, value ?? undefined);
  }

  putIfAbsent(key: K, value: V): V | undefined {
    const present = this.get(key);
    if (present === undefined) this.put(key, value);
    return present;
  }

  putAll(entries: Iterable<readonly [K, V]>): void {
    for (const [key, value] of entries) this.put(key, value);
  }

  delete(key: K): V | undefined {
    const binaryKey = this.keys.encode(key);
    const entry = this.cache.get(binaryKey);
    const present = entry !== undefined ? currentValue(entry, this.values) : this.committedValue(binaryKey);
    if (present !== undefined) this.cache.write(binaryKey, key, undefined);
    return present;
  }

  range(from?: K, to?: K): IterableIterator<[K, V]> {
    return this.scan(this.boundsOf(from, to, false));
  }

  reverseRange(from?: K, to?: K): IterableIterator<[K, V]> {
    return this.scan(this.boundsOf(from, to, true));
  }

  prefixScan(prefix: K): IterableIterator<[K, V]> {
    const low = this.keys.encode(prefix);
    return this.scan({ low, high: prefixEnd(low), highInclusive: false, reverse: false });
  }

  all(): IterableIterator<[K, V]> {
    return this.scan({ low: undefined, high: undefined, highInclusive: true, reverse: false });
  }

  /** Exact, in fact: committed entries plus the keys the cache adds, less those it deletes. */
  approximateNumEntries(): number {
    let count = this.committed.size;
    for (const entry of this.cache.values()) {
      const present = entry.dirty ? entry.value !== undefined : entry.flushed !== null;
      const wasCommitted = this.committed.has(entry.binaryKey);
      if (present && !wasCommitted) count++;
      else if (!present && wasCommitted) count--;
    }
    return count;
  }

  private boundsOf(from: K | undefined, to: K | undefined, reverse: boolean): ScanBounds {
    return {
      low: from === undefined ? undefined : this.keys.encode(from),
      high: to === undefined ? undefined : this.keys.encode(to),
      highInclusive: true,
      reverse,
    };
  }

  private scan(bounds: ScanBounds): IterableIterator<[K, V]> {
    if (bounds.low !== undefined && bounds.high !== undefined && bounds.low > bounds.high) return [][Symbol.iterator]();
    const cached = this.cache.size === 0 ? [] : cachedItems(this.cache.sorted(), bounds);
    const version = this.committedVersion;
    const stillValid = (): void => {
      if (this.committedVersion !== version) {
        throw new Error(`store "${this.name}": an iterator was used after the store committed; iterate within the processing of one record`);
      }
    };
    return mergeScan(cached, committedEntries(this.committed.ordered(), bounds), bounds.reverse, this.keys, this.values, stillValid);
  }

  /**
   * A cached store calls `listener` from `prepareCommit`, once per changed key in key order, and
   * returns true. An uncached store never calls it and returns false: whoever writes it forwards
   * each update itself (Kafka Streams' `setFlushListener` contract).
   */
  setFlushListener(listener: (change: FlushedChange<K, V>) => void): boolean {
    if (!this.spec.cached) return false;
    this.flushListener = listener;
    return true;
  }

  /**
   * Calls `listener` at the start of every `prepareCommit` that has writes to flush, before it
   * flushes them: a processor that gathers a commit's changes acts on them there, once the
   * operators before it flushed theirs (stores flush in topological order), and what it writes
   * goes with this flush. A suppression emits what is due this way.
   */
  setPrepareCommitListener(listener: () => void): void {
    this.prepareCommitListener = listener;
  }

  prepareCommit(): void {
    this.assertOpen();
    if (this.cache.dirtyCount === 0) return;
    this.prepareCommitListener?.();
    const batch = this.cache.takeDirty();
    const listener = this.flushListener;
    if (listener !== undefined) batch.sort(byBinaryKey);
    const timestamp = this.env.changelogTimestampMs();
    let i = 0;
    try {
      for (; i < batch.length; i++) this.flush(batch[i]!, listener, timestamp);
    } finally {
      if (i < batch.length) this.cache.requeueDirty(batch.slice(i));
    }
  }

  /**
   * Serializes one dirty key and writes its changelog record. A delete of a key absent from the
   * state the flush replaces writes nothing and tells no one (Kafka Streams' caching store skips
   * it the same way). The entry is flushed before the listener runs, so a write the listener
   * causes to the same key is dirty again and goes with the next flush.
   */
  private flush(entry: CacheEntry<K, V>, listener: ((change: FlushedChange<K, V>) => void) | undefined, timestamp: number): void {
    const value = entry.value;
    const next = value === undefined ? null : this.values.encode(value);
    const previous = next === null || listener !== undefined ? this.flushedOrCommitted(entry) : undefined;
    entry.dirty = false;
    entry.value = undefined;
    if (next === null && previous === null) {
      entry.flushed = null;
      return;
    }
    entry.flushed = next;
    if (this.spec.logged) {
      this.env.writeChangelog({ key: bytesOfBinary(entry.binaryKey), value: next === null ? null : bytesOfBinary(next), timestamp, headers: [] });
    }
    if (listener !== undefined) {
      listener({ key: entry.key, newValue: value, oldValue: previous === null || previous === undefined ? undefined : this.values.decode(previous) });
    }
  }

  /** The state the next flush of `entry` replaces: what an earlier flush of this commit wrote, else the committed value. */
  private flushedOrCommitted(entry: CacheEntry<K, V>): BinaryString | null {
    if (entry.flushed !== undefined) return entry.flushed;
    return this.committed.get(entry.binaryKey) ?? null;
  }

  commit(changelogOffset?: number): void {
    this.assertOpen();
    if (this.cache.dirtyCount > 0) throw new Error(`invariant: store "${this.name}" committed with ${this.cache.dirtyCount} writes not flushed by prepareCommit`);
    if (changelogOffset !== undefined && changelogOffset < this.committedOffset) {
      throw new Error(`invariant: store "${this.name}" changelog offset moved back from ${this.committedOffset} to ${changelogOffset}`);
    }
    if (this.cache.size > 0) {
      const committed = this.committed;
      for (const entry of this.cache.values()) {
        if (entry.flushed === null) committed.delete(entry.binaryKey);
        else committed.set(entry.binaryKey, entry.flushed!);
      }
      this.cache.clear();
      this.committedVersion++;
    }
    if (changelogOffset !== undefined) this.committedOffset = changelogOffset;
  }

  abort(): void {
    this.assertOpen();
    this.cache.clear();
  }

  async loadSnapshot(snapshot: StoreSnapshot): Promise<void> {
    this.assertRestorable();
    this.loading = true;
    try {
      const { keys, values } = await arraysOf(snapshot);
      if (keys.length !== snapshot.entryCount) throw new Error(`invariant: snapshot of store "${this.name}" holds ${keys.length} entries, its header says ${snapshot.entryCount}`);
      await this.committed.load(keys, values);
      this.committedOffset = snapshot.changelogOffset;
      this.committedVersion++;
    } finally {
      this.loading = false;
    }
  }

  /** Records below `changelogOffset` are already in the state (a snapshot covered them) and are skipped. */
  restore(records: Iterable<ChangelogRecord>, nextOffset: number): void {
    this.assertRestorable();
    const committed = this.committed;
    let offset = this.committedOffset;
    for (const record of records) {
      if (record.offset < offset) continue;
      if (record.value === null) committed.delete(binaryOf(record.key));
      else committed.set(binaryOf(record.key), binaryOf(record.value));
      offset = record.offset + 1;
    }
    this.committedOffset = Math.max(offset, nextOffset);
    this.committedVersion++;
  }

  snapshot(): StoreSnapshot | undefined {
    this.assertOpen();
    if (!this.spec.logged) return undefined;
    const tree = this.committed.ordered().clone();
    return { changelogOffset: this.committedOffset, entryCount: tree.size, entries: () => tree.entries(undefined, ['', '']) };
  }

  close(): void {
    this.closed = true;
    this.cache.clear();
    this.committed.clear();
    this.committedVersion++;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`invariant: store "${this.name}" used after close`);
    if (this.loading) throw new Error(`invariant: store "${this.name}" used while a snapshot loads`);
  }

  private assertRestorable(): void {
    this.assertOpen();
    if (this.cache.size > 0) throw new Error(`invariant: store "${this.name}" restored with ${this.cache.size} uncommitted writes`);
  }
}
