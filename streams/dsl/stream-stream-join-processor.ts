import type { KeyValueStore } from '../state/key-value-store.ts';
import type { JoinSide, JoinSideKey, JoinSideValues } from '../state/outer-join-store-serdes.ts';
import type { WindowStore } from '../state/window-store.ts';
import type { ProcessorContext, ProcessorSupplier, ProcessResult } from '../topology/processor.ts';
import type { StreamRecord } from '../topology/stream-record.ts';
import type { JoinWindows } from './join-windows.ts';
import { type UserResult, withResult } from './user-result.ts';

/**
 * Combines a left and a right value of one key into the join's output value. In a left or outer
 * join the missing side of a record nothing joined is null.
 */
export type ValueJoiner<K, VL, VR, VOut> = (left: VL, right: VR, key: K) => UserResult<VOut>;

/** A record on its way into the join processor, tagged with the side it came from. */
export type JoinInput<VL, VR> = { readonly side: 'left'; readonly value: VL } | { readonly side: 'right'; readonly value: VR };

export const JoinKind = { inner: 'inner', left: 'left', outer: 'outer' } as const;
export type JoinKindValue = (typeof JoinKind)[keyof typeof JoinKind];

export interface StreamStreamJoinSpec {
  readonly kind: JoinKindValue;
  readonly windows: JoinWindows;
  readonly leftStore: string;
  readonly rightStore: string;
  /** The shared store of unmatched records: left and outer joins only. */
  readonly outerStore: string | undefined;
}

/** A join window store: a list of the values of each key at each timestamp, with the store's own stream time. */
type JoinWindowStore<K, V> = WindowStore<K, readonly V[]> & { readonly observedStreamTimeMs: number };

type OuterStore<K, VL, VR> = KeyValueStore<JoinSideKey<K>, JoinSideValues<VL, VR>>;

interface Output<K, VL, VR> {
  readonly key: K;
  readonly left: VL | null;
  readonly right: VR | null;
  readonly timestampMs: number;
}

const OTHER: Readonly<Record<JoinSide, JoinSide>> = { left: 'right', right: 'left' };

/** Tags each record with its side, for the join processor below both sides. */
export function joinSideProcessor<K, V>(side: JoinSide): ProcessorSupplier<K, V, K, JoinInput<V, V>> {
  return () => {
    let ctx: ProcessorContext<K, JoinInput<V, V>>;
    return {
      init: (context) => {
        ctx = context;
      },
      process: (record) => {
        ctx.forward(record.withValue({ side, value: record.value }));
      },
    };
  };
}

/**
 * A windowed stream-stream join (Kafka Streams' KStreamKStreamJoin since 3.1), one processor for
 * both sides:
 *
 * - Each record with a key and a value is kept in its side's window store (a list of values per
 *   key and timestamp, so records of one key at one timestamp are all kept) and joins, in
 *   timestamp order, every record of the other side with its key within the window
 *   (`JoinWindows`); each result has the larger of the two timestamps.
 * - Stream time is the largest timestamp of the records the join took, read from its two window
 *   stores (so an aborted commit and a restore take it back to what the stores hold). A record
 *   more than the grace behind it is late: `dropLateRecord`, nothing stored, nothing joined.
 * - Left and outer joins: a record of an outer side that joined nothing waits in the shared outer
 *   store; a later match deletes it there. Once stream time passes its window's close, the first
 *   record that moves stream time on emits it with a null other side, at its own timestamp
 *   (those of both sides in timestamp order, left first at one timestamp), before its own results,
 *   with that record's headers (as Kafka Streams).
 *   A record whose window is already closed when it arrives (a negative `afterMs`/`beforeMs`) is
 *   emitted at once.
 * - A record with a null value, or a negative timestamp, is skipped. A record with a null key is
 *   skipped, except on an outer side, where it is emitted at once with a null other side (Kafka
 *   Streams 3.7's KIP-962); it neither waits nor moves stream time.
 *
 * The joiner may be asynchronous: the store work happens when the record arrives, its results
 * are joined and forwarded one after another.
 */
