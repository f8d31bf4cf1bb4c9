import type { Serde } from '../../sdk/serde/serde.ts';
import type { ProcessorSupplier } from '../topology/processor.ts';
import type { StreamRecord } from '../topology/stream-record.ts';
import { TopologyError } from '../topology/topology.ts';
import type { SinkPartitioner } from '../topology/topology-nodes.ts';
import { isTimeWindowedSerde } from '../state/time-windowed-serde.ts';
import { isSessionWindowedSerde } from '../state/session-windowed-serde.ts';
import type { DslContext } from './dsl-context.ts';
import { type GroupedOptions, KGroupedStream } from './kgrouped-stream.ts';
import type { KTable } from './ktable.ts';
import { type JoinedOptions, streamTableJoin } from './stream-table-join.ts';
import {
  branchProcessor,
  filterProcessor,
  flatMapProcessor,
  flatMapValuesProcessor,
  mapProcessor,
  mapValuesProcessor,
  passThroughProcessor,
  peekProcessor,
  selectKeyProcessor,
} from './stateless-processors.ts';
import type { UserResult } from './user-result.ts';
import { windowedPartitioner } from './windowed-partitioner.ts';
import type { JoinWindows } from './join-windows.ts';
import { streamStreamJoin, type StreamJoinedOptions } from './stream-stream-join.ts';
import type { JoinKindValue, ValueJoiner } from './stream-stream-join-processor.ts';
import { GlobalKTable } from './global-ktable.ts';
import { globalJoinProcessor } from './global-join-processor.ts';
import { addRetriedStage, type RetryOption } from './retry-ladder.ts';

/** A global-table join's lookup key and joiner, as the overloads' implementation sees them. */
type GlobalKeySelector<K, V> = (key: K, value: V) => UserResult<unknown>;
type GlobalJoiner<K, V> = (value: V, tableValue: unknown, key: K) => UserResult<unknown>;

/** Names a DSL node (Kafka Streams' `Named`); generated when absent. */
export interface Named {
  name?: string;
}

export interface ProducedOptions<K, V> extends Named {
  key?: Serde<K>;
  value?: Serde<V>;
  /**
   * Picks the partition per record; default: murmur2 of the serialized key, as Kafka's producers do.
   * A method signature, so a KStream stays covariant in its value type (a table that never deletes
   * is usable where one that may is expected).
   */
  partitioner?(record: StreamRecord<K, V>, partitions: number): number | undefined;
}

export interface RepartitionOptions<K, V> extends ProducedOptions<K, V> {
  /** Partitions of the repartition topic; default: as many as the tasks writing it. */
  partitions?: number;
}

/** One branch of `split()`: its name and its predicate (none: the default branch). */
export interface BranchSpec<K, V> {
  name: string;
  predicate?: (key: K, value: V) => UserResult<boolean>;
}

/**
 * A record stream (Kafka Streams' KStream). Every operator adds a node to the topology and
 * returns a new stream typed by what the operator produces. Functions may return a value, a
 * promise or an Effect; the runtime keeps per-key order around them.
 *
 * A stream remembers its key and value serdes while the operators keep them (a value mapping
 * drops the value serde, a key change the key serde); `to` and `repartition` use them unless
 * given others, and stop with a TopologyError when a serde is missing.
 */
export class KStream<K, V> {
  /** @internal */
  constructor(
    protected readonly ctx: DslContext,
    /** @internal The node whose output this stream is. */
    readonly nodeName: string,
    /** @internal */
    readonly keySerde: Serde<K> | undefined,
    /** @internal */
    readonly valueSerde: Serde<V> | undefined,
    /** @internal The key changed since the last partitioning: grouping must repartition first. */
    readonly keyChanged: boolean,
  ) {}

  /** @internal Adds a processor below this stream and returns its output stream. */
  protected derive<KR, VR>(
    prefix: string,
    named: (Named & RetryOption<K, V>) | undefined,
    supplier: ProcessorSupplier<K, V, KR, VR>,
    keySerde: Serde<KR> | undefined,
    valueSerde: Serde<VR> | undefined,
    keyChanged: boolean,
    stores: readonly string[] = [],
  ): KStream<KR, VR> {
    const name = this.ctx.name(named?.name, prefix);
    if (named?.retry !== undefined) {
      const output = addRetriedStage(this.ctx.topology, name, supplier, this.nodeName, stores, { key: this.keySerde, value: this.valueSerde }, named.retry);
      return new KStream<KR, VR>(this.ctx, output, keySerde, valueSerde, keyChanged);
    }
    this.ctx.topology.addProcessor(name, supplier, [this.nodeName], stores);
    return new KStream<KR, VR>(this.ctx, name, keySerde, valueSerde, keyChanged);
  }

