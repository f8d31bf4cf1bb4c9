import type { Serde } from '../../sdk/serde/serde.ts';
import type { KeyValueStore } from '../state/key-value-store.ts';
import { type BufferedEntry, type BufferSize, SuppressionBuffer } from '../state/suppression-buffer.ts';
import { StreamsError, StreamsErrorCode } from '../runtime/streams-error.ts';
import type { ProcessorContext, ProcessorSupplier } from '../topology/processor.ts';
import { StreamRecord } from '../topology/stream-record.ts';
import type { Change } from './change.ts';
import { BufferFullPolicy, type BufferFullPolicyValue } from './suppressed.ts';

/** What a suppression operator needs to know, fixed when the topology is built. */
export interface SuppressPlan<K> {
  readonly nodeName: string;
  readonly storeName: string;
  readonly keySerde: Serde<K>;
  /** When a key's first held update is due (before the time limit): the window end, or the record timestamp. */
  readonly bufferTimeOf: (key: K, timestampMs: number) => number;
  /** How long after its buffer time stream time must be for a key to go: the grace, or the time to wait. */
  readonly suppressDurationMs: number;
  /** untilWindowCloses: a deleted key is never emitted (a final result is a value). */
  readonly dropsDeletes: boolean;
  readonly maxRecords: number;
  readonly maxBytes: number;
  readonly whenFull: BufferFullPolicyValue;
}

/**
 * A suppression buffer outgrew its bounds and its policy is `shutDownWhenFull()`: the application
 * stops (whatever the failure policy says), since going on would emit early or drop updates.
 */
export class SuppressionBufferFullError extends StreamsError {
  constructor(plan: SuppressPlan<unknown>, size: BufferSize) {
    super(
      StreamsErrorCode.suppressionBufferFull,
      `the suppression "${plan.nodeName}" (store "${plan.storeName}") is full and set to shut down when full: ` +
        `${size.records}/${bound(plan.maxRecords)} records, ${size.bytes}/${bound(plan.maxBytes)} bytes`,
    );
  }
}

function bound(max: number): string {
  return Number.isFinite(max) ? String(max) : 'unbounded';
}

/** A store that tells a listener when a commit starts flushing it (`KeyValueTaskStore`). */
interface PrepareCommitListenable {
  setPrepareCommitListener(listener: () => void): void;
}

/**
 * `KTable.suppress(...)` (Kafka Streams' KTableSuppressProcessor). Each change is held in the
 * buffer under its key (a later change of a held key replaces its value, timestamp and headers
 * and keeps its buffer time and prior value). When the task commits, once every operator before
 * this one flushed its changes (a cached table forwards its changes then) and with no record in
 * flight, every held key whose buffer time is at least `suppressDurationMs` behind the task's
 * stream time goes downstream, oldest first, as a change from its prior value (what downstream
 * last saw) to its latest value, with the timestamp and headers of its latest update. Then the
 * bounds: over them, `emitEarly` emits the oldest keys until within, `shutDown` stops the
 * application. The emits and the buffer's deletes go in the same transaction.
 *
 * Acting at the commit rather than per change is what makes a final result final: a change still
 * on its way (a later change in the same cache flush, an asynchronous step of an earlier record)
 * can no longer be overtaken by the decision that its window closed. As in Kafka Streams, the
 * operator acts only in a commit in which a change reached it; bounds are enforced then too, so
 * between commits the buffer may exceed them by what one commit adds (which the runtime bounds
 * with `maxPendingWritesPerTask`).
 *
 * `untilWindowCloses` drops a change of a window that had closed at an earlier emitting commit
 * (the buffer keeps that commit's stream time): its final result went already.
 *
 * A change to a deleted key: `untilWindowCloses` drops it when it is due (a windowed aggregation
 * never deletes); `untilTimeLimit` emits it as a delete, unless downstream never saw the key (a
 * key added and deleted while held emits nothing).
 */
export function suppressProcessor<K, V>(plan: SuppressPlan<K>, valueSerde: Serde<V>): ProcessorSupplier<K, Change<V>, K, Change<V>> {
  return () => {
    let ctx: ProcessorContext<K, Change<V>>;
    let buffer: SuppressionBuffer;
    const serialize = (value: V | undefined): Uint8Array | null => (value === undefined ? null : valueSerde.serialize(value));
    const deserialize = (bytes: Uint8Array | null): V | undefined => (bytes === null ? undefined : valueSerde.deserialize(bytes));
    const emit = (entries: readonly BufferedEntry[]): void => {
      for (const entry of entries) {
        if (entry.newValue === null && (plan.dropsDeletes || entry.priorValue === null)) continue;
        const change: Change<V> = { newValue: deserialize(entry.newValue), oldValue: deserialize(entry.priorValue) };
        ctx.forward(new StreamRecord(plan.keySerde.deserialize(entry.key), change, entry.timestamp, entry.headers));
      }
    };
    const overCapacity = (size: BufferSize): boolean => size.records > plan.maxRecords || size.bytes > plan.maxBytes;
    const enforce = (): void => {
      const streamTimeMs = ctx.currentStreamTimeMs();
      const expiryMs = streamTimeMs - plan.suppressDurationMs;
      emit(buffer.evictWhile((entry) => entry.bufferTimeMs <= expiryMs));
      if (plan.dropsDeletes) buffer.setEmittedThrough(streamTimeMs);
      const size = buffer.size();
      if (!overCapacity(size)) return;
      if (plan.whenFull === BufferFullPolicy.shutDown) throw new SuppressionBufferFullError(plan as SuppressPlan<unknown>, size);
      emit(buffer.evictWhile((_entry, now) => overCapacity(now)));
    };
    return {
      init: (context) => {
        ctx = context;
        const store = ctx.getStateStore<KeyValueStore<Uint8Array, Uint8Array> & PrepareCommitListenable>(plan.storeName);
        buffer = new SuppressionBuffer(store);
        store.setPrepareCommitListener(enforce);
      },
      process: (record) => {
        const { newValue, oldValue } = record.value;
        if (newValue === undefined && oldValue === undefined) return;
        const bufferTimeMs = Math.max(0, plan.bufferTimeOf(record.key, record.timestamp));
        // A change of a window that closed at an earlier commit: its final result went already. An
        // aggregation drops the records of closed windows, but after a restore its stream time is only
        // what its store shows, which can be behind the task's (records that went elsewhere moved it).
        if (plan.dropsDeletes && bufferTimeMs + plan.suppressDurationMs <= buffer.emittedThroughMs()) return;
        buffer.put(plan.keySerde.serialize(record.key), bufferTimeMs, serialize(newValue), serialize(oldValue), record.timestamp, record.headers);
      },
    };
  };
}
