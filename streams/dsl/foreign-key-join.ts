import type { Serde } from '../../sdk/serde/serde.ts';
import { nullable } from '../topology/nullable-serde.ts';
import type { ProcessorSupplier } from '../topology/processor.ts';
import type { StreamRecord } from '../topology/stream-record.ts';
import { TopologyError } from '../topology/topology.ts';
import type { DslContext } from './dsl-context.ts';
import {
  foreignTableChangeProcessor,
  resultDeleteProcessor,
  responseJoinProcessor,
  subscriptionReceiveProcessor,
  subscriptionSendProcessor,
} from './foreign-key-join-processors.ts';
import type { Named } from './kstream.ts';
import { alwaysSendsOldValues, KTable } from './ktable.ts';
import { tableStoreSpec } from './materialized.ts';
import { combinedKeySerde, responseSerde, storedSubscriptionSerde, subscriptionSerde, type SubscriptionResponse } from './subscription-wire.ts';
import { tableSourceProcessor } from './table-processors.ts';
import type { UserResult } from './user-result.ts';

/**
 * How a foreign-key join is done: `name` names its nodes, internal topics and stores
 * (`<name>-subscription-registration-topic`, `<name>-subscription-response-topic`,
 * `<name>-subscription-store`, `<name>-result-store`; Kafka Streams' generated names otherwise),
 * `value` is the serde of the result table's store, `cached`/`logged` as for any table store.
 */
export interface ForeignKeyJoinedOptions<VR> extends Named {
  value: Serde<VR>;
  cached?: boolean;
  logged?: boolean;
}

type AnyRecord = StreamRecord<unknown, unknown>;

/**
 * `left.join(right, foreignKeyExtractor, joiner)` and `leftJoin` (Kafka Streams' foreign-key join,
 * KIP-213): each left row joins the right row whose key `foreignKeyExtractor(leftValue)` gives;
 * the result is a table keyed by the left key. The two tables need not be co-partitioned.
 *
 * - The left side sends each row's subscription to the registration topic, partitioned by
 *   foreign key, with a hash of the left value; the right side keeps subscriptions in a store
 *   keyed by (foreign key, left key) and answers on the response topic, partitioned back to the
 *   left row's partition: at once, and again whenever the right row changes or is deleted.
 * - The left side joins an answer with the row's current value only when the answer carries the
 *   hash of that value: answers to an older value (overtaken by an update, or by a foreign-key
 *   change whose answer comes from another partition) are dropped.
 * - A row whose foreign key changes unsubscribes from the old key. A deleted left row (and, in an
 *   inner join, a row without foreign key) deletes its result at once on the left side. A deleted right row: an inner join deletes the results of every left row subscribed to
 *   it, a left join re-joins them with null. A null foreign key joins nothing (inner: no result,
 *   left: joined with null).
 * - A result's timestamp is the larger of the left update's and the right row's (for an answer
 *   to a subscription) or of the right update's and the subscription's (for a right change).
 * - The result table keeps its rows in a store (`value` serde), so it has old values and deletes
 *   of absent rows are dropped. The foreign-key extractor runs synchronously; the joiner may not.
 */
