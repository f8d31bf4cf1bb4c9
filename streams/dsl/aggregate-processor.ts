import type { ProcessorSupplier } from '../topology/processor.ts';
import type { Change } from './change.ts';
import { TableForwarder } from './table-forwarder.ts';
import { type UserResult, withResult } from './user-result.ts';

/**
 * One step of a stream aggregation: the key's next aggregate from its current one (undefined
 * before the key's first record). count, reduce and aggregate are each one of these.
 */
export type AggregateStep<K, V, VA> = (key: K, value: V, aggregate: VA | undefined) => UserResult<VA>;

/**
 * count / reduce / aggregate of a grouped stream (Kafka Streams' KStreamAggregate): records with a
 * null key or value are skipped; the new aggregate's timestamp is the largest of its records'.
 * The step may be asynchronous: records of one key wait for each other, so each step reads what
 * the one before it wrote.
 */
export function streamAggregateProcessor<K, V, VA>(storeName: string, cached: boolean, step: AggregateStep<K, V, VA>): ProcessorSupplier<K, V, K, Change<VA>> {
  return () => {
    let forwarder: TableForwarder<K, VA>;
    return {
      init: (ctx) => {
        forwarder = new TableForwarder(ctx, storeName, cached, () => {
          throw new Error(`invariant: the aggregation store "${storeName}" never deletes`);
        });
      },
      process: (record) => {
        if (record.key === null || record.key === undefined || record.value === null || record.value === undefined) return undefined;
        const old = forwarder.store.get(record.key);
        return withResult(step(record.key, record.value, old?.value), (aggregate) => {
          if (aggregate === null || aggregate === undefined) throw new Error(`the aggregation into "${storeName}" produced ${String(aggregate)}: an aggregate must be a value`);
          const timestamp = old === undefined ? record.timestamp : Math.max(record.timestamp, old.timestamp);
          forwarder.store.put(record.key, { value: aggregate, timestamp });
          forwarder.maybeForward(record, aggregate, old?.value, timestamp);
        });
      },
    };
  };
}
