import type { Serde } from '../../sdk/serde/serde.ts';
import type { KeyValueStore } from '../state/key-value-store.ts';
import type { ProcessorContext, ProcessorSupplier } from '../topology/processor.ts';
import type { Change } from './change.ts';
import {
  type CombinedKey,
  Instruction,
  type InstructionValue,
  sameHash,
  type StoredSubscription,
  type Subscription,
  type SubscriptionResponse,
  valueHash,
} from './subscription-wire.ts';
import { andThen, type TableValueGetter, type TableValueGetterSupplier } from './table-value-getter.ts';
import type { UserResult } from './user-result.ts';

export type SubscriptionStore<KO, K> = KeyValueStore<CombinedKey<KO, K>, StoredSubscription>;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function foreignKeyOf<V, KO>(extractor: (value: V) => KO | null | undefined, value: V | undefined): KO | null {
  if (value === undefined) return null;
  const fk = extractor(value);
  return fk === undefined ? null : fk;
}

/**
 * Left side, below the left table: turns each change of a left row into subscriptions keyed by
 * foreign key (Kafka Streams' SubscriptionSendProcessorSupplier), carrying the hash of the new
 * left value. A row whose foreign key changed, or that was deleted, unsubscribes from the old key
 * without an answer (its result is deleted by `resultDeleteProcessor` when it can no longer join).
 * Every subscription asks for an answer, "no value" included: an answer is the only thing that
 * settles a row's result, and an older answer carrying the same hash (the row deleted and
 * re-created with the same value) could otherwise be the last one. A null foreign key joins
 * nothing: a left join sends a keyless subscription that comes back as "no value".
 */
export function subscriptionSendProcessor<K, V, KO>(
  foreignKeyExtractor: (value: V) => KO | null | undefined,
  foreignKeySerde: Serde<KO>,
  valueSerde: Serde<V>,
  leftJoin: boolean,
): ProcessorSupplier<K, Change<V>, KO | null, Subscription<K>> {
  return () => {
    let ctx: ProcessorContext<KO | null, Subscription<K>>;
    return {
      init: (context) => void (ctx = context),
      process: (record) => {
        const { newValue, oldValue } = record.value;
        if (record.key === null || record.key === undefined) return;
        const hash = newValue === undefined ? null : valueHash(valueSerde.serialize(newValue));
        const send = (foreignKey: KO | null, instruction: InstructionValue): void =>
          ctx.forward(record.with(foreignKey, { instruction, hash, primaryKey: record.key, primaryPartition: ctx.taskId.partition }));
        const oldFk = foreignKeyOf(foreignKeyExtractor, oldValue);
        const newFk = foreignKeyOf(foreignKeyExtractor, newValue);
        if (oldFk !== null && (newFk === null || !sameBytes(foreignKeySerde.serialize(oldFk), foreignKeySerde.serialize(newFk)))) {
          send(oldFk, Instruction.deleteKeyNoPropagate);
        }
        if (newValue === undefined) return;
        if (newFk !== null) send(newFk, Instruction.propagateNullIfNoFkValAvailable);
        else if (leftJoin) send(null, Instruction.propagateNullIfNoFkValAvailable);
      },
    };
  };
}

/**
 * Left side, beside `subscriptionSendProcessor`: deletes at once the result of a row that can no
 * longer join (deleted; or, in an inner join, without a foreign key). Leaving that to an answer
 * from the right side would not do: the answer carries the hash of the value it was asked for,
 * and a later change of the row makes it stale and dropped, leaving the old result behind. Answers
 * still in flight for older values carry other hashes and are dropped too.
 */
export function resultDeleteProcessor<K, V, KO>(foreignKeyExtractor: (value: V) => KO | null | undefined, leftJoin: boolean): ProcessorSupplier<K, Change<V>, K, null> {
  return () => {
    let ctx: ProcessorContext<K, null>;
    return {
      init: (context) => void (ctx = context),
      process: (record) => {
        const { newValue } = record.value;
        if (newValue === undefined || (!leftJoin && foreignKeyOf(foreignKeyExtractor, newValue) === null)) ctx.forward(record.withValue(null));
      },
    };
  };
}

/**
 * Right side, reading the registration topic (Kafka Streams' SubscriptionReceive and
 * SubscriptionJoin processors): keeps each (foreign key, left key) subscription in the
 * subscription store and answers with the right table's current value as the instruction says.
 * An answer's timestamp is the larger of the subscription's and the right value's.
 */
