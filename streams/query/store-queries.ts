import type { ReadOnlyKeyValueStore } from '../state/key-value-store.ts';
import type { ReadOnlySessionStore } from '../state/session-store.ts';
import type { ValueAndTimestamp } from '../state/value-and-timestamp.ts';
import type { ReadOnlyWindowStore } from '../state/window-store.ts';
import type { Windowed } from '../state/windowed.ts';
import { StreamsError, StreamsErrorCode } from '../runtime/streams-error.ts';
import { type InteractiveQueries, type QueryableStoreInfo, type QueryOptions, type ReadPlan, serializeKey, valueSerdeOf } from './interactive-queries.ts';

/** Entries a range or fetch returns when no limit is given. */
export const DEFAULT_QUERY_LIMIT = 1_000;
/** The most entries one range or fetch returns. */
export const MAX_QUERY_LIMIT = 100_000;

/** A key-value store's entry; `timestamp` is the record time of a table's value (absent for a store without one). */
export interface KeyValueEntry<K, V> {
  readonly key: K;
  readonly value: V;
  readonly timestamp?: number;
}

/** A window store's entry: the key's window from `startMs` (inclusive) to `endMs` (exclusive). */
export interface WindowEntry<K, V> {
  readonly key: K;
  readonly startMs: number;
  readonly endMs: number;
  readonly value: V;
  readonly timestamp?: number;
}

/** A session store's entry: the session from `startMs` to `endMs`, both inclusive. */
export interface SessionEntry<K, V> {
  readonly key: K;
  readonly startMs: number;
  readonly endMs: number;
  readonly value: V;
}

/**
 * What every store query shares: the store, where to read, and how values come out. A table's
 * values are stored with their timestamps; queries return the value, and the timestamp beside it.
 * Returned values are the store's objects: treat them as read-only.
 */
abstract class StoreQuery {
  private readonly timestamped: boolean;

  constructor(
    protected readonly queries: InteractiveQueries,
    protected readonly info: QueryableStoreInfo,
    protected readonly options: QueryOptions,
  ) {
    this.timestamped = valueSerdeOf(info.spec).timestamped;
  }

  get name(): string {
    return this.info.spec.name;
  }

  protected planFor(key?: unknown): ReadPlan {
    return this.queries.plan(this.info, key === undefined ? undefined : { key }, this.options);
  }

  /** The stored value's value and timestamp. */
  protected unwrap(stored: unknown): { value: unknown; timestamp?: number } {
    if (!this.timestamped) return { value: stored };
    const { value, timestamp } = stored as ValueAndTimestamp<unknown>;
    return { value, timestamp };
  }

  /** Entries of every partition read, each list in store order, merged by serialized key (then `tie`), cut to `limit`. */
  protected merge<E extends { key: unknown }>(lists: E[][], limit: number, tie: (a: E, b: E) => number = () => 0): E[] {
    const all = lists.flat();
    if (lists.filter((l) => l.length > 0).length > 1) {
      const bytes = new Map<E, Uint8Array>(all.map((e) => [e, serializeKey(this.info, e.key)]));
      all.sort((a, b) => compareBytes(bytes.get(a)!, bytes.get(b)!) || tie(a, b));
    }
    return all.slice(0, limit);
  }
}

/** Read-only queries of a key-value store across the partitions this instance runs (`StreamsApp.keyValueStore`). */
export class KeyValueStoreQuery<K, V> extends StoreQuery {
  /** The key's value; undefined when absent. KEY_NOT_LOCAL when another instance holds the key. */
  get(key: K): V | undefined {
    return this.entry(key)?.value;
  }

  /** The key's entry with its timestamp; undefined when absent. */
  entry(key: K): KeyValueEntry<K, V> | undefined {
    const [read] = this.planFor(key).stores;
    const stored = (read!.store as ReadOnlyKeyValueStore<K, unknown>).get(key);
    return stored === undefined ? undefined : ({ key, ...this.unwrap(stored) } as KeyValueEntry<K, V>);
  }

  /** Entries with `from <= key <= to` in serialized key order (absent bounds are open), of this instance's partitions. */
  range(from?: K, to?: K, limit = DEFAULT_QUERY_LIMIT): KeyValueEntry<K, V>[] {
    return this.scan(limit, (store) => store.range(from, to));
  }

  /** Entries whose serialized key starts with the serialized `prefix`, of this instance's partitions. */
  prefixScan(prefix: K, limit = DEFAULT_QUERY_LIMIT): KeyValueEntry<K, V>[] {
    serializeKey(this.info, prefix);
    return this.scan(limit, (store) => store.prefixScan(prefix));
  }

  /** Every entry of this instance's partitions, in serialized key order. */
  all(limit = DEFAULT_QUERY_LIMIT): KeyValueEntry<K, V>[] {
    return this.scan(limit, (store) => store.all());
  }

