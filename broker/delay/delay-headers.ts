import { Buffer } from 'node:buffer';
import { KafkaError } from '../../sdk/protocol/kafka-error.ts';
import { BatchAttribute } from '../../sdk/record/batch-header.ts';
import type { Record, RecordHeader } from '../../sdk/record/record.ts';
import { readRecordBatches } from '../../sdk/record/record-batch-reader.ts';

/**
 * The record headers that ask for delayed delivery, values as decimal ASCII text:
 * `rill.deliver.at` an absolute time in epoch milliseconds, `rill.delay.ms` milliseconds after the
 * broker received the record. A record carries at most one of them.
 */
export const DelayHeader = { deliverAt: 'rill.deliver.at', delayMs: 'rill.delay.ms' } as const;

/** Both header names start with it; an uncompressed batch without these bytes names no delay. */
const MARKER = Buffer.from('rill.del');
const DECIMAL = /^\d{1,16}$/;
const textDecoder = new TextDecoder();
const textEncoder = new TextEncoder();

/** A record of a produce request with the time it is due. */
export interface DueRecord {
  record: Record;
  dueMs: number;
}

/** What a produce request asks of delayed delivery. */
export interface DueBatches {
  records: DueRecord[];
  /** The latest due time of any record; records without a header are due at once. */
  maxDueMs: number;
  /** Whether any batch belongs to a transaction. */
  transactional: boolean;
  /** How many of `records` each batch holds, in order. */
  batchRecordCounts: number[];
}

function mayNameDelay(batch: Uint8Array, compressed: boolean): boolean {
  if (compressed) return true;
  return Buffer.from(batch.buffer, batch.byteOffset, batch.byteLength).indexOf(MARKER) >= 0;
}

function decimalHeader(header: RecordHeader, where: string): number {
  const text = header.value === null ? '' : textDecoder.decode(header.value);
  if (!DECIMAL.test(text)) {
    throw new KafkaError('INVALID_RECORD', `${where}: header ${header.key} must be a non-negative decimal number of milliseconds, got "${text.slice(0, 32)}"`);
  }
  return Number(text);
}

/** When `record` is due: undefined without a delay header. Throws INVALID_RECORD for a bad or too distant one. */
function dueTimeOf(record: Record, nowMs: number, maxDelayMs: number, where: string): number | undefined {
  let due: number | undefined;
  for (const header of record.headers) {
    if (header.key !== DelayHeader.deliverAt && header.key !== DelayHeader.delayMs) continue;
    if (due !== undefined) {
      throw new KafkaError('INVALID_RECORD', `${where}: a record may carry one of ${DelayHeader.deliverAt} and ${DelayHeader.delayMs}, once`);
    }
    const value = decimalHeader(header, where);
    due = header.key === DelayHeader.deliverAt ? value : nowMs + value;
  }
  if (due !== undefined && due - nowMs > maxDelayMs) {
    throw new KafkaError('INVALID_RECORD', `${where}: delivery time ${due} is ${due - nowMs} ms away, more than rill.delay.max.ms (${maxDelayMs})`);
  }
  return due;
}

/** The records of `batches`; undefined when they cannot be decoded (the append's own checks then refuse them). */
function decodeAll(batches: Uint8Array): { records: Record[]; transactional: boolean; batchRecordCounts: number[] } | undefined {
  try {
    const views = [...readRecordBatches(batches, { strict: true })];
    if (!views.some((batch) => !batch.isControl && mayNameDelay(batch.bytes, batch.compression !== 0))) return undefined;
    const records: Record[] = [];
    let transactional = false;
    const batchRecordCounts: number[] = [];
    for (const batch of views) {
      transactional ||= (batch.attributes & BatchAttribute.transactional) !== 0;
      const before = records.length;
      for (const record of batch.records()) records.push(record);
      batchRecordCounts.push(records.length - before);
    }
    return { records, transactional, batchRecordCounts };
  } catch (error) {
    if (error instanceof KafkaError) return undefined;
    throw error;
  }
}

/**
 * Reads the delay headers of a produce request's batches. Undefined when no record names a
 * delay, which an uncompressed batch shows without decoding (a byte search for the header
 * prefix); compressed batches are decoded to look (as Kafka's log validator does for every
 * compressed batch). Batches that do not decode are left to the append's checks.
 */
export function dueBatches(batches: Uint8Array, nowMs: number, maxDelayMs: number, topicPartition: string): DueBatches | undefined {
  const decoded = decodeAll(batches);
  if (decoded === undefined) return undefined;
  let found = false;
  let maxDueMs = nowMs;
  const records: DueRecord[] = [];
  for (const record of decoded.records) {
    const due = dueTimeOf(record, nowMs, maxDelayMs, topicPartition);
    if (due !== undefined) found = true;
    const dueMs = due ?? nowMs;
    if (dueMs > maxDueMs) maxDueMs = dueMs;
    records.push({ record, dueMs });
  }
  return found ? { records, maxDueMs, transactional: decoded.transactional, batchRecordCounts: decoded.batchRecordCounts } : undefined;
}

/**
 * A moved record's headers: `rill.delay.ms` becomes `rill.deliver.at` with the due time, so a
 * consumer that copies headers into a new record (a stream job, a dead-letter queue) does not
 * delay it a second time.
 */
export function deliveredHeaders(headers: readonly RecordHeader[], dueMs: number): RecordHeader[] {
  return headers.map((h) => (h.key === DelayHeader.delayMs ? { key: DelayHeader.deliverAt, value: textEncoder.encode(String(dueMs)) } : h));
}
