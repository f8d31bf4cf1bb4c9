import { decode } from '@msgpack/msgpack';
import { KafkaError } from '../../sdk/protocol/kafka-error.ts';
import type { RecordHeader } from '../../sdk/record/record.ts';
import { encodeRecordTail, RecordBatchBuilder } from '../../sdk/record/record-batch-builder.ts';
import { RecordBatchView } from '../../sdk/record/record-batch-reader.ts';
import { readInt64, writeInt64 } from '../../sdk/record/batch-header.ts';
import { deliveredHeaders } from './delay-headers.ts';

/** A record waiting in the delay log for its due time. */
export interface DelayedRecord {
  topic: string;
  partition: number;
  dueMs: number;
  /** The record's own timestamp as produced. */
  timestamp: number;
  /**
   * The record as it will be delivered, from its key on (`encodeRecordTail`): key, value and
   * headers, `rill.delay.ms` already turned into `rill.deliver.at`. A move copies it into a batch.
   */
  tail: Uint8Array;
  /**
   * On the last record of each produced batch of an idempotent producer: the placeholder that
   * batch leaves in its partition, appended again at a restart if the crash came before it.
   */
  placeholder?: Uint8Array;
}

/** What a produce hands over: the record's parts, made into a `DelayedRecord` by `delayedRecordOf`. */
export interface DelayedRecordInput {
  topic: string;
  partition: number;
  dueMs: number;
  timestamp: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: readonly RecordHeader[];
  placeholder?: Uint8Array;
}

export function delayedRecordOf(input: DelayedRecordInput): DelayedRecord {
  return {
    topic: input.topic,
    partition: input.partition,
    dueMs: input.dueMs,
    timestamp: input.timestamp,
    tail: encodeRecordTail({ key: input.key, value: input.value, headers: deliveredHeaders(input.headers, input.dueMs) }),
    placeholder: input.placeholder,
  };
}

const FORMAT_VERSION = 1;
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Delay log (`__delayed_records`) format: one batch per delayed record, so reading one record back
 * reads only its own bytes. The batch's single record has a null key, its timestamp (and so the
 * batch's maxTimestamp) is the due time, which the rebuild reads from the batch header alone, and
 * its value is, big-endian:
 *
 *   version int8 (1) | partition int32 | produced timestamp int64 | topic length int16, utf8 topic |
 *   placeholder length int32 (-1: none), placeholder batch bytes | tail (the rest: `DelayedRecord.tail`)
 *
 * Version 0 (Rill before 2026-12-07, still read) was a msgpack map `{ t, p, ts, k, v, h, ph? }`
 * holding the key, value and headers as produced; its first byte is a msgpack fixmap (0x80–0x8f).
 */
export function encodeDelayedRecord(record: DelayedRecord): Uint8Array {
  const topic = textEncoder.encode(record.topic);
  const placeholderBytes = record.placeholder?.length ?? 0;
  const value = new Uint8Array(1 + 4 + 8 + 2 + topic.length + 4 + placeholderBytes + record.tail.length);
  const dv = new DataView(value.buffer);
  let pos = 0;
  dv.setInt8(pos, FORMAT_VERSION);
  dv.setInt32((pos += 1), record.partition);
  writeInt64(dv, (pos += 4), record.timestamp);
  dv.setInt16((pos += 8), topic.length);
  value.set(topic, (pos += 2));
  dv.setInt32((pos += topic.length), record.placeholder === undefined ? -1 : placeholderBytes);
  pos += 4;
  if (record.placeholder !== undefined) value.set(record.placeholder, pos);
  value.set(record.tail, pos + placeholderBytes);
  const builder = new RecordBatchBuilder({ initialCapacityBytes: value.byteLength + 128 });
  builder.append({ key: null, value, timestamp: record.dueMs });
  return builder.seal();
}

function invalid(offset: number, why: string): KafkaError {
  return new KafkaError('CORRUPT_MESSAGE', `delay log record at offset ${offset}: ${why}`);
}

/** A record decoded from the delay log, with its offset there. */
export type StoredDelayedRecord = DelayedRecord & { offset: number };