export function streamStreamJoinProcessor<K, VL, VR, VOut>(spec: StreamStreamJoinSpec, joiner: ValueJoiner<K, VL | null, VR | null, VOut>): ProcessorSupplier<K, JoinInput<VL, VR>, K, VOut> {
  const { beforeMs, afterMs, graceMs } = spec.windows;
  const emitsUnmatched = (side: JoinSide): boolean => spec.kind === 'outer' || (spec.kind === 'left' && side === 'left');
  /** How far a side's record looks forward into the other side's time: its window closes at timestamp + reach + grace. */
  const reachMs: Readonly<Record<JoinSide, number>> = { left: afterMs, right: beforeMs };
  const isClosed = (side: JoinSide, timestampMs: number, streamTimeMs: number): boolean => timestampMs + reachMs[side] + graceMs < streamTimeMs;
  return () => {
    let ctx: ProcessorContext<K, VOut>;
    let windowStores: { left: JoinWindowStore<K, VL>; right: JoinWindowStore<K, VR> };
    let outerStore: OuterStore<K, VL, VR> | undefined;

    const unmatched = (side: JoinSide, key: K, value: unknown, timestampMs: number): Output<K, VL, VR> =>
      side === 'left' ? { key, left: value as VL, right: null, timestampMs } : { key, left: null, right: value as VR, timestampMs };

    /**
     * Takes the waiting records whose windows closed as stream time moved from `previousMs` to
     * `streamTimeMs` out of the outer store. Those that closed by `previousMs` were taken when
     * stream time got there (in the same commit as the record that moved it, so also after an
     * abort or a restore), and a record that waits is never closed when it starts to: the scan
     * covers only the timestamps that closed now, each side's range once over the join's life.
     */
    const takeClosed = (store: OuterStore<K, VL, VR>, previousMs: number, streamTimeMs: number): Output<K, VL, VR>[] => {
      const closed: [JoinSideKey<K>, JoinSideValues<VL, VR>][] = [];
      for (const side of ['left', 'right'] as const) {
        const closedBelowMs = streamTimeMs - reachMs[side] - graceMs;
        if (!emitsUnmatched(side) || closedBelowMs <= 0) continue;
        const fromMs = Math.max(0, previousMs - reachMs[side] - graceMs);
        for (const entry of store.range({ side, timestampMs: fromMs }, { side, timestampMs: closedBelowMs })) {
          if (!isClosed(side, entry[0].timestampMs, streamTimeMs)) break;
          closed.push(entry);
        }
      }
      closed.sort(([a], [b]) => a.timestampMs - b.timestampMs || (a.side === b.side ? 0 : a.side === 'left' ? -1 : 1));
      const outputs: Output<K, VL, VR>[] = [];
      for (const [sideKey, { side, values }] of closed) {
        store.delete(sideKey);
        for (const value of values) outputs.push(unmatched(side, sideKey.key as K, value, sideKey.timestampMs));
      }
      return outputs;
    };

    const forwardAll = (record: StreamRecord<K, JoinInput<VL, VR>>, outputs: readonly Output<K, VL, VR>[], from: number): ProcessResult => {
      for (let i = from; i < outputs.length; i++) {
        const { key, left, right, timestampMs } = outputs[i]!;
        const pending = withResult(joiner(left, right, key), (joined) => ctx.forward(record.with(key, joined).withTimestamp(timestampMs)));
        if (pending !== undefined) return pending.then(() => forwardAll(record, outputs, i + 1));
      }
      return undefined;
    };

    return {
      init: (context) => {
        ctx = context;
        const left = ctx.getStateStore<JoinWindowStore<K, VL>>(spec.leftStore);
        const right = ctx.getStateStore<JoinWindowStore<K, VR>>(spec.rightStore);
        for (const store of [left, right]) {
          if (typeof store.observedStreamTimeMs !== 'number') throw new Error(`invariant: the join store "${store.name}" does not tell its stream time`);
        }
        windowStores = { left, right };
        outerStore = spec.outerStore === undefined ? undefined : ctx.getStateStore<OuterStore<K, VL, VR>>(spec.outerStore);
      },
      process: (record) => {
        const { key, timestamp } = record;
        const { side, value } = record.value;
        if (value === null || value === undefined || timestamp < 0) return undefined;
        if (key === null || key === undefined) {
          return emitsUnmatched(side) ? forwardAll(record, [unmatched(side, key, value, timestamp)], 0) : undefined;
        }
        const previousStreamTimeMs = Math.max(windowStores.left.observedStreamTimeMs, windowStores.right.observedStreamTimeMs);
        if (timestamp + graceMs < previousStreamTimeMs) {
          ctx.dropLateRecord(record, `a record at ${timestamp} ms of the join's ${side} side is more than the grace period (${graceMs} ms) behind the join's stream time (${previousStreamTimeMs} ms)`);
          return undefined;
        }
        const streamTimeMs = Math.max(previousStreamTimeMs, timestamp);
        const thisStore = windowStores[side] as JoinWindowStore<K, unknown>;
        thisStore.put(key, [...(thisStore.get(key, timestamp) ?? []), value], timestamp);

        const outputs = outerStore !== undefined && streamTimeMs > previousStreamTimeMs ? takeClosed(outerStore, previousStreamTimeMs, streamTimeMs) : [];
        const other = OTHER[side];
        const [fromMs, toMs] = side === 'left' ? [timestamp - beforeMs, timestamp + afterMs] : [timestamp - afterMs, timestamp + beforeMs];
        let matched = false;
        for (const [otherTimestampMs, otherValues] of (windowStores[other] as JoinWindowStore<K, unknown>).fetch(key, fromMs, toMs)) {
          matched = true;
          if (outerStore !== undefined && emitsUnmatched(other)) outerStore.delete({ side: other, timestampMs: otherTimestampMs, key });
          const resultTimestampMs = Math.max(timestamp, otherTimestampMs);
          for (const otherValue of otherValues) {
            outputs.push(side === 'left' ? { key, left: value, right: otherValue as VR, timestampMs: resultTimestampMs } : { key, left: otherValue as VL, right: value, timestampMs: resultTimestampMs });
          }
        }
        if (!matched && emitsUnmatched(side)) {
          if (outerStore === undefined) throw new Error(`invariant: a ${spec.kind} join has no outer store`);
          if (isClosed(side, timestamp, streamTimeMs)) {
            outputs.push(unmatched(side, key, value, timestamp));
          } else {
            const sideKey: JoinSideKey<K> = { side, timestampMs: timestamp, key };
            const waiting = outerStore.get(sideKey);
            const values = [...(waiting?.values ?? []), value];
            outerStore.put(sideKey, { side, values } as JoinSideValues<VL, VR>);
          }
        }
        return forwardAll(record, outputs, 0);
      },
    };
  };
}