export function foreignKeyJoin<K, V, KO, VO, VR, DL extends null, DR extends null>(
  ctx: DslContext,
  left: KTable<K, V, DL>,
  right: KTable<KO, VO, DR>,
  foreignKeyExtractor: (value: V) => KO | null | undefined,
  joiner: (value: V, foreignValue: VO | null, key: K) => UserResult<VR>,
  options: ForeignKeyJoinedOptions<VR>,
  leftJoin: boolean,
): KTable<K, VR, null> {
  const what = `a foreign-key ${leftJoin ? 'leftJoin' : 'join'}()`;
  if (options?.value === undefined) throw new TopologyError(`${what} needs { value } options: the serde of its result table's store`);
  const serdes = {
    leftKey: left.keySerde,
    leftValue: left.valueSerde,
    rightKey: right.keySerde,
    rightValue: right.valueSerde,
  };
  const missing = Object.entries(serdes).filter(([, serde]) => serde === undefined).map(([name]) => name);
  if (missing.length > 0) {
    throw new TopologyError(`${what} needs both tables' key and value serdes (it writes them to its internal topics and hashes left values); missing: ${missing.join(', ')}; give mapValues a { value } serde`);
  }
  const leftKey = serdes.leftKey!;
  const leftValue = serdes.leftValue!;
  const rightKey = serdes.rightKey!;
  const rightValue = serdes.rightValue!;
  const leftGetter = left.valueGetter(what);
  const rightGetter = right.valueGetter(what);
  left.oldValues.enable();

  const base = options.name ?? ctx.nextName('KTABLE-FK-JOIN');
  const registrationTopic = options.name === undefined ? `${ctx.nextName('KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION')}-topic` : `${options.name}-subscription-registration-topic`;
  const responseTopic = options.name === undefined ? `${ctx.nextName('KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE')}-topic` : `${options.name}-subscription-response-topic`;
  const subscriptionStore = options.name === undefined ? ctx.nextName('KTABLE-FK-JOIN-SUBSCRIPTION-STATE-STORE') : `${options.name}-subscription-store`;
  const resultStore = options.name === undefined ? ctx.nextName('KTABLE-FK-JOIN-OUTPUT-STATE-STORE') : `${options.name}-result-store`;
  const topology = ctx.topology;

  const subscriptions = { key: nullable(rightKey) as Serde<unknown>, value: subscriptionSerde(leftKey) as Serde<unknown> };
  topology.addRepartitionTopic({ name: registrationTopic, partitions: undefined });
  topology.addProcessor(`${base}-subscription-send`, subscriptionSendProcessor(foreignKeyExtractor, rightKey, leftValue, leftJoin) as ProcessorSupplier<unknown, unknown, unknown, unknown>, [left.nodeName]);
  topology.addSink(`${base}-subscription-registration-sink`, { name: registrationTopic, internal: true }, [`${base}-subscription-send`], subscriptions);

  topology.addStore({
    name: subscriptionStore,
    kind: 'keyValue',
    keySerde: combinedKeySerde(rightKey, leftKey) as Serde<unknown>,
    valueSerde: storedSubscriptionSerde as Serde<unknown>,
    logged: true,
    cached: false,
    changelogConfig: {},
    internal: true,
  });
  topology.addSource(`${base}-subscription-registration-source`, [{ name: registrationTopic, internal: true }], subscriptions);
  topology.addProcessor(
    `${base}-subscription-receive`,
    subscriptionReceiveProcessor(subscriptionStore, rightGetter) as ProcessorSupplier<unknown, unknown, unknown, unknown>,
    [`${base}-subscription-registration-source`],
    [subscriptionStore, ...rightGetter.storeNames],
  );
  topology.addProcessor(`${base}-foreign-table-change`, foreignTableChangeProcessor(subscriptionStore) as ProcessorSupplier<unknown, unknown, unknown, unknown>, [right.nodeName], [subscriptionStore]);

  const responses = { key: leftKey as Serde<unknown>, value: responseSerde(rightValue) as Serde<unknown> };
  topology.addRepartitionTopic({ name: responseTopic, partitions: undefined, feedback: true });
  topology.addSink(`${base}-subscription-response-sink`, { name: responseTopic, internal: true }, [`${base}-subscription-receive`, `${base}-foreign-table-change`], {
    ...responses,
    partitioner: (record: AnyRecord) => (record.value as SubscriptionResponse<VO>).primaryPartition,
  });
  topology.addSource(`${base}-subscription-response-source`, [{ name: responseTopic, internal: true }], responses);
  topology.addProcessor(
    `${base}-response-join`,
    responseJoinProcessor(leftGetter, leftValue, joiner, leftJoin) as ProcessorSupplier<unknown, unknown, unknown, unknown>,
    [`${base}-subscription-response-source`],
    leftGetter.storeNames,
  );

  const spec = tableStoreSpec(resultStore, leftKey, options.value, options);
  topology.addStore(spec);
  topology.addProcessor(`${base}-result-delete`, resultDeleteProcessor(foreignKeyExtractor, leftJoin) as ProcessorSupplier<unknown, unknown, unknown, unknown>, [left.nodeName]);
  topology.addProcessor(base, tableSourceProcessor(resultStore, leftKey, spec.cached) as ProcessorSupplier<unknown, unknown, unknown, unknown>, [`${base}-response-join`, `${base}-result-delete`], [resultStore]);
  return new KTable<K, VR, null>(ctx, base, leftKey, options.value, resultStore, alwaysSendsOldValues);
}
