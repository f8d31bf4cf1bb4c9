import type { Serde } from '../../sdk/serde/serde.ts';
import type { ProcessorContext, ProcessorSupplier } from '../topology/processor.ts';
import type { DslContext } from './dsl-context.ts';
import { KStream, type Named } from './kstream.ts';
import type { KTable } from './ktable.ts';
import { andThen, type TableValueGetter, type TableValueGetterSupplier } from './table-value-getter.ts';
import type { UserResult } from './user-result.ts';

/**
 * How a stream-table join is done (Kafka Streams' `Joined`): `name` names the join (and the
 * repartition topic `<name>-repartition` when the stream's key changed), `key` and `streamValue`
 * are the repartition topic's serdes (default: the stream's), `value` the serde of the joined values.
 */
export interface JoinedOptions<K, V, VR> extends Named {
  key?: Serde<K>;
  streamValue?: Serde<V>;
  value?: Serde<VR>;
}

/** Stream records repartitioned for a join, per stream and repartition topic: two joins of one stream share the topic. */
const repartitionedForJoin = new WeakMap<object, Map<string, unknown>>();

/**
 * `stream.join(table)` / `stream.leftJoin(table)` (Kafka Streams' KStreamKTableJoin): each stream
 * record looks up the table's current value of its key and is joined with it; the result has the
 * stream record's key, timestamp and headers. Table updates trigger nothing: a stream record
 * sees the table as it is when the record is processed (with caching too: the lookup reads
 * uncommitted updates), so a table update processed after it is not joined with it.
 *
 * - A stream record with a null value is dropped (in a key-value model it carries nothing).
 * - Inner join: a record whose key is null or absent from the table is dropped.
 * - Left join: such a record is joined with null (`joiner(value, null, key)`), as Kafka Streams
 *   does since 3.7 (KIP-962) for null keys too.
 * - When the stream's key changed since its source (map, selectKey, ...), the stream goes through
 *   a repartition topic `<name>-repartition` first (name: the join's, else the stream's node),
 *   so each task sees the records of the keys its table partition holds. The table and the
 *   stream's (repartitioned) topic must be co-partitioned: the runtime checks it before start.
 */
export function streamTableJoin<K, V, VT, VR, D extends null>(
  ctx: DslContext,
  stream: KStream<K, V>,
  table: KTable<NonNullable<K>, VT, D>,
  joiner: (value: V, tableValue: VT | null, key: K) => UserResult<VR>,
  options: JoinedOptions<K, V, VR> | undefined,
  leftJoin: boolean,
): KStream<K, VR> {
  const what = leftJoin ? 'leftJoin()' : 'join()';
  const getter = table.valueGetter(`stream ${what} with a table`);
  const input = stream.keyChanged ? repartition(stream, options?.name ?? stream.nodeName, options, leftJoin) : stream;
  const name = ctx.name(options?.name, leftJoin ? 'KSTREAM-LEFTJOIN' : 'KSTREAM-JOIN');
  ctx.topology.addProcessor(name, streamTableJoinProcessor(getter, joiner, leftJoin), [input.nodeName], getter.storeNames);
  return new KStream<K, VR>(ctx, name, input.keySerde, options?.value, false);
}

function repartition<K, V, VR>(stream: KStream<K, V>, base: string, options: JoinedOptions<K, V, VR> | undefined, leftJoin: boolean): KStream<K, V> {
  const byBase = repartitionedForJoin.get(stream) ?? new Map<string, unknown>();
  repartitionedForJoin.set(stream, byBase);
  const known = byBase.get(base) as KStream<K, V> | undefined;
  if (known !== undefined) return known;
  // Records a join drops anyway stay off the topic: null values always, null keys for an inner join.
  const repartitioned = stream
    .filter((key, value) => value !== null && value !== undefined && (leftJoin || (key !== null && key !== undefined)), { name: `${base}-repartition-filter` })
    .throughRepartition(base, { key: options?.key, value: options?.streamValue });
  byBase.set(base, repartitioned);
  return repartitioned;
}

function streamTableJoinProcessor<K, V, VT, VR>(
  getter: TableValueGetterSupplier<NonNullable<K>, VT>,
  joiner: (value: V, tableValue: VT | null, key: K) => UserResult<VR>,
  leftJoin: boolean,
): ProcessorSupplier<K, V, K, VR> {
  return () => {
    let ctx: ProcessorContext<K, VR>;
    let get: TableValueGetter<NonNullable<K>, VT>;
    return {
      init: (context) => {
        ctx = context;
        get = getter.init(context as ProcessorContext<unknown, unknown>, 'latest');
      },
      process: (record) => {
        const { key, value } = record;
        if (value === null || value === undefined) return undefined;
        if (key === null || key === undefined) {
          if (!leftJoin) return undefined;
          return andThen(joiner(value, null, key), (joined) => ctx.forward(record.withValue(joined)));
        }
        return andThen(get(key), (found) => {
          if (found === undefined && !leftJoin) return undefined;
          return andThen(joiner(value, found === undefined ? null : found.value, key), (joined) => ctx.forward(record.withValue(joined)));
        });
      },
    };
  };
}