export function subscriptionReceiveProcessor<KO, K, VO>(
  storeName: string,
  rightGetter: TableValueGetterSupplier<KO, VO>,
): ProcessorSupplier<KO | null, Subscription<K>, K, SubscriptionResponse<VO>> {
  return () => {
    let ctx: ProcessorContext<K, SubscriptionResponse<VO>>;
    let store: SubscriptionStore<KO, K>;
    let getRight: TableValueGetter<KO, VO>;
    return {
      init: (context) => {
        ctx = context;
        store = context.getStateStore(storeName);
        getRight = rightGetter.init(context as ProcessorContext<unknown, unknown>, 'latest');
      },
      process: (record) => {
        const { instruction, hash, primaryKey, primaryPartition } = record.value;
        const respond = (foreignValue: VO | null, timestamp: number): void =>
          ctx.forward(record.with(primaryKey, { hash, foreignValue, primaryPartition }).withTimestamp(timestamp));
        const foreignKey = record.key;
        if (foreignKey === null || foreignKey === undefined) {
          if (instruction === Instruction.propagateNullIfNoFkValAvailable) respond(null, record.timestamp);
          return undefined;
        }
        const key = { foreignKey, primaryKey };
        if (instruction === Instruction.deleteKeyNoPropagate || instruction === Instruction.deleteKeyAndPropagate) {
          store.delete(key);
          if (instruction === Instruction.deleteKeyAndPropagate) respond(null, record.timestamp);
          return undefined;
        }
        if (hash === null) throw new Error('invariant: a subscription carries the hash of its left value');
        store.put(key, { hash, primaryPartition, timestamp: record.timestamp });
        return andThen(getRight(foreignKey), (found) => {
          if (found === undefined && instruction === Instruction.propagateOnlyIfFkValAvailable) return;
          respond(found === undefined ? null : found.value, found === undefined ? record.timestamp : Math.max(record.timestamp, found.timestamp));
        });
      },
    };
  };
}

/**
 * Right side, below the right table (Kafka Streams' ForeignTableJoinProcessorSupplier): a change of
 * a right row answers every left row subscribed to its key with the new value (null when deleted),
 * timestamped with the larger of the change's and the subscription's timestamps.
 */
export function foreignTableChangeProcessor<KO, K, VO>(storeName: string): ProcessorSupplier<KO, Change<VO>, K, SubscriptionResponse<VO>> {
  return () => {
    let ctx: ProcessorContext<K, SubscriptionResponse<VO>>;
    let store: SubscriptionStore<KO, K>;
    return {
      init: (context) => {
        ctx = context;
        store = context.getStateStore(storeName);
      },
      process: (record) => {
        if (record.key === null || record.key === undefined) return;
        const foreignValue = record.value.newValue === undefined ? null : record.value.newValue;
        for (const [key, subscription] of store.prefixScan({ foreignKey: record.key, primaryKey: undefined })) {
          if (key.primaryKey === undefined) throw new Error('invariant: a stored subscription has a primary key');
          ctx.forward(
            record
              .with(key.primaryKey, { hash: subscription.hash, foreignValue, primaryPartition: subscription.primaryPartition })
              .withTimestamp(Math.max(record.timestamp, subscription.timestamp)),
          );
        }
      },
    };
  };
}

/**
 * Left side, reading the response topic (Kafka Streams' ResponseJoinProcessorSupplier): a response
 * whose hash is not the hash of the left row's current value answers an older value and is
 * dropped; otherwise the row is joined with the foreign value, or its result deleted (null) when
 * there is none and the join is inner (or the row is gone).
 */
export function responseJoinProcessor<K, V, VO, VR>(
  leftGetter: TableValueGetterSupplier<K, V>,
  valueSerde: Serde<V>,
  joiner: (value: V, foreignValue: VO | null, key: K) => UserResult<VR>,
  leftJoin: boolean,
): ProcessorSupplier<K, SubscriptionResponse<VO>, K, VR | null> {
  return () => {
    let ctx: ProcessorContext<K, VR | null>;
    let getLeft: TableValueGetter<K, V>;
    return {
      init: (context) => {
        ctx = context;
        getLeft = leftGetter.init(context as ProcessorContext<unknown, unknown>, 'latest');
      },
      process: (record) =>
        andThen(getLeft(record.key), (current) => {
          const currentHash = current === undefined ? null : valueHash(valueSerde.serialize(current.value));
          if (!sameHash(record.value.hash, currentHash)) return undefined;
          const { foreignValue } = record.value;
          if (current === undefined || (foreignValue === null && !leftJoin)) {
            ctx.forward(record.withValue(null));
            return undefined;
          }
          return andThen(joiner(current.value, foreignValue, record.key), (joined) => ctx.forward(record.withValue(joined === undefined ? null : joined)));
        }),
    };
  };
}
