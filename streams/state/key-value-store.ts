import type { StateStore } from './state-store.ts';

/**
 * Reads of a key-value store. Entries are ordered by their serialized key bytes (as in Kafka
 * Streams' RocksDB stores), so ranges and prefix scans follow the key serde's byte order.
 * Values read are copies: changing one changes nothing until it is put back.
 */
export interface ReadOnlyKeyValueStore<K, V> extends StateStore {
  get(key: K): V | undefined;
  /** Entries with `from <= key <= to` (serialized order); an absent bound is open. */
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
  put(key: K, value: V): void;
  /** Puts only when the key is absent; returns the present value otherwise. */
  putIfAbsent(key: K, value: V): V | undefined;
  putAll(entries: Iterable<readonly [K, V]>): void;
  /** Removes the key; returns the value it had. */
  delete(key: K): V | undefined;
}

/** What changed for one key between two commits, as a cached store reports it when it flushes. */
export interface FlushedChange<K, V> {
  readonly key: K;
  /** undefined: the key was deleted. */
  readonly newValue: V | undefined;
  /** The committed value the change replaces; undefined when the key was absent. */
  readonly oldValue: V | undefined;
}

/**
 * A store whose writes are cached per commit tells a listener what changed when it flushes
 * (`prepareCommit`): once per changed key, in key order. A KTable on a cached store forwards
 * these instead of every update, as Kafka Streams' record caches do.
 */
export interface FlushListenable<K, V> {
  setFlushListener(listener: (change: FlushedChange<K, V>) => void): void;
}
