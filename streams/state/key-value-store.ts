import type { StateStore } from './state-store.ts';

/**
 * Reads of a key-value store. Entries are ordered by their serialized key bytes (as in Kafka
 * Streams' RocksDB stores), so ranges and prefix scans follow the key serde's byte order.
 * Values read from committed state are copies: changing one changes nothing until it is put back.
 * A value written since the last flush is read back as the object that was put (the write cache
 * holds it until the flush serializes it), so changing that object changes the pending write.
 * Iterators see the store as it was when they were made (writes made while iterating do not show),
 * and are valid while the record that made them is processed: one used after a commit throws.
 */
export interface ReadOnlyKeyValueStore<K, V> extends StateStore {
  get(key: K): V | undefined;
  /** Entries with `from <= key <= to` (serialized order); an absent bound is open; none when `from > to`. */
  range(from?: K, to?: K): IterableIterator<[K, V]>;
  /** The same entries as `range`, last first. */
  reverseRange(from?: K, to?: K): IterableIterator<[K, V]>;
  /** Entries whose serialized key starts with the serialized `prefix`. */
  prefixScan(prefix: K): IterableIterator<[K, V]>;
  all(): IterableIterator<[K, V]>;
  approximateNumEntries(): number;
}

/** A key-value store a processor writes; writes become durable with the task's next commit. */
export interface KeyValueStore<K, V> extends ReadOnlyKeyValueStore<K, V> {
  /** A null or undefined `value` deletes the key, as in Kafka Streams. */
  put(key: K, value: V): void;
  /** Puts only when the key is absent; returns the present value otherwise. */
  putIfAbsent(key: K, value: V): V | undefined;
  putAll(entries: Iterable<readonly [K, V]>): void;
  /** Removes the key; returns the value it had. */
  delete(key: K): V | undefined;
}

/**
 * A store's value of a key as its writers' downstream has seen it: for a cached store, as of its
 * last flush (writes since then are not forwarded yet), for an uncached one the current value.
 */
export interface ForwardedReadable<K, V> {
  getForwarded(key: K): V | undefined;
}

/** What changed for one key between two commits, as a cached store reports it when it flushes. */
export interface FlushedChange<K, V> {
  readonly key: K;
  /** The object last put (the store no longer holds it); undefined: the key was deleted. */
  readonly newValue: V | undefined;
  /**
   * The value the change replaces (a decoded copy): the committed value, or what an earlier flush
   * of the same commit wrote; undefined when the key was absent.
   */
  readonly oldValue: V | undefined;
}

/**
 * A store whose writes are cached per commit tells a listener what changed when it flushes
 * (`prepareCommit`): once per changed key, in key order. A KTable on a cached store forwards
 * these instead of every update, as Kafka Streams' record caches do. A delete of a key that was
 * absent is no change and is not reported.
 */
export interface FlushListenable<K, V> {
  /**
   * Sets the listener (replacing any earlier one) and returns true when the store is cached. An
   * uncached store returns false and never calls it: the caller forwards every update itself
   * (Kafka Streams' `setFlushListener` contract).
   */
  setFlushListener(listener: (change: FlushedChange<K, V>) => void): boolean;
}
