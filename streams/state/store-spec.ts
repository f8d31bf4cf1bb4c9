import type { Serde } from '../../sdk/serde/serde.ts';

/** A key-value store: ordered by serialized key bytes, backed by a compacted changelog topic unless `logged` is false. */
export interface StoreSpec {
  readonly name: string;
  readonly kind: 'keyValue';
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
}
