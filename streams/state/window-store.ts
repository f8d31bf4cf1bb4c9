import type { StateStore } from './state-store.ts';
import type { Windowed } from './windowed.ts';

/**
 * Reads of a window store: one value per (key, window start). A window is kept until stream time
 * (the largest window start written) passes its start by the store's retention; from the commit
 * that saw it pass, reads never return it, even before its segment is dropped. Values and iterators follow the
 * key-value store's rules (streams/state/key-value-store.ts): committed values are decoded copies,
 * iterators see the store as it was when made and are valid while one record is processed.
 */
export interface ReadOnlyWindowStore<K, V> extends StateStore {
  readonly windowSizeMs: number;
  /** The value of `key`'s window starting at `windowStartMs`. */
  get(key: K, windowStartMs: number): V | undefined;
  /** `key`'s windows starting in `[fromMs, toMs]`, by start: `[windowStartMs, value]`. */
  fetch(key: K, fromMs: number, toMs: number): IterableIterator<[number, V]>;
  /** Every key's windows starting in `[fromMs, toMs]`, in store order (serialized key, then start). */
  fetchAll(fromMs: number, toMs: number): IterableIterator<[Windowed<K>, V]>;
  all(): IterableIterator<[Windowed<K>, V]>;
}

/** A window store a processor writes; writes become durable with the task's next commit. */
export interface WindowStore<K, V> extends ReadOnlyWindowStore<K, V> {
  /**
   * Sets `key`'s window starting at `windowStartMs`; undefined or null deletes it. A write to a
   * window past retention as of the last commit is dropped, as Kafka Streams' window stores drop it.
   */
  put(key: K, value: V | undefined, windowStartMs: number): void;
}
