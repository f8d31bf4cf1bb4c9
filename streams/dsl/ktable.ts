import type { Serde } from '../../sdk/serde/serde.ts';
import type { ProcessorSupplier } from '../topology/processor.ts';
import type { DslContext } from './dsl-context.ts';
import { KStream, type Named } from './kstream.ts';
import { suppressTable, type SuppressOptions } from './suppress.ts';
import type { UntilTimeLimit, UntilWindowCloses } from './suppressed.ts';
import type { Windowed } from '../state/windowed.ts';
import { tableFilterProcessor, tableMapValuesProcessor, toStreamProcessor } from './table-processors.ts';
import { TableJoinKind, type TableJoinedOptions, type TableJoiner, tableTableJoin } from './table-table-join.ts';
import { foreignKeyJoin, type ForeignKeyJoinedOptions } from './foreign-key-join.ts';
import { filterValueGetter, mapValuesValueGetter, storeValueGetter, type TableValueGetterSupplier } from './table-value-getter.ts';
import type { UserResult } from './user-result.ts';
import { TopologyError } from '../topology/topology.ts';

/** @internal Tells the operator above a table that an operator below needs its old values. */
export interface OldValues {
  enable(): void;
}

/** Tables that own a store always send old values: they read them anyway. */
export const alwaysSendsOldValues: OldValues = { enable: () => undefined };

/**
 * A changelog stream seen as a table (Kafka Streams' KTable): the latest value per key. Built by
 * `builder.table(...)` or an aggregation of a grouped stream, which keep it in a store; `filter`
 * and `mapValues` derive tables computed on the fly from their parent's changes (see `Change`).
 *
 * `Deleted` is `null` when keys can be deleted from the table (a table read from a topic, a
 * filtered table, a session-windowed aggregation whose merged sessions are deleted), so
 * `toStream()` has null values (tombstones) for deletes; other aggregations' tables never delete,
 * so it is `never` there and `toStream()` has no nulls.
 */
export class KTable<K, V, Deleted extends null = null> {
  /** @internal */
  constructor(
    private readonly ctx: DslContext,
    /** @internal The node whose output (changes) this table is. */
    readonly nodeName: string,
    /** @internal */
    readonly keySerde: Serde<K> | undefined,
    /** @internal */
    readonly valueSerde: Serde<V> | undefined,
    /** The store holding this table, for queries and tests; undefined for a table computed on the fly. */
    readonly queryableStoreName: string | undefined,
    /** @internal */
    readonly oldValues: OldValues,
    /**
     * @internal How long after a window's end a record may still change it, for `suppress(untilWindowCloses)`: the grace
     * of the windows that built this table (keyed by `Windowed<K>`), plus the inactivity gap for sessions (a record
     * within the gap extends a session), as Kafka Streams counts it.
     */
    readonly windowGraceMs?: number,
    /** @internal How a join reads this table's value by key; tables with a store read it (see `valueGetter`). */
    private readonly valueGetterSupplier?: TableValueGetterSupplier<K, V>,
  ) {}

  private derive<VR, D extends null>(
    prefix: string,
    named: Named | undefined,
    supplier: ProcessorSupplier<K, unknown, K, unknown>,
    valueSerde: Serde<VR> | undefined,
    oldValues: OldValues,
    valueGetter?: TableValueGetterSupplier<K, VR>,
  ): KTable<K, VR, D> {
    const name = this.ctx.name(named?.name, prefix);
    this.ctx.topology.addProcessor(name, supplier, [this.nodeName]);
    return new KTable<K, VR, D>(this.ctx, name, this.keySerde, valueSerde, undefined, oldValues, this.windowGraceMs, valueGetter);
  }

  /**
   * @internal How a processor joined with this table reads its current value by key: the table's
   * store, or its parent's value through this table's operators (filter, mapValues, a join).
   */
  valueGetter(what: string): TableValueGetterSupplier<K, V> {
    if (this.valueGetterSupplier !== undefined) return this.valueGetterSupplier;
    if (this.queryableStoreName !== undefined) return storeValueGetter(this.queryableStoreName);
    throw new TopologyError(`${what}: the table "${this.nodeName}" cannot be read by key (it has no store and no way to compute its value); read it from a topic with builder.table(...) first`);
  }

