import type { Serde } from '../../sdk/serde/serde.ts';
import { timeWindowedSerde } from '../state/time-windowed-serde.ts';
import type { Windowed } from '../state/windowed.ts';
import type { ProcessorSupplier } from '../topology/processor.ts';
import type { AggregateStep } from './aggregate-processor.ts';
import { Aggregations } from './aggregations.ts';
import type { DslContext } from './dsl-context.ts';
import { alwaysSendsOldValues, KTable } from './ktable.ts';
import { type MaterializedOptions, windowedTableStoreSpec } from './materialized.ts';
import { slidingWindowAggregateProcessor } from './sliding-window-aggregate-processor.ts';
import type { SlidingWindows } from './sliding-windows.ts';
import type { AggregationInput } from './time-windowed-kstream.ts';

/**
 * A grouped stream cut into sliding windows (Kafka Streams' SlidingWindowedKStream with
 * `SlidingWindows`): its aggregations give a table keyed by `Windowed<K>` whose window is
 * [start, start + d], both ends inclusive, kept in a window store (window size d, retention
 * 2d + grace). The table's key serde is `timeWindowedSerde(key, d)`, the layout Kafka Streams'
 * TimeWindowedSerde reads with a window size of d, so `toStream().to(topic)` needs no key serde.
 */
export class SlidingWindowedKStream<K, V> extends Aggregations<K, V, Windowed<K>> {
  /** @internal */
  constructor(
    private readonly ctx: DslContext,
    private readonly windows: SlidingWindows,
    private readonly valueSerde: Serde<V> | undefined,
    private readonly aggregationInput: AggregationInput<K>,
  ) {
    super();
  }

  protected readonly kind = 'sliding-windowed ';

  protected reduceValueSerde(): Serde<V> | undefined {
    return this.valueSerde;
  }

  protected aggregateWith<VA>(what: string, prefix: string, step: AggregateStep<K, V, VA>, options: MaterializedOptions<K, VA> & { value: Serde<VA> }): KTable<Windowed<K>, VA, never> {
    const storeName = this.ctx.name(options.name, `${prefix}-STATE-STORE`);
    const { key, input } = this.aggregationInput(`sliding-windowed ${what}`, storeName, options.key);
    const spec = windowedTableStoreSpec(storeName, key, options.value, { windowSizeMs: this.windows.timeDifferenceMs, retentionMs: this.windows.retentionMs }, options);
    this.ctx.topology.addStore(spec);
    const name = this.ctx.nextName(prefix);
    this.ctx.topology.addProcessor(name, slidingWindowAggregateProcessor(storeName, this.windows, spec.cached, step, (aggregate) => options.value.deserialize(options.value.serialize(aggregate))) as ProcessorSupplier<unknown, unknown, unknown, unknown>, [input], [storeName]);
    return new KTable<Windowed<K>, VA, never>(this.ctx, name, timeWindowedSerde(key, this.windows.timeDifferenceMs), options.value, storeName, alwaysSendsOldValues, this.windows.graceMs);
  }
}
