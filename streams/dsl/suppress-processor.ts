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

/**
 * `KTable.suppress(...)` (Kafka Streams' KTableSuppressProcessor). Each change is held in the
 * buffer under its key (a later change of a held key replaces its value and keeps its buffer
 * time), then every held key whose buffer time is at least `suppressDurationMs` behind stream
 * time goes downstream, oldest first, as a change from its prior value (what downstream last saw)
 * to its latest value, with the timestamp and headers of the latest update. Then the bounds: over
 * them, `emitEarly` emits the oldest keys until within, `shutDown` stops the application.
 *
 * Stream time is the task's as the change's input record arrived (`RecordMetadata.streamTimeMs`),
 * or the task's now for a change a cached store flushes at commit (the task is drained then, so
 * no record still to come is judged by an earlier time). It is at least the change's timestamp.
 * The operator acts only when a change reaches it, as in Kafka Streams: a window whose end passed
 * goes out with the next change of the task's table after stream time reached its end + grace.
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
    const emit = (entries: readonly BufferedEntry[], cause: StreamRecord<K, Change<V>>): void => {
      for (const entry of entries) {
        if (entry.newValue === null && (plan.dropsDeletes || entry.priorValue === null)) continue;
        const change: Change<V> = { newValue: deserialize(entry.newValue), oldValue: deserialize(entry.priorValue) };
        ctx.forward(new StreamRecord(plan.keySerde.deserialize(entry.key), change, entry.timestamp, entry.headers, cause.metadata));
      }
    };
    const overCapacity = (size: BufferSize): boolean => size.records > plan.maxRecords || size.bytes > plan.maxBytes;
    return {
      init: (context) => {
        ctx = context;
        buffer = new SuppressionBuffer(ctx.getStateStore<KeyValueStore<Uint8Array, Uint8Array>>(plan.storeName));
      },
      process: (record) => {
        const { newValue, oldValue } = record.value;
        if (newValue === undefined && oldValue === undefined) return;
        const timestamp = record.timestamp;
        buffer.put(plan.keySerde.serialize(record.key), Math.max(0, plan.bufferTimeOf(record.key, timestamp)), serialize(newValue), serialize(oldValue), timestamp, record.headers);
        const streamTimeMs = Math.max(record.metadata?.streamTimeMs ?? ctx.currentStreamTimeMs(), timestamp);
        const expiryMs = streamTimeMs - plan.suppressDurationMs;
        emit(buffer.evictWhile((entry) => entry.bufferTimeMs <= expiryMs), record);
        const size = buffer.size();
        if (!overCapacity(size)) return;
        if (plan.whenFull === BufferFullPolicy.shutDown) throw new SuppressionBufferFullError(plan as SuppressPlan<unknown>, size);
        emit(buffer.evictWhile((_entry, now) => overCapacity(now)), record);
      },
    };
  };
}
