import type { ValueAndTimestamp } from '../state/value-and-timestamp.ts';
import { timeWindow, type Windowed } from '../state/windowed.ts';
import type { ProcessorContext, ProcessorSupplier, ProcessResult } from '../topology/processor.ts';
import { StreamRecord } from '../topology/stream-record.ts';
import type { AggregateStep } from './aggregate-processor.ts';
import type { Change } from './change.ts';
import type { SlidingWindows } from './sliding-windows.ts';
import { withResult } from './user-result.ts';
import { latestTimestamp, openWindowAggregateStore, type TimestampedWindowStore } from './window-aggregate-processor.ts';

/** The record's key's windows starting in [fromMs, toMs], by start, read before any write. */
type WindowFetch<VA> = (fromMs: number, toMs: number) => [number, ValueAndTimestamp<VA>][];

/**
 * One write a record makes to a window: `aggregate` folds the record into `from` (undefined: a new
 * aggregate) and is skipped when the window is closed; `copy` creates the record's right window
 * with the aggregate of the later records it holds, without the record (that window starts after it).
 */
type WindowWrite<VA> =
  | { readonly kind: 'aggregate'; readonly startMs: number; readonly from: ValueAndTimestamp<VA> | undefined; readonly old: VA | undefined }
  | { readonly kind: 'copy'; readonly startMs: number; readonly from: ValueAndTimestamp<VA> };

/**
 * count / reduce / aggregate of a sliding-windowed stream (Kafka Streams'
 * KStreamSlidingWindowAggregate, whose window bookkeeping this follows step for step): a record at
 * t with time difference d reads its key's windows starting in [t - 2d, t + 1], updates the open
 * ones holding t, and creates what is missing: its left window [t - d, t] (from the aggregate of
 * the window just before it, when that one's records reach into [t - d, t]), the right window of
 * the record before it (when t falls in it), and its own right window [t + 1, t + 1 + d] (a copy of
 * the aggregate of the later records, when there are any). A record at t < d goes into the window
 * [0, d] instead of a left window. Windows are inclusive at both ends and only exist with records.
 *
 * A record is dropped as late (`dropLateRecord`: counted, dead-lettered by policy) when t + d +
 * grace < stream time: every window that could hold it is closed. Otherwise its writes to closed
 * windows (end + grace < stream time) are skipped and the others made. Kafka Streams also counts
 * each such skipped window in its dropped-records metric; here only whole records are counted.
 * When the record before t is at t - d - 1, its right window is t's left window [t - d, t]: Kafka
 * Streams writes (and without caching forwards) that window twice with the same value, here once.
 *
 * The windows a record finds are those Kafka Streams' store would hold: starting after its
 * observed stream time (the largest start written, this commit's writes included) minus the
 * retention, whenever the task last committed. Stream time and restores as for time windows
 * (window-aggregate-processor.ts). A window's
 * aggregate is timestamped with the largest timestamp of its records. Updates go downstream as
 * `Change`s keyed by `Windowed<K>` (end = start + d): per commit and window from the store's flush
 * with caching, per write without, in Kafka Streams' order (windows holding t by descending start,
 * then the windows created). A new window's change has no old value. A window made from another
 * window's aggregate gets a copy of it (`clone`, through the value serde), so an aggregator that
 * changes its aggregate in place changes one window only.
 */
export function slidingWindowAggregateProcessor<K, V, VA>(
  storeName: string,
  windows: SlidingWindows,
  cached: boolean,
  step: AggregateStep<K, V, VA>,
  clone: (aggregate: VA) => VA,
): ProcessorSupplier<K, V, Windowed<K>, Change<VA>> {
  const d = windows.timeDifferenceMs;
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
        const closeTimeMs = streamTimeMs - windows.graceMs;
        if (timestamp + d < closeTimeMs) {
          ctx.dropLateRecord(record, `a record at ${timestamp} ms is later than the grace period of its windows allows (stream time ${streamTimeMs} ms, time difference ${d} ms, grace ${windows.graceMs} ms): every window holding it has closed`);
          return undefined;
        }
        // Windows Kafka Streams' store would have expired (start before its observed stream time - retention + 1) stay out, whenever the task last committed.
        const minLiveStartMs = store.observedStreamTimeMs === undefined ? 0 : store.observedStreamTimeMs - windows.retentionMs + 1;
        const fetch = (fromMs: number, toMs: number): [number, ValueAndTimestamp<VA>][] => [...store.fetch(key, Math.max(fromMs, minLiveStartMs), toMs)];
        const writes = timestamp < d ? earlyWrites(fetch, clone, timestamp, d) : writesFor(fetch, clone, timestamp, d);
        const forward = (startMs: number, newValue: VA, oldValue: VA | undefined, newTimestamp: number): void => {
          if (cached) return;
          const windowed: Windowed<K> = { key, window: timeWindow(startMs, d) };
          ctx.forward(new StreamRecord<Windowed<K>, Change<VA>>(windowed, { newValue, oldValue }, newTimestamp, record.headers, record.metadata));
        };
        const apply = (i: number): ProcessResult => {
          const write = writes[i];
          if (write === undefined) return undefined;
          if (write.kind === 'copy') {
            store.put(key, write.from, write.startMs);
            forward(write.startMs, write.from.value, undefined, write.from.timestamp);
            return apply(i + 1);
          }
          if (write.startMs + d < closeTimeMs) return apply(i + 1);
          return withResult(step(key, value, write.from?.value), (aggregate) => {
            if (aggregate === null || aggregate === undefined) throw new Error(`the sliding-window aggregation into "${storeName}" produced ${String(aggregate)}: an aggregate must be a value`);
            const newTimestamp = write.from === undefined ? timestamp : Math.max(timestamp, write.from.timestamp);
            store.put(key, { value: aggregate, timestamp: newTimestamp }, write.startMs);
            forward(write.startMs, aggregate, write.old, newTimestamp);
            return apply(i + 1);
          });
        };
        return apply(0);
      },
    };
  };
}

