import type { Serde } from '../../sdk/serde/serde.ts';
import { timeWindowedSerde } from '../state/time-windowed-serde.ts';
import type { Windowed } from '../state/windowed.ts';
import type { ProcessorSupplier } from '../topology/processor.ts';
import type { AggregateStep } from './aggregate-processor.ts';
import { Aggregations } from './aggregations.ts';
import type { DslContext } from './dsl-context.ts';
import { alwaysSendsOldValues, KTable } from './ktable.ts';
import { type MaterializedOptions, windowedTableStoreSpec } from './materialized.ts';
import type { TimeWindows } from './time-windows.ts';
import { windowAggregateProcessor } from './window-aggregate-processor.ts';

/** How a windowed aggregation finds its input: the grouped stream's node (repartitioned when the key changed) and its key serde. */
export type AggregationInput<K> = (what: string, storeName: string, key: Serde<K> | undefined) => { key: Serde<K>; input: string };

/**
 * A grouped stream cut into time windows (Kafka Streams' TimeWindowedKStream): its aggregations
 * give a table keyed by `Windowed<K>` (the key and its window), kept in a window store that keeps
 * each window for its size plus the grace period. The table's key serde is
 * `timeWindowedSerde(key, sizeMs)`, the layout Kafka Streams' TimeWindowedSerde reads, so
 * `toStream().to(topic)` needs no key serde.
 */
export class TimeWindowedKStream<K, V> extends Aggregations<K, V, Windowed<K>> {
  /** @internal */
  constructor(
    private readonly ctx: DslContext,
    private readonly windows: TimeWindows,
    private readonly valueSerde: Serde<V> | undefined,
    private readonly aggregationInput: AggregationInput<K>,
  ) {
    super();
  }

  protected readonly kind = 'windowed ';

  protected reduceValueSerde(): Serde<V> | undefined {
    return this.valueSerde;
  }

  protected aggregateWith<VA>(what: string, prefix: string, step: AggregateStep<K, V, VA>, options: MaterializedOptions<K, VA> & { value: Serde<VA> }): KTable<Windowed<K>, VA, never> {
    const storeName = this.ctx.name(options.name, `${prefix}-STATE-STORE`);
    const { key, input } = this.aggregationInput(`windowed ${what}`, storeName, options.key);
    const spec = windowedTableStoreSpec(storeName, key, options.value, { windowSizeMs: this.windows.sizeMs, retentionMs: this.windows.retentionMs }, options);
    this.ctx.topology.addStore(spec);
    const name = this.ctx.nextName(prefix);
    this.ctx.topology.addProcessor(name, windowAggregateProcessor(storeName, this.windows, spec.cached, step) as ProcessorSupplier<unknown, unknown, unknown, unknown>, [input], [storeName]);
    return new KTable<Windowed<K>, VA, never>(this.ctx, name, timeWindowedSerde(key, this.windows.sizeMs), options.value, storeName, alwaysSendsOldValues, this.windows.graceMs);
  }
}
