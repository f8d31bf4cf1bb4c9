import type { Serde } from '../../sdk/serde/serde.ts';
import { longSerde } from '../../sdk/serde/basic-serdes.ts';
import { timeWindowedSerde } from '../state/time-windowed-serde.ts';
import type { Windowed } from '../state/windowed.ts';
import type { ProcessorSupplier } from '../topology/processor.ts';
import { TopologyError } from '../topology/topology.ts';
import type { AggregateStep } from './aggregate-processor.ts';
import type { DslContext } from './dsl-context.ts';
import { alwaysSendsOldValues, KTable } from './ktable.ts';
import { type MaterializedOptions, windowedTableStoreSpec } from './materialized.ts';
import { slidingWindowAggregateProcessor } from './sliding-window-aggregate-processor.ts';
import type { SlidingWindows } from './sliding-windows.ts';
import type { AggregationInput } from './time-windowed-kstream.ts';
import type { UserResult } from './user-result.ts';

/**
 * A grouped stream cut into sliding windows (Kafka Streams' SlidingWindowedKStream with
 * `SlidingWindows`): its aggregations give a table keyed by `Windowed<K>` whose window is
 * [start, start + d], both ends inclusive, kept in a window store (window size d, retention
 * 2d + grace). The table's key serde is `timeWindowedSerde(key, d)`, the layout Kafka Streams'
 * TimeWindowedSerde reads with a window size of d, so `toStream().to(topic)` needs no key serde.
 */
export class SlidingWindowedKStream<K, V> {
  /** @internal */
  constructor(
    private readonly ctx: DslContext,
    private readonly windows: SlidingWindows,
    private readonly valueSerde: Serde<V> | undefined,
    private readonly aggregationInput: AggregationInput<K>,
  ) {}

  /** The number of records per key and window (`longSerde` unless `value` says otherwise). */
  count(options?: MaterializedOptions<K, number>): KTable<Windowed<K>, number, never> {
    const value = options?.value ?? longSerde;
    return this.aggregateWith('count()', 'KSTREAM-AGGREGATE', (_key, _value, count: number | undefined) => (count ?? 0) + 1, { ...options, value });
  }

  /** Combines each key's values per window: the first value as it is, then `reducer(aggregate, value)` per record. */
  reduce(reducer: (aggregate: V, value: V) => UserResult<V>, options?: MaterializedOptions<K, V>): KTable<Windowed<K>, V, never> {
    const value = options?.value ?? this.valueSerde;
    if (value === undefined) throw new TopologyError(`sliding-windowed reduce() needs a value serde for its store: the stream's value type changed since its last serde; pass { value: ... }`);
    return this.aggregateWith('reduce()', 'KSTREAM-REDUCE', (_key, next: V, aggregate: V | undefined) => (aggregate === undefined ? next : reducer(aggregate, next)), { ...options, value });
  }

  /** Folds each key's values per window, from `initializer()`, with `aggregator(key, value, aggregate)` per record. */
  aggregate<VA>(
    initializer: () => NoInfer<VA>,
    aggregator: (key: K, value: V, aggregate: NoInfer<VA>) => UserResult<NoInfer<VA>>,
    options: MaterializedOptions<K, VA> & { value: Serde<VA> },
  ): KTable<Windowed<K>, VA, never> {
    return this.aggregateWith('aggregate()', 'KSTREAM-AGGREGATE', (key, next, aggregate: VA | undefined) => aggregator(key, next, aggregate === undefined ? initializer() : aggregate), options);
  }

  private aggregateWith<VA>(what: string, prefix: string, step: AggregateStep<K, V, VA>, options: MaterializedOptions<K, VA> & { value: Serde<VA> }): KTable<Windowed<K>, VA, never> {
    const storeName = this.ctx.name(options.name, `${prefix}-STATE-STORE`);
    const { key, input } = this.aggregationInput(`sliding-windowed ${what}`, storeName, options.key);
    const spec = windowedTableStoreSpec(storeName, key, options.value, { windowSizeMs: this.windows.timeDifferenceMs, retentionMs: this.windows.retentionMs }, options);
    this.ctx.topology.addStore(spec);
    const name = this.ctx.nextName(prefix);
    this.ctx.topology.addProcessor(name, slidingWindowAggregateProcessor(storeName, this.windows, spec.cached, step, (aggregate) => options.value.deserialize(options.value.serialize(aggregate))) as ProcessorSupplier<unknown, unknown, unknown, unknown>, [input], [storeName]);
    return new KTable<Windowed<K>, VA, never>(this.ctx, name, timeWindowedSerde(key, this.windows.timeDifferenceMs), options.value, storeName, alwaysSendsOldValues, this.windows.graceMs);
  }
}
