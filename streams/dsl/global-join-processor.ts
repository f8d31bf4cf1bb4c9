import type { ReadOnlyKeyValueStore } from '../state/key-value-store.ts';
import type { ProcessorContext, ProcessorSupplier, ProcessResult } from '../topology/processor.ts';
import { type UserResult, withResult } from './user-result.ts';

/**
 * KStream–GlobalKTable join (inner, or left with `left`): each stream record's lookup key is
 * `keySelector(key, value)`, looked up in the global store once the selector returned; the result
 * `joiner(value, tableValue, key)` keeps the stream record's key, timestamp and headers. As in
 * Kafka Streams (3.7+): a stream record with a null value is dropped by both joins; one whose lookup
 * key is null or undefined, or absent from the table, is dropped by the inner join and joined with
 * null by the left join.
 */
export function globalJoinProcessor<K, V, GK, GV, VR>(
  storeName: string,
  keySelector: (key: K, value: V) => UserResult<GK>,
  joiner: (value: V, tableValue: GV | null, key: K) => UserResult<VR>,
  left: boolean,
): ProcessorSupplier<K, V, K, VR> {
  return () => {
    let ctx: ProcessorContext<K, VR>;
    let store: ReadOnlyKeyValueStore<GK, GV>;
    return {
      init: (context) => {
        ctx = context;
        store = context.getStateStore<ReadOnlyKeyValueStore<GK, GV>>(storeName);
      },
      process: (record) => {
        if (record.value === null) return;
        const join = (tableValue: GV | null): ProcessResult => withResult(joiner(record.value, tableValue, record.key), (value) => ctx.forward(record.withValue(value)));
        return withResult(keySelector(record.key, record.value), (lookupKey) => {
          const tableValue = lookupKey === null || lookupKey === undefined ? undefined : store.get(lookupKey);
          if (tableValue === undefined) return left ? join(null) : undefined;
          return join(tableValue);
        });
      },
    };
  };
}