  /** The keys whose value matches; a key that stops matching is deleted from the result. */
  filter(predicate: (key: K, value: V) => UserResult<boolean>, named?: Named): KTable<K, V, null> {
    this.oldValues.enable();
    return this.derive('KTABLE-FILTER', named, tableFilterProcessor(predicate, true) as ProcessorSupplier<K, unknown, K, unknown>, this.valueSerde, alwaysSendsOldValues, this.lazyGetter((parent) => filterValueGetter(parent, predicate, true)));
  }

  /** The keys whose value does not match; a key that starts matching is deleted from the result. */
  filterNot(predicate: (key: K, value: V) => UserResult<boolean>, named?: Named): KTable<K, V, null> {
    this.oldValues.enable();
    return this.derive('KTABLE-FILTER', named, tableFilterProcessor(predicate, false) as ProcessorSupplier<K, unknown, K, unknown>, this.valueSerde, alwaysSendsOldValues, this.lazyGetter((parent) => filterValueGetter(parent, predicate, false)));
  }

  /** Each key's value mapped; deletes stay deletes. */
  mapValues<VR>(mapper: (value: V, key: K) => UserResult<VR>, options?: Named & { value?: Serde<VR> }): KTable<K, VR, Deleted> {
    const flag = { send: false };
    const oldValues: OldValues = {
      enable: () => {
        if (flag.send) return;
        flag.send = true;
        this.oldValues.enable();
      },
    };
    return this.derive('KTABLE-MAPVALUES', options, tableMapValuesProcessor(mapper, flag) as ProcessorSupplier<K, unknown, K, unknown>, options?.value, oldValues, this.lazyGetter((parent) => mapValuesValueGetter(parent, mapper)));
  }

  /** A derived table's getter, made from this table's only when a join asks (so tables that are never joined need no getter). */
  private lazyGetter<VR>(make: (parent: TableValueGetterSupplier<K, V>) => TableValueGetterSupplier<K, VR>): TableValueGetterSupplier<K, VR> {
    let made: TableValueGetterSupplier<K, VR> | undefined;
    const get = (): TableValueGetterSupplier<K, VR> => (made ??= make(this.valueGetter('a join')));
    return {
      get storeNames() {
        return get().storeNames;
      },
      init: (ctx, view) => get().init(ctx, view),
    };
  }

  /** The table's changes as a record stream: each update's new value, null for a delete. */
  toStream(named?: Named): KStream<K, V | Deleted> {
    const name = this.ctx.name(named?.name, 'KTABLE-TOSTREAM');
    this.ctx.topology.addProcessor(name, toStreamProcessor<K, V>(), [this.nodeName]);
    return new KStream<K, V | Deleted>(this.ctx, name, this.keySerde, this.valueSerde as Serde<V | Deleted> | undefined, false);
  }

  /**
   * Holds the table's updates back (Kafka Streams' `suppress`), see `Suppressed`:
   * `untilWindowCloses` emits one final result per window of a windowed table once the window
   * closes, `untilTimeLimit` at most one update per key per time limit. Held updates live in a
   * changelogged store (`<name>-store`, or a generated name), so under exactly-once an update is
   * emitted once, also across crashes: the emit and the removal from the buffer commit together.
   * The buffer serializes keys and values: pass `key`/`value` serdes when the table has none.
   */
  suppress(this: KTable<K & Windowed<unknown>, V, Deleted>, suppressed: UntilWindowCloses, options?: SuppressOptions<K, V>): KTable<K, V, never>;
  suppress(suppressed: UntilTimeLimit, options?: SuppressOptions<K, V>): KTable<K, V, Deleted>;
  suppress(suppressed: UntilWindowCloses | UntilTimeLimit, options?: SuppressOptions<K, V>): KTable<K, V, Deleted> {
    this.oldValues.enable();
    const { name, keySerde, valueSerde } = suppressTable(this.ctx, this, suppressed, options);
    return new KTable<K, V, Deleted>(this.ctx, name, keySerde, valueSerde, undefined, alwaysSendsOldValues, this.windowGraceMs);
  }

