import type { Serde } from '../../sdk/serde/serde.ts';

/** A key-value store: ordered by serialized key bytes, backed by a compacted changelog topic unless `logged` is false. */
export interface StoreSpec {
  readonly name: string;
  readonly kind: 'keyValue';
  readonly keySerde: Serde<unknown>;
  readonly valueSerde: Serde<unknown>;
  readonly logged: boolean;
  /**
   * With caching, writes are gathered per commit (one changelog record per key per commit) and
   * a KTable built on the store forwards its latest value per key when the cache flushes.
   */
  readonly cached: boolean;
  /** Topic configs for the changelog beyond `cleanup.policy=compact`. */
  readonly changelogConfig: Readonly<Record<string, string>>;
}