  filter(predicate: (key: K, value: V) => UserResult<boolean>, named?: Named & RetryOption<K, V>): KStream<K, V> {
    return this.derive('KSTREAM-FILTER', named, filterProcessor(predicate, true), this.keySerde, this.valueSerde, this.keyChanged);
  }

  filterNot(predicate: (key: K, value: V) => UserResult<boolean>, named?: Named & RetryOption<K, V>): KStream<K, V> {
    return this.derive('KSTREAM-FILTER', named, filterProcessor(predicate, false), this.keySerde, this.valueSerde, this.keyChanged);
  }

  mapValues<VR>(mapper: (value: V, key: K) => UserResult<VR>, options?: Named & RetryOption<K, V> & { value?: Serde<VR> }): KStream<K, VR> {
    return this.derive('KSTREAM-MAPVALUES', options, mapValuesProcessor(mapper), this.keySerde, options?.value, this.keyChanged);
  }

  /** A new key and value per record: later grouping repartitions by the new key. */
  map<KR, VR>(mapper: (key: K, value: V) => UserResult<readonly [KR, VR]>, options?: Named & RetryOption<K, V> & { key?: Serde<KR>; value?: Serde<VR> }): KStream<KR, VR> {
    return this.derive('KSTREAM-MAP', options, mapProcessor(mapper), options?.key, options?.value, true);
  }

  selectKey<KR>(selector: (key: K, value: V) => UserResult<KR>, options?: Named & RetryOption<K, V> & { key?: Serde<KR> }): KStream<KR, V> {
    return this.derive('KSTREAM-KEY-SELECT', options, selectKeyProcessor(selector), options?.key, this.valueSerde, true);
  }

  flatMap<KR, VR>(mapper: (key: K, value: V) => UserResult<Iterable<readonly [KR, VR]>>, options?: Named & RetryOption<K, V> & { key?: Serde<KR>; value?: Serde<VR> }): KStream<KR, VR> {
    return this.derive('KSTREAM-FLATMAP', options, flatMapProcessor(mapper), options?.key, options?.value, true);
  }

  flatMapValues<VR>(mapper: (value: V, key: K) => UserResult<Iterable<VR>>, options?: Named & RetryOption<K, V> & { value?: Serde<VR> }): KStream<K, VR> {
    return this.derive('KSTREAM-FLATMAPVALUES', options, flatMapValuesProcessor(mapper), this.keySerde, options?.value, this.keyChanged);
  }

  /** Runs `action` per record and passes the record on unchanged once it is done. */
  peek(action: (key: K, value: V) => UserResult<void>, named?: Named & RetryOption<K, V>): KStream<K, V> {
    return this.derive('KSTREAM-PEEK', named, peekProcessor(action, true), this.keySerde, this.valueSerde, this.keyChanged);
  }

  /** Runs `action` per record; the stream ends here. */
  foreach(action: (key: K, value: V) => UserResult<void>, named?: Named & RetryOption<K, V>): void {
    this.derive('KSTREAM-FOREACH', named, peekProcessor(action, false), this.keySerde, this.valueSerde, this.keyChanged);
  }

  /** Records of both streams, in the order they arrive (with `other`'s key and value types). */
  merge(other: KStream<K, V>, named?: Named): KStream<K, V> {
    const name = this.ctx.name(named?.name, 'KSTREAM-MERGE');
    this.ctx.topology.addProcessor(name, passThroughProcessor<K, V>(), [this.nodeName, other.nodeName]);
    return new KStream(this.ctx, name, this.keySerde ?? other.keySerde, this.valueSerde ?? other.valueSerde, this.keyChanged || other.keyChanged);
  }

