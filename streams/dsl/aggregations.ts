import type { Serde } from '../../sdk/serde/serde.ts';
import { longSerde } from '../../sdk/serde/basic-serdes.ts';
import { TopologyError } from '../topology/topology.ts';
import type { AggregateStep } from './aggregate-processor.ts';
import type { KTable } from './ktable.ts';
import type { MaterializedOptions } from './materialized.ts';
import type { UserResult } from './user-result.ts';

/**
 * count / reduce / aggregate of a grouped stream, plain or cut into time or sliding windows
 * (Kafka Streams' KGroupedStream, TimeWindowedKStream, SlidingWindowedKStream): each folds the
 * values of a key (per window, when windowed) into a table keyed by `KT` (the key, or
 * `Windowed<K>`). Records with a null key or value are left out. Subclasses say where the
 * aggregate is kept and how it is computed (`aggregateWith`).
 */
export abstract class Aggregations<K, V, KT> {
  /** What the messages call this kind of aggregation (`windowed reduce()`...). */
  protected abstract readonly kind: string;

  /** The value serde a `reduce` store takes when none is given: the grouped stream's. */
  protected abstract reduceValueSerde(): Serde<V> | undefined;

  protected abstract aggregateWith<VA>(what: string, prefix: string, step: AggregateStep<K, V, VA>, options: MaterializedOptions<K, VA> & { value: Serde<VA> }): KTable<KT, VA, never>;

  /** The number of records per key (and window), a table of longs (`longSerde` unless `value` says otherwise). */
  count(options?: MaterializedOptions<K, number>): KTable<KT, number, never> {
    const value = options?.value ?? longSerde;
    return this.aggregateWith('count()', 'KSTREAM-AGGREGATE', (_key, _value, count: number | undefined) => (count ?? 0) + 1, { ...options, value });
  }

  /** Combines each key's values (per window): the first value as it is, then `reducer(aggregate, value)` per record. */
  reduce(reducer: (aggregate: V, value: V) => UserResult<V>, options?: MaterializedOptions<K, V>): KTable<KT, V, never> {
    const value = options?.value ?? this.reduceValueSerde();
    if (value === undefined) throw new TopologyError(`${this.kind}reduce() needs a value serde for its store: the stream's value type changed since its last serde; pass { value: ... }`);
    return this.aggregateWith('reduce()', 'KSTREAM-REDUCE', (_key, next: V, aggregate: V | undefined) => (aggregate === undefined ? next : reducer(aggregate, next)), { ...options, value });
  }

  /**
   * Folds each key's values (per window) into an aggregate of the type `value`'s serde declares:
   * starting from `initializer()`, then `aggregator(key, value, aggregate)` per record.
   */
  aggregate<VA>(
    initializer: () => NoInfer<VA>,
    aggregator: (key: K, value: V, aggregate: NoInfer<VA>) => UserResult<NoInfer<VA>>,
    options: MaterializedOptions<K, VA> & { value: Serde<VA> },
  ): KTable<KT, VA, never> {
    return this.aggregateWith('aggregate()', 'KSTREAM-AGGREGATE', (key, next, aggregate: VA | undefined) => aggregator(key, next, aggregate === undefined ? initializer() : aggregate), options);
  }
}