  /**
   * A table of `joiner(value, otherValue, key)` for the keys both tables hold (Kafka Streams'
   * KTable-KTable inner join), updated when either side changes; a key leaving either side is
   * deleted from it. Its timestamps are the larger of the two sides' (see `tableTableJoin`).
   *
   * With a `foreignKeyExtractor`: a foreign-key join (KIP-213), each row of this table joined with
   * the row of `other` whose key the extractor takes from its value; the tables need not be
   * co-partitioned (see `foreignKeyJoin`).
   */
  join<VO, VR, DO extends null>(other: KTable<K, VO, DO>, joiner: (value: V, otherValue: VO, key: K) => UserResult<VR>, options?: TableJoinedOptions<VR>): KTable<K, VR, null>;
  join<KO, VO, VR, DO extends null>(
    other: KTable<KO, VO, DO>,
    foreignKeyExtractor: (value: V) => KO | null | undefined,
    joiner: (value: V, foreignValue: VO, key: K) => UserResult<VR>,
    options: ForeignKeyJoinedOptions<VR>,
  ): KTable<K, VR, null>;
  join<KO, VO, VR, DO extends null>(other: KTable<KO, VO, DO>, first: (...args: never[]) => unknown, second?: unknown, third?: unknown): KTable<K, VR, null> {
    return this.joinWith(other, first, second, third, false);
  }

  /**
   * As `join`, for every key of this table: `otherValue` is null while `other` lacks the key (or,
   * in a foreign-key join, lacks the foreign key, or the foreign key is null).
   */
  leftJoin<VO, VR, DO extends null>(other: KTable<K, VO, DO>, joiner: (value: V, otherValue: VO | null, key: K) => UserResult<VR>, options?: TableJoinedOptions<VR>): KTable<K, VR, null>;
  leftJoin<KO, VO, VR, DO extends null>(
    other: KTable<KO, VO, DO>,
    foreignKeyExtractor: (value: V) => KO | null | undefined,
    joiner: (value: V, foreignValue: VO | null, key: K) => UserResult<VR>,
    options: ForeignKeyJoinedOptions<VR>,
  ): KTable<K, VR, null>;
  leftJoin<KO, VO, VR, DO extends null>(other: KTable<KO, VO, DO>, first: (...args: never[]) => unknown, second?: unknown, third?: unknown): KTable<K, VR, null> {
    return this.joinWith(other, first, second, third, true);
  }

  /** A foreign-key join when a joiner follows the first function, else a key join. */
  private joinWith<KO, VO, VR, DO extends null>(other: KTable<KO, VO, DO>, first: (...args: never[]) => unknown, second: unknown, third: unknown, leftJoin: boolean): KTable<K, VR, null> {
    if (typeof second === 'function') {
      const joiner = second as (value: V, foreignValue: VO | null, key: K) => UserResult<VR>;
      return foreignKeyJoin(this.ctx, this, other, first as (value: V) => KO | null | undefined, joiner, third as ForeignKeyJoinedOptions<VR>, leftJoin);
    }
    const joiner = first as TableJoiner<K, V, VO, VR>;
    return tableTableJoin(this.ctx, this, other as unknown as KTable<K, VO, DO>, joiner, second as TableJoinedOptions<VR> | undefined, leftJoin ? TableJoinKind.left : TableJoinKind.inner);
  }

  /** As `join`, for every key of either table: the side lacking the key is null. */
  outerJoin<VO, VR, DO extends null>(other: KTable<K, VO, DO>, joiner: (value: V | null, otherValue: VO | null, key: K) => UserResult<VR>, options?: TableJoinedOptions<VR>): KTable<K, VR, null> {
    return tableTableJoin(this.ctx, this, other, joiner, options, TableJoinKind.outer);
  }
}