  /**
   * Splits the stream: each record goes to the first branch whose predicate holds; a branch
   * without a predicate (at most one, last) takes the rest. Returns the branches by name.
   */
  split<const B extends readonly BranchSpec<K, V>[]>(branches: B, named?: Named): { [N in B[number]['name']]: KStream<K, V> } {
    const names = new Set<string>();
    branches.forEach((b, i) => {
      if (names.has(b.name)) throw new TopologyError(`split: the branch name "${b.name}" is used twice`);
      names.add(b.name);
      if (b.predicate === undefined && i !== branches.length - 1) throw new TopologyError(`split: only the last branch may lack a predicate ("${b.name}" does)`);
    });
    const splitName = this.ctx.name(named?.name, 'KSTREAM-BRANCH');
    const children = branches.map((b) => ({ child: `${splitName}-${b.name}`, predicate: b.predicate }));
    this.ctx.topology.addProcessor(splitName, branchProcessor(children), [this.nodeName]);
    const result: Record<string, KStream<K, V>> = {};
    for (const { child } of children) {
      this.ctx.topology.addProcessor(child, passThroughProcessor<K, V>(), [splitName]);
      result[child.slice(splitName.length + 1)] = new KStream(this.ctx, child, this.keySerde, this.valueSerde, this.keyChanged);
    }
    return result as { [N in B[number]['name']]: KStream<K, V> };
  }

  /**
   * A low-level processor (with access to stores named in `stores`) below this stream. With
   * `retry`, a record is retried whole: forward only once the record's work succeeded (records
   * forwarded before a failure stay forwarded), and to all children (no child names).
   */
  process<KR, VR>(supplier: ProcessorSupplier<K, V, KR, VR>, options?: Named & RetryOption<K, V> & { stores?: readonly string[]; key?: Serde<KR>; value?: Serde<VR> }): KStream<KR, VR> {
    return this.derive('KSTREAM-PROCESSOR', options, supplier, options?.key, options?.value, true, options?.stores ?? []);
  }

  /**
   * Groups the records by their key for an aggregation. If the key changed since the stream was
   * last partitioned, the aggregation repartitions first, with the serdes given here or the stream's.
   */
  groupByKey(options?: GroupedOptions<K, V>): KGroupedStream<NonNullable<K>, NonNullable<V>> {
    return new KGroupedStream(this.ctx, this as unknown as KStream<NonNullable<K>, NonNullable<V>>, (options ?? {}) as GroupedOptions<NonNullable<K>, NonNullable<V>>);
  }

  /** Groups the records by a new key (`selectKey` then `groupByKey`): the aggregation repartitions by it. */
  groupBy<KR>(selector: (key: K, value: V) => UserResult<KR>, options: GroupedOptions<KR, V> & { key: Serde<KR> }): KGroupedStream<NonNullable<KR>, NonNullable<V>> {
    return this.selectKey(selector, { key: options.key }).groupByKey(options);
  }

  /**
   * Writes the stream to `topic`, or to the topic a function picks per record. Time-windowed keys
   * (`timeWindowedSerde`) and session-windowed keys (`sessionWindowedSerde`) go, unless a
   * partitioner is given, to the partition of their inner key.
   */
  to(topic: string | ((record: StreamRecord<K, V>) => string), options?: ProducedOptions<K, V>): void {
    const name = this.ctx.name(options?.name, 'KSTREAM-SINK');
    const serdes = this.serdesFor(`to(${typeof topic === 'string' ? `"${topic}"` : 'a topic chooser'})`, options);
    const partitioner = options?.partitioner ?? (isTimeWindowedSerde(serdes.key) || isSessionWindowedSerde(serdes.key) ? windowedPartitioner(serdes.key) : undefined);
    this.ctx.topology.addSink(name, typeof topic === 'string' ? topic : (topic as (r: StreamRecord<unknown, unknown>) => string), [this.nodeName], {
      ...serdes,
      ...(partitioner === undefined ? {} : { partitioner: partitioner as SinkPartitioner }),
    });
  }

  /**
   * Writes the stream through an internal repartition topic (`<applicationId>-<name>-repartition`)
   * and reads it back: records are partitioned by their current key, so the tasks below see all
   * records of a key together.
   */
  repartition(options?: RepartitionOptions<K, V>): KStream<K, V> {
    const base = options?.name ?? this.ctx.nextName('KSTREAM-REPARTITION');
    return this.throughRepartition(base, options);
  }

