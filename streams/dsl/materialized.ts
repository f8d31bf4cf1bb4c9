import type { Serde } from '../../sdk/serde/serde.ts';
import type { KeyValueStoreSpec, SessionStoreSpec, WindowStoreSpec } from '../state/store-spec.ts';
import { timestampedSerde } from '../state/value-and-timestamp.ts';

/**
 * How a table's store is kept (Kafka Streams' `Materialized`). The store's changelog topic is
 * `<applicationId>-<name>-changelog`.
 */
export interface MaterializedOptions<K, V> {
  /** The store's name; generated when absent. */
  name?: string;
  key?: Serde<K>;
  value?: Serde<V>;
  /** Default true: updates are gathered per commit and forwarded once per key when the store flushes. */
  cached?: boolean;
  /** Default true: the store has a compacted changelog topic and survives a crash; false: rebuilt from nothing. */
  logged?: boolean;
  /** Changelog topic configs beyond `cleanup.policy=compact`. */
  changelogConfig?: Readonly<Record<string, string>>;
}

/** The spec of a table's store: keys by `key`, values as `{ value, timestamp }` in the timestamped format. */
export function tableStoreSpec<K, V>(name: string, key: Serde<K>, value: Serde<V>, options: MaterializedOptions<K, V> | undefined): KeyValueStoreSpec {
  return {
    name,
    kind: 'keyValue',
    keySerde: key as Serde<unknown>,
    valueSerde: timestampedSerde(value) as Serde<unknown>,
    logged: options?.logged ?? true,
    cached: options?.cached ?? true,
    changelogConfig: options?.changelogConfig ?? {},
  };
}

/**
 * The spec of a windowed table's store: windows of `windowSizeMs` by key and start, values as
 * `{ value, timestamp }` in the timestamped format, kept for `retentionMs` after their start.
 */
export function windowedTableStoreSpec<K, V>(
  name: string,
  key: Serde<K>,
  value: Serde<V>,
  window: { windowSizeMs: number; retentionMs: number },
  options: MaterializedOptions<K, V> | undefined,
): WindowStoreSpec {
  return {
    name,
    kind: 'window',
    keySerde: key as Serde<unknown>,
    valueSerde: timestampedSerde(value) as Serde<unknown>,
    windowSizeMs: window.windowSizeMs,
    retentionMs: window.retentionMs,
    logged: options?.logged ?? true,
    cached: options?.cached ?? true,
    changelogConfig: options?.changelogConfig ?? {},
  };
}

/**
 * The spec of a session-windowed table's store: sessions by key, end and start, values in `value`'s
 * format (no timestamp: a session's updates are timestamped with its end), kept for `retentionMs`
 * after their end.
 */
export function sessionTableStoreSpec<K, V>(name: string, key: Serde<K>, value: Serde<V>, retentionMs: number, options: MaterializedOptions<K, V> | undefined): SessionStoreSpec {
  return {
    name,
    kind: 'session',
    keySerde: key as Serde<unknown>,
    valueSerde: value as Serde<unknown>,
    retentionMs,
    logged: options?.logged ?? true,
    cached: options?.cached ?? true,
    changelogConfig: options?.changelogConfig ?? {},
  };
}