/**
 * Decodes the single record of a delay log batch (`encodeDelayedRecord`, or version 0). On every
 * move's path: each record comes out as an object of one shape, its topic string shared with the
 * record decoded before when the bytes are the same.
 */
export function decodeDelayedRecord(batchBytes: Uint8Array): StoredDelayedRecord {
  const batch = new RecordBatchView(batchBytes);
  let decoded: StoredDelayedRecord | undefined;
  batch.forEachRecord((offset, timestamp, _key, value) => {
    if (decoded !== undefined) return;
    if (value === null || value.length === 0) throw invalid(offset, 'no value');
    if (value[0] === FORMAT_VERSION) decoded = decodeVersion1(value, offset, timestamp);
    else if ((value[0]! & 0xf0) === 0x80) decoded = { offset, ...decodeVersion0(value, offset, timestamp) };
    else throw invalid(offset, `unknown format (first byte ${value[0]})`);
  });
  if (decoded === undefined) throw invalid(batch.baseOffset, 'the batch holds no record');
  return decoded;
}

/** The last topic decoded (records of one topic follow each other in the delay log). */
let lastTopicBytes = new Uint8Array(0);
let lastTopic = '';

function topicAt(value: Uint8Array, start: number, end: number, offset: number): string {
  if (end - start === lastTopicBytes.length) {
    let same = true;
    for (let i = start; i < end && same; i++) same = value[i] === lastTopicBytes[i - start];
    if (same) return lastTopic;
  }
  try {
    lastTopic = textDecoder.decode(value.subarray(start, end));
  } catch {
    throw invalid(offset, 'the topic is not UTF-8');
  }
  lastTopicBytes = value.slice(start, end);
  return lastTopic;
}

function decodeVersion1(value: Uint8Array, offset: number, dueMs: number): StoredDelayedRecord {
  const dv = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const need = (end: number): void => {
    if (end > value.length) throw invalid(offset, `truncated: needs ${end} bytes, has ${value.length}`);
  };
  need(15);
  const partition = dv.getInt32(1);
  const timestamp = readInt64(dv, 5);
  const topicBytes = dv.getInt16(13);
  if (topicBytes < 0) throw invalid(offset, 'negative topic length');
  need(15 + topicBytes + 4);
  const topic = topicAt(value, 15, 15 + topicBytes, offset);
  let pos = 15 + topicBytes;
  const placeholderBytes = dv.getInt32(pos);
  pos += 4;
  if (placeholderBytes < -1) throw invalid(offset, 'negative placeholder length');
  need(pos + Math.max(0, placeholderBytes));
  const placeholder = placeholderBytes === -1 ? undefined : value.slice(pos, pos + placeholderBytes);
  pos += Math.max(0, placeholderBytes);
  return { offset, topic, partition, dueMs, timestamp, tail: value.slice(pos), placeholder };
}

function bytesOrNull(value: unknown, offset: number, field: string): Uint8Array | null {
  if (value === null || value instanceof Uint8Array) return value;
  throw invalid(offset, `${field} is neither bytes nor nil`);
}

function decodeVersion0(value: Uint8Array, offset: number, dueMs: number): DelayedRecord {
  let fields: { [key: string]: unknown };
  try {
    fields = decode(value) as { [key: string]: unknown };
  } catch (error) {
    throw invalid(offset, `malformed msgpack (${error instanceof Error ? error.message : String(error)})`);
  }
  const { t, p, ts, k, v, h, ph } = fields;
  if (typeof t !== 'string' || typeof p !== 'number' || typeof ts !== 'number' || !Array.isArray(h)) throw invalid(offset, 'missing fields');
  const headers = h.map((pair: unknown): RecordHeader => {
    if (!Array.isArray(pair) || typeof pair[0] !== 'string') throw invalid(offset, 'malformed header');
    return { key: pair[0], value: bytesOrNull(pair[1], offset, 'a header value') };
  });
  return delayedRecordOf({
    topic: t,
    partition: p,
    dueMs,
    timestamp: ts,
    key: bytesOrNull(k, offset, 'the key'),
    value: bytesOrNull(v, offset, 'the value'),
    headers,
    placeholder: ph instanceof Uint8Array ? ph : undefined,
  });
}