  /** @internal The sink/source pair of a repartition topic named `<base>-repartition`. */
  throughRepartition(base: string, options?: RepartitionOptions<K, V>): KStream<K, V> {
    const topic = { name: `${base}-repartition`, internal: true };
    const serdes = this.serdesFor(`the repartition topic "${topic.name}"`, options);
    this.ctx.topology.addRepartitionTopic({ name: topic.name, partitions: options?.partitions });
    this.ctx.topology.addSink(`${base}-repartition-sink`, topic, [this.nodeName], {
      ...serdes,
      ...(options?.partitioner === undefined ? {} : { partitioner: options.partitioner as SinkPartitioner }),
    });
    this.ctx.topology.addSource(`${base}-repartition-source`, [topic], serdes);
    return new KStream<K, V>(this.ctx, `${base}-repartition-source`, serdes.key as Serde<K>, serdes.value as Serde<V>, false);
  }

  /**
   * A windowed inner join with another stream (Kafka Streams' KStream#join(KStream)): each record
   * joins every record of the other stream with its key whose timestamp is within `windows` of its
   * own, whichever arrives first; a result is `joiner(value, otherValue, key)` at the larger of the
   * two timestamps. Records with a null key or value are skipped; a record more than the grace
   * behind the join's stream time is late and dropped. See `JoinWindows` for the bounds and
   * `streamStreamJoinProcessor` for the rules. A stream whose key changed goes through a
   * repartition topic first, so both sides are co-partitioned; the results' value serde is unset.
   */
  join<VO, VR>(other: KStream<K, VO>, joiner: (value: V, otherValue: VO, key: K) => UserResult<VR>, windows: JoinWindows, options?: StreamJoinedOptions<K, V, VO>): KStream<K, VR>;
  /**
   * Joins each record with the table's current value of its key (Kafka Streams' KStream-KTable
   * join): `joiner(value, tableValue, key)`, emitted with the record's key and timestamp; records
   * whose key the table lacks, with a null key or a null value are dropped. Table updates emit
   * nothing. Repartitions first when the key changed; see `streamTableJoin` for the details.
   */
  join<VT, VR, D extends null>(table: KTable<NonNullable<K>, VT, D>, joiner: (value: V, tableValue: VT, key: K) => UserResult<VR>, options?: JoinedOptions<K, V, VR>): KStream<K, VR>;
  /**
   * Joins each record with a global table (inner): the record's lookup key is
   * `keySelector(key, value)`, and the result `joiner(value, tableValue, key)` keeps the record's key,
   * timestamp and headers. A record with a null value, a null or undefined lookup key, or a lookup
   * key absent from the table produces nothing. The table's value is the one this process has read
   * when the record is processed (see GlobalKTable); no repartitioning, whatever the keys.
   */
  join<GK, GV, VR>(
    globalTable: GlobalKTable<GK, GV>,
    keySelector: (key: K, value: V) => UserResult<GK | null | undefined>,
    joiner: (value: V, tableValue: GV, key: K) => UserResult<VR>,
    options?: Named & { value?: Serde<VR> },
  ): KStream<K, VR>;
  join(other: KStream<K, unknown> | KTable<NonNullable<K>, unknown, null> | GlobalKTable<unknown, unknown>, second: unknown, third?: unknown, options?: unknown): KStream<K, unknown> {
    return this.joinWith(false, other, second, third, options);
  }

