import type { Serde } from '../../sdk/serde/serde.ts';
import type { ProcessorSupplier } from '../topology/processor.ts';
import { type AggregateStep, streamAggregateProcessor } from './aggregate-processor.ts';
import { Aggregations } from './aggregations.ts';
import type { DslContext } from './dsl-context.ts';
import type { KStream } from './kstream.ts';
import { alwaysSendsOldValues, KTable } from './ktable.ts';
import { type MaterializedOptions, tableStoreSpec } from './materialized.ts';
import { type AggregationInput, TimeWindowedKStream } from './time-windowed-kstream.ts';
import { SessionWindowedKStream } from './session-windowed-kstream.ts';
import { SessionWindows } from './session-windows.ts';
import { SlidingWindowedKStream } from './sliding-windowed-kstream.ts';
import { SlidingWindows } from './sliding-windows.ts';
import type { TimeWindows } from './time-windows.ts';

/**
 * How a stream is grouped (Kafka Streams' `Grouped`): the serdes of the repartition topic, when the
 * key changed since the stream was last partitioned, and its name (`<name>-repartition`; default:
 * the store's name).
 */
export interface GroupedOptions<K, V> {
  name?: string;
  key?: Serde<K>;
  value?: Serde<V>;
}

/**
 * A stream grouped by key, ready to aggregate (Kafka Streams' KGroupedStream). Records with a null
 * key or value are left out of every aggregation, as in Kafka Streams. When the key changed since
 * the stream was last partitioned (map, selectKey, flatMap, process, groupBy), the first
 * aggregation writes the stream through a repartition topic `<name>-repartition` first (records
 * with a null key or value are dropped before it), so each task sees every record of its keys;
 * later aggregations of the same grouped stream share it.
 */
export class KGroupedStream<K, V> extends Aggregations<K, V, K> {
  private repartitioned: KStream<K, V> | undefined;

  /** @internal */
  constructor(
    private readonly ctx: DslContext,
    private readonly stream: KStream<K, V>,
    private readonly grouped: GroupedOptions<K, V>,
  ) {
    super();
  }

  protected readonly kind = '';

  protected reduceValueSerde(): Serde<V> | undefined {
    return this.grouped.value ?? this.stream.valueSerde;
  }

  protected aggregateWith<VA>(what: string, prefix: string, step: AggregateStep<K, V, VA>, options: MaterializedOptions<K, VA> & { value: Serde<VA> }): KTable<K, VA, never> {
    const storeName = this.ctx.name(options.name, `${prefix}-STATE-STORE`);
    const { key, input } = this.aggregationInput(what, storeName, options.key);
    const spec = tableStoreSpec(storeName, key, options.value, options);
    this.ctx.topology.addStore(spec);
    const name = this.ctx.nextName(prefix);
    this.ctx.topology.addProcessor(name, streamAggregateProcessor(storeName, spec.cached, step) as ProcessorSupplier<unknown, unknown, unknown, unknown>, [input], [storeName]);
    return new KTable<K, VA, never>(this.ctx, name, key, options.value, storeName, alwaysSendsOldValues);
  }

  /**
   * Windows the grouped stream for a windowed aggregation (Kafka Streams' `windowedBy`): each
   * record counts in every window holding its timestamp, late records beyond the grace are dropped.
   * Time windows (tumbling, hopping), sliding windows (`SlidingWindows`) or sessions (`SessionWindows`).
   */
  windowedBy(windows: TimeWindows): TimeWindowedKStream<K, V>;
  windowedBy(windows: SlidingWindows): SlidingWindowedKStream<K, V>;
  windowedBy(windows: SessionWindows): SessionWindowedKStream<K, V>;
  windowedBy(windows: TimeWindows | SlidingWindows | SessionWindows): TimeWindowedKStream<K, V> | SlidingWindowedKStream<K, V> | SessionWindowedKStream<K, V> {
    const input: AggregationInput<K> = (what, storeName, key) => this.aggregationInput(what, storeName, key);
    const valueSerde = this.grouped.value ?? this.stream.valueSerde;
    if (windows instanceof SlidingWindows) return new SlidingWindowedKStream(this.ctx, windows, valueSerde, input);
    if (windows instanceof SessionWindows) return new SessionWindowedKStream(this.ctx, windows, valueSerde, input);
    return new TimeWindowedKStream(this.ctx, windows, valueSerde, input);
  }

  /**
   * @internal What an aggregation into `storeName` reads: the node its processor follows (through
   * the repartition topic when the key changed) and the key serde of its store.
   */
  aggregationInput(what: string, storeName: string, keySerde: Serde<K> | undefined): { key: Serde<K>; input: string } {
    const base = this.grouped.name ?? storeName;
    if (this.stream.keyChanged && this.repartitioned === undefined) this.stream.serdesFor(`${what}: the repartition topic "${base}-repartition"`, this.grouped);
    const key = keySerde ?? this.grouped.key ?? this.stream.keySerde;
    if (key === undefined) throw new Error('invariant: a stream whose key did not change since its source has the key serde of its source');
    return { key, input: this.input(base).nodeName };
  }

  /** The stream the aggregation reads: this one, or its copy through `<base>-repartition` when the key changed. */
  private input(base: string): KStream<K, V> {
    if (!this.stream.keyChanged) return this.stream;
    this.repartitioned ??= this.stream
      .filter((key, value) => key !== null && key !== undefined && value !== null && value !== undefined, { name: `${base}-repartition-filter` })
      .throughRepartition(base, this.grouped);
    return this.repartitioned;
  }
}
