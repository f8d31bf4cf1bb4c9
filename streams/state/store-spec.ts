import type { Serde } from '../../sdk/serde/serde.ts';

/** What every store spec holds, whatever its kind. */
interface BaseStoreSpec {
  readonly name: string;
  readonly keySerde: Serde<unknown>;
  readonly valueSerde: Serde<unknown>;
  readonly logged: boolean;
  /**
   * Every store gathers its writes per commit (one changelog record per key per commit). With
   * caching, a KTable built on the store forwards its latest value per key when the cache flushes;
   * without, the store refuses a flush listener and the KTable forwards every update as it makes it.
   */
  readonly cached: boolean;
  /** Topic configs for the changelog beyond `cleanup.policy=compact`. */
  readonly changelogConfig: Readonly<Record<string, string>>;
  /**
   * A DSL operator's own store (join windows, foreign-key subscriptions, suppression buffers): its
   * layout is the operator's business, so interactive queries never serve it.
   */
  readonly internal?: boolean;
}

/** A key-value store: ordered by serialized key bytes, backed by a compacted changelog topic unless `logged` is false. */
export interface KeyValueStoreSpec extends BaseStoreSpec {
  readonly kind: 'keyValue';
}

/**
 * A window store: one value per (key, window start), ordered by the serialized key followed by the
 * window start (streams/state/window-key.ts), keeping each window until stream time passes its start
 * by `retentionMs` (window size + grace for an aggregation).
 */
export interface WindowStoreSpec extends BaseStoreSpec {
  readonly kind: 'window';
  readonly windowSizeMs: number;
  readonly retentionMs: number;
}

/**
 * A session store: one value per (key, session), ordered by the serialized key, then the session's
 * end, then its start (streams/state/session-key.ts), keeping each session until stream time (the
 * largest session end written) passes its end by `retentionMs` (inactivity gap + grace for a
 * session aggregation).
 */
export interface SessionStoreSpec extends BaseStoreSpec {
  readonly kind: 'session';
  readonly retentionMs: number;
}

export type StoreSpec = KeyValueStoreSpec | WindowStoreSpec | SessionStoreSpec;