  /**
   * As the windowed `join`, and a record of this stream that joined nothing is emitted as
   * `joiner(value, null, key)` at its own timestamp, once its window has closed (stream time past
   * its timestamp + after + grace), never eagerly: results for records that find a match later
   * are never retracted because none are emitted early (Kafka Streams 3.1+). A record with a null
   * key is emitted that way at once.
   */
  leftJoin<VO, VR>(other: KStream<K, VO>, joiner: (value: V, otherValue: VO | null, key: K) => UserResult<VR>, windows: JoinWindows, options?: StreamJoinedOptions<K, V, VO>): KStream<K, VR>;
  /**
   * As the table `join`, but a record whose key the table lacks (or whose key is null) is joined
   * with null: every record with a value gives one result.
   */
  leftJoin<VT, VR, D extends null>(table: KTable<NonNullable<K>, VT, D>, joiner: (value: V, tableValue: VT | null, key: K) => UserResult<VR>, options?: JoinedOptions<K, V, VR>): KStream<K, VR>;
  /**
   * As the global-table `join`, but a record whose lookup key is null, undefined or absent from the
   * table is joined with null (`joiner(value, null, key)`); a record with a null value still
   * produces nothing.
   */
  leftJoin<GK, GV, VR>(
    globalTable: GlobalKTable<GK, GV>,
    keySelector: (key: K, value: V) => UserResult<GK | null | undefined>,
    joiner: (value: V, tableValue: GV | null, key: K) => UserResult<VR>,
    options?: Named & { value?: Serde<VR> },
  ): KStream<K, VR>;
  leftJoin(other: KStream<K, unknown> | KTable<NonNullable<K>, unknown, null> | GlobalKTable<unknown, unknown>, second: unknown, third?: unknown, options?: unknown): KStream<K, unknown> {
    return this.joinWith(true, other, second, third, options);
  }

  /** The join the overloads of `join` / `leftJoin` name: with a stream (windowed), a global table, or a table. */
  private joinWith(left: boolean, other: KStream<K, unknown> | KTable<NonNullable<K>, unknown, null> | GlobalKTable<unknown, unknown>, second: unknown, third: unknown, options: unknown): KStream<K, unknown> {
    if (other instanceof KStream) return this.streamJoin(left ? 'left' : 'inner', other, second as ValueJoiner<K, V | null, unknown, unknown>, third as JoinWindows, options as StreamJoinedOptions<K, V, unknown>);
    if (other instanceof GlobalKTable) return this.globalJoin(left, other, second as GlobalKeySelector<K, V>, third as GlobalJoiner<K, V>, options as Named & { value?: Serde<unknown> });
    return streamTableJoin(this.ctx, this, other, second as (value: V, tableValue: unknown, key: K) => UserResult<unknown>, third as JoinedOptions<K, V, unknown> | undefined, left);
  }

  /** As the windowed `leftJoin`, for the records of both streams: one that joined nothing is emitted with null for the other side once its window closed. */
  outerJoin<VO, VR>(other: KStream<K, VO>, joiner: (value: V | null, otherValue: VO | null, key: K) => UserResult<VR>, windows: JoinWindows, options?: StreamJoinedOptions<K, V, VO>): KStream<K, VR> {
    return this.streamJoin('outer', other, joiner, windows, options);
  }

  private streamJoin<VO, VR>(kind: JoinKindValue, other: KStream<K, VO>, joiner: ValueJoiner<K, V | null, VO | null, VR>, windows: JoinWindows, options?: StreamJoinedOptions<K, V, VO>): KStream<K, VR> {
    const { nodeName, keySerde } = streamStreamJoin(this.ctx, kind, this, other, joiner, windows, options ?? {});
    return new KStream<K, VR>(this.ctx, nodeName, keySerde, undefined, false);
  }

  private globalJoin(left: boolean, table: GlobalKTable<unknown, unknown>, keySelector: GlobalKeySelector<K, V>, joiner: GlobalJoiner<K, V>, options: (Named & { value?: Serde<unknown> }) | undefined): KStream<K, unknown> {
    const supplier = globalJoinProcessor(table.queryableStoreName, keySelector, joiner, left);
    return this.derive(left ? 'KSTREAM-LEFTJOIN' : 'KSTREAM-JOIN', options, supplier, this.keySerde, options?.value, this.keyChanged);
  }

  /** @internal The serdes a sink uses: the given ones, else the stream's; a missing one is a topology error. */
  serdesFor(what: string, options?: { key?: Serde<K>; value?: Serde<V> }): { key: Serde<unknown>; value: Serde<unknown> } {
    const key = options?.key ?? this.keySerde;
    const value = options?.value ?? this.valueSerde;
    const missing = [key === undefined ? 'key' : undefined, value === undefined ? 'value' : undefined].filter((m) => m !== undefined);
    if (missing.length > 0) {
      throw new TopologyError(`${what} needs a ${missing.join(' and a ')} serde: the stream's ${missing.join(' and ')} type changed since its last serde; pass { ${missing.map((m) => `${m}: ...`).join(', ')} }`);
    }
    return { key: key as Serde<unknown>, value: value as Serde<unknown> };
  }
}