/** The writes of a record at `t` >= d (Kafka Streams' `processReverse` and `createWindows`). */
function writesFor<VA>(fetch: WindowFetch<VA>, clone: (aggregate: VA) => VA, t: number, d: number): WindowWrite<VA>[] {
  const writes: WindowWrite<VA>[] = [];
  const starts = new Set<number>();
  let leftAggregate: ValueAndTimestamp<VA> | undefined;
  let rightAggregate: ValueAndTimestamp<VA> | undefined;
  let leftCreated = false;
  let rightCreated = false;
  let previousTimestamp: number | undefined;
  const existing = fetch(Math.max(0, t - 2 * d), t + 1).reverse();
  for (const [startMs, window] of existing) {
    starts.add(startMs);
    const endMs = startMs + d;
    if (startMs === t + 1) {
      rightCreated = true;
    } else if (endMs > t) {
      rightAggregate ??= window;
      writes.push({ kind: 'aggregate', startMs, from: window, old: window.value });
    } else if (endMs === t) {
      leftCreated = true;
      writes.push({ kind: 'aggregate', startMs, from: window, old: window.value });
      // A record at t already in its own left window: every window it needs exists.
      if (window.timestamp >= t) return writes;
      previousTimestamp = window.timestamp;
    } else {
      leftAggregate = window;
      previousTimestamp = window.timestamp;
      break;
    }
  }
  if (previousTimestamp !== undefined) {
    const previousRightStartMs = previousTimestamp + 1;
    if (!starts.has(previousRightStartMs) && previousRightStartMs + d >= t) {
      writes.push({ kind: 'aggregate', startMs: previousRightStartMs, from: undefined, old: undefined });
      // The previous record at t - d - 1: its right window is t's left window, which holds t alone.
      if (previousRightStartMs === t - d) leftCreated = true;
    }
  }
  if (!leftCreated) {
    const from = previousTimestamp !== undefined && leftAggregate !== undefined && t - d <= previousTimestamp ? { value: clone(leftAggregate.value), timestamp: t } : undefined;
    writes.push({ kind: 'aggregate', startMs: t - d, from, old: undefined });
  }
  if (!rightCreated && rightAggregate !== undefined && rightAggregate.timestamp > t) writes.push({ kind: 'copy', startMs: t + 1, from: { value: clone(rightAggregate.value), timestamp: rightAggregate.timestamp } });
  return writes;
}

/**
 * The writes of a record at `t` < d (Kafka Streams' `processEarly`): its left window would start
 * before 0, so the window [0, d] holds it instead, with every other record before d.
 */
function earlyWrites<VA>(fetch: WindowFetch<VA>, clone: (aggregate: VA) => VA, t: number, d: number): WindowWrite<VA>[] {
  const writes: WindowWrite<VA>[] = [];
  const starts = new Set<number>();
  let combined: ValueAndTimestamp<VA> | undefined;
  let rightAggregate: ValueAndTimestamp<VA> | undefined;
  let rightCreated = false;
  let previousTimestamp: number | undefined;
  for (const [startMs, window] of fetch(0, t + 1)) {
    starts.add(startMs);
    if (startMs === 0) {
      combined = window;
      if (window.timestamp < t) previousTimestamp = window.timestamp;
    } else if (startMs <= t) {
      rightAggregate = window;
      writes.push({ kind: 'aggregate', startMs, from: window, old: window.value });
    } else {
      rightCreated = true;
    }
  }
  // Without a later window, [0, d]'s records after t are exactly those of t's right window.
  if (rightAggregate === undefined && combined !== undefined && combined.timestamp > t) rightAggregate = combined;
  if (!rightCreated && rightAggregate !== undefined && rightAggregate.timestamp > t) writes.push({ kind: 'copy', startMs: t + 1, from: { value: clone(rightAggregate.value), timestamp: rightAggregate.timestamp } });
  if (previousTimestamp !== undefined && !starts.has(previousTimestamp + 1)) writes.push({ kind: 'aggregate', startMs: previousTimestamp + 1, from: undefined, old: undefined });
  writes.push({ kind: 'aggregate', startMs: 0, from: combined, old: combined?.value });
  return writes;
}