  /** Entries in this instance's partitions. */
  approximateNumEntries(): number {
    return this.planFor().stores.reduce((sum, s) => sum + (s.store as ReadOnlyKeyValueStore<K, unknown>).approximateNumEntries(), 0);
  }

  private scan(limit: number, read: (store: ReadOnlyKeyValueStore<K, unknown>) => Iterable<[K, unknown]>): KeyValueEntry<K, V>[] {
    checkLimit(limit);
    const lists = this.planFor().stores.map((s) => take(read(s.store as ReadOnlyKeyValueStore<K, unknown>), limit, ([key, stored]) => ({ key, ...this.unwrap(stored) }) as KeyValueEntry<K, V>));
    return this.merge(lists, limit);
  }
}

/** Read-only queries of a window store (`StreamsApp.windowStore`). */
export class WindowStoreQuery<K, V> extends StoreQuery {
  /** The value of the key's window starting at `windowStartMs`. */
  get(key: K, windowStartMs: number): V | undefined {
    checkTime('windowStartMs', windowStartMs);
    const [read] = this.planFor(key).stores;
    const stored = (read!.store as ReadOnlyWindowStore<K, unknown>).get(key, windowStartMs);
    return stored === undefined ? undefined : (this.unwrap(stored).value as V);
  }

  /** The key's windows starting in `[fromMs, toMs]`, by start. */
  fetch(key: K, fromMs: number, toMs: number, limit = DEFAULT_QUERY_LIMIT): WindowEntry<K, V>[] {
    checkTime('fromMs', fromMs);
    checkTime('toMs', toMs);
    checkLimit(limit);
    const [read] = this.planFor(key).stores;
    const store = read!.store as ReadOnlyWindowStore<K, unknown>;
    return take(store.fetch(key, fromMs, toMs), limit, ([startMs, stored]) => ({ key, startMs, endMs: startMs + store.windowSizeMs, ...this.unwrap(stored) }) as WindowEntry<K, V>);
  }

  /** Every key's windows starting in `[fromMs, toMs]` in this instance's partitions, by serialized key, then start. */
  fetchAll(fromMs: number, toMs: number, limit = DEFAULT_QUERY_LIMIT): WindowEntry<K, V>[] {
    checkTime('fromMs', fromMs);
    checkTime('toMs', toMs);
    checkLimit(limit);
    const lists = this.planFor().stores.map((s) =>
      take((s.store as ReadOnlyWindowStore<K, unknown>).fetchAll(fromMs, toMs), limit, ([windowed, stored]) => ({ key: windowed.key, startMs: windowed.window.startMs, endMs: windowed.window.endMs, ...this.unwrap(stored) }) as WindowEntry<K, V>),
    );
    return this.merge(lists, limit, (a, b) => a.startMs - b.startMs);
  }
}

/** Read-only queries of a session store (`StreamsApp.sessionStore`). */
export class SessionStoreQuery<K, V> extends StoreQuery {
  /** Every session of the key, by end then start. */
  fetch(key: K, limit = DEFAULT_QUERY_LIMIT): SessionEntry<K, V>[] {
    checkLimit(limit);
    const [read] = this.planFor(key).stores;
    return take((read!.store as ReadOnlySessionStore<K, unknown>).fetch(key), limit, (entry) => this.sessionEntry(entry));
  }

  /** The key's sessions ending at or after `earliestSessionEndMs` and starting at or before `latestSessionStartMs`. */
  findSessions(key: K, earliestSessionEndMs: number, latestSessionStartMs: number, limit = DEFAULT_QUERY_LIMIT): SessionEntry<K, V>[] {
    checkTime('earliestSessionEndMs', earliestSessionEndMs);
    checkTime('latestSessionStartMs', latestSessionStartMs);
    checkLimit(limit);
    const [read] = this.planFor(key).stores;
    return take((read!.store as ReadOnlySessionStore<K, unknown>).findSessions(key, earliestSessionEndMs, latestSessionStartMs), limit, (entry) => this.sessionEntry(entry));
  }

  private sessionEntry([windowed, stored]: [Windowed<K>, unknown]): SessionEntry<K, V> {
    return { key: windowed.key, startMs: windowed.window.startMs, endMs: windowed.window.endMs, value: this.unwrap(stored).value as V };
  }
}

/** Up to `limit` items of `items`, mapped; the iteration is synchronous, so it sees the store between two records. */
function take<T, E>(items: Iterable<T>, limit: number, map: (item: T) => E): E[] {
  const out: E[] = [];
  if (limit === 0) return out;
  for (const item of items) {
    out.push(map(item));
    if (out.length >= limit) break;
  }
  return out;
}

function checkLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 0 || limit > MAX_QUERY_LIMIT) {
    throw new StreamsError(StreamsErrorCode.invalidQuery, `limit must be an integer from 0 to ${MAX_QUERY_LIMIT}, got ${limit}`);
  }
}

function checkTime(name: string, ms: number): void {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new StreamsError(StreamsErrorCode.invalidQuery, `${name} must be a non-negative integer of ms, got ${ms}`);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
