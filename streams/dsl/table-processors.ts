import type { Serde } from '../../sdk/serde/serde.ts';
import type { ProcessorContext, ProcessorSupplier } from '../topology/processor.ts';
import type { StreamRecord } from '../topology/stream-record.ts';
import type { Change } from './change.ts';
import { DeleteTimestamps, TableForwarder } from './table-forwarder.ts';
import { type UserResult, withResult } from './user-result.ts';

/**
 * `builder.table(...)`: each record updates the key's value in the store, a null value deletes the
 * key. The latest record by offset wins, whatever its timestamp (as in Kafka Streams), and a
 * record without a key is skipped. A delete of an absent key changes nothing and forwards nothing.
 */
export function tableSourceProcessor<K, V>(storeName: string, keySerde: Serde<K>, cached: boolean): ProcessorSupplier<K | null, V | null, K, Change<V>> {
  return () => {
    let forwarder: TableForwarder<K, V>;
    const deletes = cached ? new DeleteTimestamps(keySerde) : undefined;
    return {
      init: (ctx) => {
        forwarder = new TableForwarder(ctx, storeName, cached, (key) => deletes?.take(key) ?? ctx.currentStreamTimeMs());
      },
      process: (input) => {
        if (input.key === null || input.key === undefined) return;
        const record = input as StreamRecord<K, V | null>;
        const store = forwarder.store;
        const old = store.get(record.key);
        if (record.value === null || record.value === undefined) {
          if (old === undefined) return;
          store.delete(record.key);
          deletes?.noteDelete(record.key, record.timestamp);
          forwarder.maybeForward(record, undefined, old.value, record.timestamp);
          return;
        }
        store.put(record.key, { value: record.value, timestamp: record.timestamp });
        forwarder.maybeForward(record, record.value, old?.value, record.timestamp);
      },
    };
  };
}

/**
 * KTable filter / filterNot: a key's value stays while it matches. The old value is tested too
 * (the parent sends it), so a key that stops matching becomes a delete and a key that neither
 * matched nor matches forwards nothing.
 */
export function tableFilterProcessor<K, V>(predicate: (key: K, value: V) => UserResult<boolean>, keep: boolean): ProcessorSupplier<K, Change<V>, K, Change<V>> {
  return () => {
    let ctx: ProcessorContext<K, Change<V>>;
    const test = (key: K, value: V | undefined): UserResult<boolean | undefined> => (value === undefined ? undefined : predicate(key, value));
    return {
      init: (context) => void (ctx = context),
      process: (record) => {
        const { newValue, oldValue } = record.value;
        return withResult(test(record.key, newValue), (newResult) =>
          withResult(test(record.key, oldValue), (oldResult) => {
            const newMatches = newResult !== undefined && newResult === keep;
            const oldMatches = oldResult !== undefined && oldResult === keep;
            if (!newMatches && !oldMatches) return;
            ctx.forward(record.withValue({ newValue: newMatches ? newValue : undefined, oldValue: oldMatches ? oldValue : undefined }));
          }),
        );
      },
    };
  };
}

/**
 * KTable mapValues: maps the new value, and the old one only when an operator below asked for old
 * values (`oldValues.send`, fixed once the topology is built), so the mapper runs once per update.
 */
export function tableMapValuesProcessor<K, V, VR>(mapper: (value: V, key: K) => UserResult<VR>, oldValues: { readonly send: boolean }): ProcessorSupplier<K, Change<V>, K, Change<VR>> {
  return () => {
    let ctx: ProcessorContext<K, Change<VR>>;
    const sendOld = oldValues.send;
    const map = (key: K, value: V | undefined): UserResult<VR | undefined> => (value === undefined ? undefined : mapper(value, key));
    return {
      init: (context) => void (ctx = context),
      process: (record) =>
        withResult(map(record.key, record.value.newValue), (newValue) =>
          withResult(sendOld ? map(record.key, record.value.oldValue) : undefined, (oldValue) => ctx.forward(record.withValue({ newValue, oldValue }))),
        ),
    };
  };
}

/** KTable toStream: each change becomes a record of its new value, a delete a record with a null value. */
export function toStreamProcessor<K, V>(): ProcessorSupplier<K, Change<V>, K, V | null> {
  return () => {
    let ctx: ProcessorContext<K, V | null>;
    return {
      init: (context) => void (ctx = context),
      process: (record) => ctx.forward(record.withValue(record.value.newValue === undefined ? null : record.value.newValue)),
    };
  };
}
