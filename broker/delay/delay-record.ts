import { decode, encode } from '@msgpack/msgpack';
import { KafkaError } from '../../sdk/protocol/kafka-error.ts';
import type { RecordHeader } from '../../sdk/record/record.ts';
import { RecordBatchBuilder } from '../../sdk/record/record-batch-builder.ts';
import { RecordBatchView } from '../../sdk/record/record-batch-reader.ts';

/** A record waiting in the delay log for its due time. */
export interface DelayedRecord {
  topic: string;
  partition: number;
  dueMs: number;
  /** The record's own timestamp as produced. */
  timestamp: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: readonly RecordHeader[];
  /**
   * On the last record of each produced batch of an idempotent producer: the placeholder that
   * batch leaves in its partition, appended again at a restart if the crash came before it.
   */
  placeholder?: Uint8Array;
}

/**
 * Delay log (`__delayed_records`) format: one batch per delayed record, so reading one record back
 * reads only its own bytes. The batch's single record has a null key, its timestamp (and so the
 * batch's maxTimestamp) is the due time, which the rebuild reads from the batch header alone, and
 * its value is msgpack `{ t: topic, p: partition, ts: produced timestamp, k: key, v: value,
 * h: [[header key, header value], ...], ph?: placeholder batch bytes }` with keys and values as
 * msgpack bin or nil.
 */
export function encodeDelayedRecord(record: DelayedRecord): Uint8Array {
  const value = encode({
    t: record.topic,
    p: record.partition,
    ts: record.timestamp,
    k: record.key,
    v: record.value,
    h: record.headers.map((h) => [h.key, h.value]),
    ...(record.placeholder === undefined ? {} : { ph: record.placeholder }),
  });
  const builder = new RecordBatchBuilder({ initialCapacityBytes: value.byteLength + 128 });
  builder.append({ key: null, value, timestamp: record.dueMs });
  return builder.seal();
}

function invalid(offset: number, why: string): KafkaError {
  return new KafkaError('CORRUPT_MESSAGE', `delay log record at offset ${offset}: ${why}`);
}

function bytesOrNull(value: unknown, offset: number, field: string): Uint8Array | null {
  if (value === null || value instanceof Uint8Array) return value;
  throw invalid(offset, `${field} is neither bytes nor nil`);
}

/** Decodes the single record of a delay log batch (`encodeDelayedRecord`). */
export function decodeDelayedRecord(batchBytes: Uint8Array): DelayedRecord & { offset: number } {
  const batch = new RecordBatchView(batchBytes);
  for (const record of batch.records()) {
    if (record.value === null) throw invalid(record.offset, 'no value');
    const fields = decode(record.value) as { [key: string]: unknown };
    const { t, p, ts, k, v, h, ph } = fields;
    if (typeof t !== 'string' || typeof p !== 'number' || typeof ts !== 'number' || !Array.isArray(h)) throw invalid(record.offset, 'missing fields');
    const headers = h.map((pair: unknown): RecordHeader => {
      if (!Array.isArray(pair) || typeof pair[0] !== 'string') throw invalid(record.offset, 'malformed header');
      return { key: pair[0], value: bytesOrNull(pair[1], record.offset, 'a header value') };
    });
    return {
      offset: record.offset,
      topic: t,
      partition: p,
      dueMs: record.timestamp,
      timestamp: ts,
      key: bytesOrNull(k, record.offset, 'the key'),
      value: bytesOrNull(v, record.offset, 'the value'),
      headers,
      ...(ph instanceof Uint8Array ? { placeholder: ph } : {}),
    };
  }
  throw invalid(batch.baseOffset, 'the batch holds no record');
}
