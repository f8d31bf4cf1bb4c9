import type { Serde } from '../../sdk/serde/serde.ts';
import type { FlushListenable, KeyValueStore } from '../state/key-value-store.ts';
import type { ValueAndTimestamp } from '../state/value-and-timestamp.ts';
import { laneOf } from '../runtime/job.ts';
import type { ProcessorContext } from '../topology/processor.ts';
import { StreamRecord } from '../topology/stream-record.ts';
import type { Change } from './change.ts';

/** A table's store: each key's value with the timestamp of the update that made it. */
export type TableStore<K, V> = KeyValueStore<K, ValueAndTimestamp<V>>;

/**
 * The store of a table that owns one (a table source or an aggregation) and how its changes go
 * downstream: on every update without caching, once per changed key when the store flushes with
 * caching (Kafka Streams' TimestampedTupleForwarder). A flushed change carries the timestamp of
 * the update that made it; a flushed delete has no value to carry it, so `deleteTimestamp` says.
 */
export class TableForwarder<K, V> {
  readonly store: TableStore<K, V>;

  constructor(
    private readonly ctx: ProcessorContext<K, Change<V>>,
    storeName: string,
    private readonly cached: boolean,
    deleteTimestamp: (key: K) => number,
  ) {
    this.store = ctx.getStateStore<TableStore<K, V>>(storeName);
    if (!cached) return;
    const listenable = this.store as TableStore<K, V> & Partial<FlushListenable<K, ValueAndTimestamp<V>>>;
    if (typeof listenable.setFlushListener !== 'function') throw new Error(`invariant: the cached store "${storeName}" has no flush listener`);
    listenable.setFlushListener(({ key, newValue, oldValue }) => {
      if (newValue === undefined && oldValue === undefined) return;
      const timestamp = newValue === undefined ? deleteTimestamp(key) : newValue.timestamp;
      ctx.forward(new StreamRecord<K, Change<V>>(key, { newValue: newValue?.value, oldValue: oldValue?.value }, timestamp));
    });
  }

  /** Forwards an update now, derived from the record that caused it, unless the store's flush will. */
  maybeForward(record: StreamRecord<K, unknown>, newValue: V | undefined, oldValue: V | undefined, timestamp: number): void {
    if (this.cached) return;
    this.ctx.forward(new StreamRecord<K, Change<V>>(record.key, { newValue, oldValue }, timestamp, record.headers, record.metadata));
  }
}

/**
 * The timestamps of the deletes a cached table made since its store last flushed, by serialized
 * key, for the flush to forward them with. Entries live one commit interval at most: the first
 * delete after a flush drops what the flush did not take (deletes of a commit that aborted).
 */
export class DeleteTimestamps<K> {
  private readonly byKey = new Map<string, number>();
  private flushedSinceLastDelete = false;

  constructor(private readonly keySerde: Serde<K>) {}

  noteDelete(key: K, timestamp: number): void {
    if (this.flushedSinceLastDelete) {
      this.byKey.clear();
      this.flushedSinceLastDelete = false;
    }
    this.byKey.set(laneOf(this.keySerde.serialize(key)), timestamp);
  }

  take(key: K): number | undefined {
    this.flushedSinceLastDelete = true;
    const id = laneOf(this.keySerde.serialize(key));
    const timestamp = this.byKey.get(id);
    this.byKey.delete(id);
    return timestamp;
  }
}
