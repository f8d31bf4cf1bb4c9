import type { FlushListenable } from '../state/key-value-store.ts';
import type { SessionStore } from '../state/session-store.ts';
import type { TimeWindow, Windowed } from '../state/windowed.ts';
import type { ProcessorContext, ProcessorSupplier, ProcessResult } from '../topology/processor.ts';
import { StreamRecord } from '../topology/stream-record.ts';
import type { AggregateStep } from './aggregate-processor.ts';
import type { Change } from './change.ts';
import type { SessionWindows } from './session-windows.ts';
import { type UserResult, withResult } from './user-result.ts';

type ListenableSessionStore<K, V> = SessionStore<K, V> & FlushListenable<Windowed<K>, V>;

/**
 * A session aggregation's two steps: `aggregate` folds a record into its session's aggregate
 * (undefined before the session's first record), `merge` folds the aggregate of a session being
 * merged into the one under construction (undefined before the first).
 */
export interface SessionAggregation<K, V, VA> {
  readonly aggregate: AggregateStep<K, V, VA>;
  readonly merge: (key: K, aggregate: VA | undefined, session: VA) => UserResult<VA>;
}

/**
 * count / reduce / aggregate of a session-windowed stream (Kafka Streams'
 * KStreamSessionWindowAggregate): a record at t finds its key's sessions within the gap
 * (`findSessions(key, t - gap, t + gap)`, by end then start); the session it makes spans them and
 * t. When that session ends before stream time - grace, the record is dropped as late
 * (`dropLateRecord`: counted, dead-lettered by policy). Otherwise, when the record joined any
 * session (the new session is not [t, t]), every session found is removed, and the new session is
 * written with the merged aggregates (`merge`, in the order found) folded with the record
 * (`aggregate`). Records with a null key or value, or a negative timestamp, are skipped.
 *
 * Updates go downstream as `Change`s keyed by `Windowed<K>` (the session's start and end), each
 * timestamped with its session's end (as Kafka Streams does): a removed session as a change with
 * no new value (a tombstone after `toStream()`), then the new session. Without caching every
 * removal and write is forwarded as made (a record inside an existing session forwards the
 * session's removal, then its new value, as Kafka Streams does); with caching, per commit, each
 * changed session once: a session made and merged away within one commit is never forwarded.
 *
 * Stream time and restores as for time windows (window-aggregate-processor.ts), the store's
 * latest session end standing for the latest record timestamp.
 */
export function sessionWindowAggregateProcessor<K, V, VA>(storeName: string, windows: SessionWindows, cached: boolean, steps: SessionAggregation<K, V, VA>): ProcessorSupplier<K, V, Windowed<K>, Change<VA>> {
  return () => {
    let ctx: ProcessorContext<Windowed<K>, Change<VA>>;
    let store: ListenableSessionStore<K, VA>;
    let restoredStreamTimeMs: number | undefined;
    return {
      init: (context) => {
        ctx = context;
        store = ctx.getStateStore<ListenableSessionStore<K, VA>>(storeName);
        if (!cached) return;
        if (!store.setFlushListener(({ key, newValue, oldValue }) => ctx.forward(new StreamRecord<Windowed<K>, Change<VA>>(key, { newValue, oldValue }, key.window.endMs)))) {
          throw new Error(`invariant: the cached store "${storeName}" has no flush listener`);
        }
      },
      process: (record) => {
        const { key, value, timestamp } = record;
        if (key === null || key === undefined || value === null || value === undefined || timestamp < 0) return undefined;
        restoredStreamTimeMs ??= latestSessionEnd(store);
        const streamTimeMs = Math.max(record.metadata?.streamTimeMs ?? ctx.currentStreamTimeMs(), restoredStreamTimeMs);
        const found = [...store.findSessions(key, timestamp - windows.inactivityGapMs, timestamp + windows.inactivityGapMs)];
        let window: TimeWindow = { startMs: timestamp, endMs: timestamp };
        for (const [session] of found) window = { startMs: Math.min(window.startMs, session.window.startMs), endMs: Math.max(window.endMs, session.window.endMs) };
        if (window.endMs < streamTimeMs - windows.graceMs) {
          ctx.dropLateRecord(record, `a record at ${timestamp} ms is later than the grace period of its session allows (stream time ${streamTimeMs} ms, session [${window.startMs}, ${window.endMs}], inactivity gap ${windows.inactivityGapMs} ms, grace ${windows.graceMs} ms): its session has closed`);
          return undefined;
        }
        const forward = (session: Windowed<K>, newValue: VA | undefined, oldValue: VA | undefined): void => {
          if (!cached) ctx.forward(new StreamRecord<Windowed<K>, Change<VA>>(session, { newValue, oldValue }, session.window.endMs, record.headers, record.metadata));
        };
        const merge = (i: number, aggregate: VA | undefined): ProcessResult => {
          const next = found[i];
          if (next !== undefined) return withResult(steps.merge(key, aggregate, next[1]), (merged) => merge(i + 1, checked(merged)));
          if (window.startMs !== timestamp || window.endMs !== timestamp) {
            for (const [session, old] of found) {
              store.remove(session);
              forward(session, undefined, old);
            }
          }
          return withResult(steps.aggregate(key, value, aggregate), (result) => {
            const session: Windowed<K> = { key, window };
            store.put(session, checked(result));
            forward(session, result, undefined);
          });
        };
        const checked = (aggregate: VA): VA => {
          if (aggregate === null || aggregate === undefined) throw new Error(`the session aggregation into "${storeName}" produced ${String(aggregate)}: an aggregate must be a value`);
          return aggregate;
        };
        return merge(0, undefined);
      },
    };
  };
}

/** The largest session end in the store, -1 when it has none. */
function latestSessionEnd<K, V>(store: SessionStore<K, V>): number {
  let latest = -1;
  for (const [session] of store.all()) if (session.window.endMs > latest) latest = session.window.endMs;
  return latest;
}
