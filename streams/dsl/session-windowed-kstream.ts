import type { Serde } from '../../sdk/serde/serde.ts';
import { longSerde } from '../../sdk/serde/basic-serdes.ts';
import { sessionWindowedSerde } from '../state/session-windowed-serde.ts';
import type { Windowed } from '../state/windowed.ts';
import type { ProcessorSupplier } from '../topology/processor.ts';
import { TopologyError } from '../topology/topology.ts';
import type { DslContext } from './dsl-context.ts';
import { alwaysSendsOldValues, KTable } from './ktable.ts';
import { type MaterializedOptions, sessionTableStoreSpec } from './materialized.ts';
import { type SessionAggregation, sessionWindowAggregateProcessor } from './session-window-aggregate-processor.ts';
import type { SessionWindows } from './session-windows.ts';
import type { AggregationInput } from './time-windowed-kstream.ts';
import type { UserResult } from './user-result.ts';

/**
 * A grouped stream cut into sessions (Kafka Streams' SessionWindowedKStream): its aggregations give
 * a table keyed by `Windowed<K>` whose window is the session, [first record, last record] both
 * inclusive, kept in a session store (retention gap + grace). Sessions merge when a record bridges
 * them: the merged-away sessions are deleted from the table, so `toStream()` has a tombstone (null
 * value) for each. The table's key serde is `sessionWindowedSerde(key)`, the layout Kafka Streams'
 * SessionWindowedSerde reads, so `toStream().to(topic)` needs no key serde.
 */
export class SessionWindowedKStream<K, V> {
  /** @internal */
  constructor(
    private readonly ctx: DslContext,
    private readonly windows: SessionWindows,
    private readonly valueSerde: Serde<V> | undefined,
    private readonly aggregationInput: AggregationInput<K>,
  ) {}

  /** The number of records per key and session (`longSerde` unless `value` says otherwise); merged sessions add their counts. */
  count(options?: MaterializedOptions<K, number>): KTable<Windowed<K>, number, null> {
    const value = options?.value ?? longSerde;
    return this.aggregateWith('count()', 'KSTREAM-AGGREGATE', { aggregate: (_key, _value, count) => (count ?? 0) + 1, merge: (_key, count, session) => (count ?? 0) + session }, { ...options, value });
  }

  /**
   * Combines each key's values per session: the first value as it is, then `reducer(aggregate,
   * value)` per record; merged sessions are combined with the reducer too, earliest-ending first.
   */
  reduce(reducer: (aggregate: V, value: V) => UserResult<V>, options?: MaterializedOptions<K, V>): KTable<Windowed<K>, V, null> {
    const value = options?.value ?? this.valueSerde;
    if (value === undefined) throw new TopologyError(`session-windowed reduce() needs a value serde for its store: the stream's value type changed since its last serde; pass { value: ... }`);
    return this.aggregateWith(
      'reduce()',
      'KSTREAM-REDUCE',
      { aggregate: (_key, next, aggregate) => (aggregate === undefined ? next : reducer(aggregate, next)), merge: (_key, aggregate, session) => (aggregate === undefined ? session : reducer(aggregate, session)) },
      { ...options, value },
    );
  }

  /**
   * Folds each key's values per session, from `initializer()`, with `aggregator(key, value,
   * aggregate)` per record; when a record joins sessions, their aggregates are first combined with
   * `merger(key, aggregate, sessionAggregate)` from `initializer()`, earliest-ending first.
   */
  aggregate<VA>(
    initializer: () => NoInfer<VA>,
    aggregator: (key: K, value: V, aggregate: NoInfer<VA>) => UserResult<NoInfer<VA>>,
    merger: (key: K, aggregate: NoInfer<VA>, sessionAggregate: NoInfer<VA>) => UserResult<NoInfer<VA>>,
    options: MaterializedOptions<K, VA> & { value: Serde<VA> },
  ): KTable<Windowed<K>, VA, null> {
    return this.aggregateWith(
      'aggregate()',
      'KSTREAM-AGGREGATE',
      {
        aggregate: (key, next, aggregate) => aggregator(key, next, aggregate === undefined ? initializer() : aggregate),
        merge: (key, aggregate, session) => merger(key, aggregate === undefined ? initializer() : aggregate, session),
      },
      options,
    );
  }

  private aggregateWith<VA>(what: string, prefix: string, steps: SessionAggregation<K, V, VA>, options: MaterializedOptions<K, VA> & { value: Serde<VA> }): KTable<Windowed<K>, VA, null> {
    const storeName = this.ctx.name(options.name, `${prefix}-STATE-STORE`);
    const { key, input } = this.aggregationInput(`session-windowed ${what}`, storeName, options.key);
    const spec = sessionTableStoreSpec(storeName, key, options.value, this.windows.retentionMs, options);
    this.ctx.topology.addStore(spec);
    const name = this.ctx.nextName(prefix);
    this.ctx.topology.addProcessor(name, sessionWindowAggregateProcessor(storeName, this.windows, spec.cached, steps) as ProcessorSupplier<unknown, unknown, unknown, unknown>, [input], [storeName]);
    return new KTable<Windowed<K>, VA, null>(this.ctx, name, sessionWindowedSerde(key), options.value, storeName, alwaysSendsOldValues, this.windows.inactivityGapMs + this.windows.graceMs);
  }
}
