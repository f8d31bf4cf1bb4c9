import type { FlushListenable } from '../state/key-value-store.ts';
import type { ValueAndTimestamp } from '../state/value-and-timestamp.ts';
import type { WindowStore } from '../state/window-store.ts';
import { timeWindow, type Windowed } from '../state/windowed.ts';
import type { ProcessorContext, ProcessorSupplier, ProcessResult } from '../topology/processor.ts';
import { StreamRecord } from '../topology/stream-record.ts';
import type { AggregateStep } from './aggregate-processor.ts';
import type { Change } from './change.ts';
import type { TimeWindows } from './time-windows.ts';
import { withResult } from './user-result.ts';

/** A window aggregation's store: timestamped values, flushes to a listener, and (sliding windows) the store's observed stream time. */
export type TimestampedWindowStore<K, V> = WindowStore<K, ValueAndTimestamp<V>> & FlushListenable<Windowed<K>, ValueAndTimestamp<V>> & { readonly observedStreamTimeMs?: number };

/**
 * count / reduce / aggregate of a time-windowed stream (Kafka Streams' KStreamWindowAggregate):
 * each record updates every window holding its timestamp that is still open at the task's stream
 * time; a record whose windows are all closed is handed to `dropLateRecord` (counted, dead-lettered
 * by policy) and changes nothing. Records with a null key or value, or a negative timestamp, are
 * skipped, as the non-windowed aggregations skip null keys and values.
 *
 * Stream time is the task's as the record arrived (`RecordMetadata.streamTimeMs`), so a record
 * that waited behind an asynchronous record of its key is judged as in input order, not by the
 * records of other keys that went past it. A task starts with no stream time; a task whose store was restored (after a crash, a rebalance,
 * a restart) would take its first records as on time even for windows that closed before. So the
 * stream time is at least the latest record timestamp in the store, found once at the task's
 * first record (a scan of the live windows): windows that closed before the restore stay closed.
 *
 * Each window's aggregate is timestamped with the largest timestamp of its records. Updates go
 * downstream as `Change`s keyed by `Windowed<K>`: per commit and window from the store's flush
 * with caching, per update without. Windows of one record are updated in start order, each step
 * awaited before the next when the step is asynchronous.
 */
export function windowAggregateProcessor<K, V, VA>(storeName: string, windows: TimeWindows, cached: boolean, step: AggregateStep<K, V, VA>): ProcessorSupplier<K, V, Windowed<K>, Change<VA>> {
  return () => {
    let ctx: ProcessorContext<Windowed<K>, Change<VA>>;
    let store: TimestampedWindowStore<K, VA>;
    let restoredStreamTimeMs: number | undefined;
    return {
      init: (context) => {
        ctx = context;
        store = openWindowAggregateStore(ctx, storeName, cached);
      },
      process: (record) => {
        const { key, value, timestamp } = record;
        if (key === null || key === undefined || value === null || value === undefined || timestamp < 0) return undefined;
        restoredStreamTimeMs ??= latestTimestamp(store);
        const streamTimeMs = Math.max(record.metadata?.streamTimeMs ?? ctx.currentStreamTimeMs(), restoredStreamTimeMs);
        const open = windows.windowStartsFor(timestamp).filter((startMs) => !windows.isClosed(startMs, streamTimeMs));
        if (open.length === 0) {
          ctx.dropLateRecord(record, `a record at ${timestamp} ms is later than the grace period of its windows allows (stream time ${streamTimeMs} ms, window size ${windows.sizeMs} ms, grace ${windows.graceMs} ms): every window holding it has closed`);
          return undefined;
        }
        const update = (i: number): ProcessResult => {
          const startMs = open[i];
          if (startMs === undefined) return undefined;
          const old = store.get(key, startMs);
          return withResult(step(key, value, old?.value), (aggregate) => {
            if (aggregate === null || aggregate === undefined) throw new Error(`the windowed aggregation into "${storeName}" produced ${String(aggregate)}: an aggregate must be a value`);
            const newTimestamp = old === undefined ? timestamp : Math.max(timestamp, old.timestamp);
            store.put(key, { value: aggregate, timestamp: newTimestamp }, startMs);
            if (!cached) {
              const windowed: Windowed<K> = { key, window: timeWindow(startMs, windows.sizeMs) };
              ctx.forward(new StreamRecord<Windowed<K>, Change<VA>>(windowed, { newValue: aggregate, oldValue: old?.value }, newTimestamp, record.headers, record.metadata));
            }
            return update(i + 1);
          });
        };
        return update(0);
      },
    };
  };
}

/**
 * The store of a time or sliding window aggregation; with caching, its flushes go downstream as
 * one change per window and commit, timestamped with the window's latest record.
 */
export function openWindowAggregateStore<K, VA>(ctx: ProcessorContext<Windowed<K>, Change<VA>>, storeName: string, cached: boolean): TimestampedWindowStore<K, VA> {
  const store = ctx.getStateStore<TimestampedWindowStore<K, VA>>(storeName);
  if (!cached) return store;
  if (!store.setFlushListener(({ key, newValue, oldValue }) => {
    if (newValue === undefined) throw new Error(`invariant: the window aggregation store "${storeName}" never deletes`);
    ctx.forward(new StreamRecord<Windowed<K>, Change<VA>>(key, { newValue: newValue.value, oldValue: oldValue?.value }, newValue.timestamp));
  })) {
    throw new Error(`invariant: the cached store "${storeName}" has no flush listener`);
  }
  return store;
}

/** The largest timestamp among the store's live windows, -1 when it has none. */
export function latestTimestamp<K, V>(store: TimestampedWindowStore<K, V>): number {
  let latest = -1;
  for (const [, { timestamp }] of store.all()) if (timestamp > latest) latest = timestamp;
  return latest;
}
