import { encode } from '@msgpack/msgpack';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DelayHeader } from '../../../../broker/delay/delay-headers.ts';
import { decodeDelayedRecord, type DelayedRecordInput, delayedRecordOf, encodeDelayedRecord } from '../../../../broker/delay/delay-record.ts';
import { isKafkaError } from '../../../../sdk/protocol/kafka-error.ts';
import { RecordBatchBuilder } from '../../../../sdk/record/record-batch-builder.ts';
import { readRecordBatches } from '../../../../sdk/record/record-batch-reader.ts';

const encoder = new TextEncoder();
const bytes = fc.option(fc.uint8Array({ maxLength: 40 }), { nil: null });

const inputArb: fc.Arbitrary<DelayedRecordInput> = fc.record(
  {
    topic: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }),
    partition: fc.integer({ min: 0, max: 10_000 }),
    dueMs: fc.integer({ min: 0, max: 2 ** 45 }),
    timestamp: fc.integer({ min: -1, max: 2 ** 45 }),
    key: bytes,
    value: bytes,
    headers: fc.array(
      fc.record({
        key: fc.oneof(fc.constantFrom(DelayHeader.delayMs, DelayHeader.deliverAt), fc.string({ unit: 'grapheme', maxLength: 10 })),
        value: bytes,
      }),
      { maxLength: 4 },
    ),
    placeholder: fc.uint8Array({ minLength: 61, maxLength: 61 }),
  },
  { requiredKeys: ['topic', 'partition', 'dueMs', 'timestamp', 'key', 'value', 'headers'] },
);

/** What a move delivers: the tail put into a batch and read back. */
function delivered(tail: Uint8Array, dueMs: number) {
  const builder = new RecordBatchBuilder();
  builder.appendEncoded(dueMs, tail);
  const [batch] = [...readRecordBatches(builder.seal())];
  const [record] = [...batch!.records()];
  return { key: record!.key, value: record!.value, headers: record!.headers, timestamp: record!.timestamp };
}

/** A delay log record as Rill wrote it before the binary format (msgpack, version 0). */
function versionZero(input: DelayedRecordInput): Uint8Array {
  const value = encode({
    t: input.topic,
    p: input.partition,
    ts: input.timestamp,
    k: input.key,
    v: input.value,
    h: input.headers.map((h) => [h.key, h.value]),
    ...(input.placeholder === undefined ? {} : { ph: input.placeholder }),
  });
  const builder = new RecordBatchBuilder();
  builder.append({ key: null, value, timestamp: input.dueMs });
  return builder.seal();
}

function errorOf(run: () => unknown): string {
  try {
    run();
    return 'none';
  } catch (error) {
    return isKafkaError(error, 'CORRUPT_MESSAGE') ? error.message : `not CORRUPT_MESSAGE: ${String(error)}`;
  }
}

describe('delay log record format', () => {
  it('reads back what it wrote, and the tail delivers the record with rill.delay.ms turned into rill.deliver.at', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const decoded = decodeDelayedRecord(encodeDelayedRecord(delayedRecordOf(input)));
        expect({ topic: decoded.topic, partition: decoded.partition, dueMs: decoded.dueMs, timestamp: decoded.timestamp, placeholder: decoded.placeholder }).toEqual({
          topic: input.topic,
          partition: input.partition,
          dueMs: input.dueMs,
          timestamp: input.timestamp,
          placeholder: input.placeholder,
        });
        const out = delivered(decoded.tail, decoded.dueMs);
        expect(out.key).toEqual(input.key);
        expect(out.value).toEqual(input.value);
        expect(out.timestamp).toBe(input.dueMs);
        expect(out.headers).toEqual(
          input.headers.map((h) => (h.key === DelayHeader.delayMs ? { key: DelayHeader.deliverAt, value: encoder.encode(String(input.dueMs)) } : h)),
        );
      }),
    );
  });

  it('reads records written in the earlier msgpack format as the same record', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        expect(decodeDelayedRecord(versionZero(input))).toEqual(decodeDelayedRecord(encodeDelayedRecord(delayedRecordOf(input))));
      }),
    );
  });

  it('refuses truncated or unknown records with CORRUPT_MESSAGE', () => {
    const wrap = (value: Uint8Array) => {
      const builder = new RecordBatchBuilder({ baseOffset: 42 });
      builder.append({ key: null, value, timestamp: 1 });
      return builder.seal();
    };
    const stored = encodeDelayedRecord(delayedRecordOf({ topic: 'orders', partition: 1, dueMs: 5, timestamp: 4, key: null, value: null, headers: [] }));
    const [batch] = [...readRecordBatches(stored)];
    const good = [...batch!.records()][0]!.value!;
    expect(errorOf(() => decodeDelayedRecord(wrap(good.subarray(0, 10))))).toBe('CORRUPT_MESSAGE: delay log record at offset 42: truncated: needs 15 bytes, has 10');
    expect(errorOf(() => decodeDelayedRecord(wrap(good.subarray(0, 20))))).toBe('CORRUPT_MESSAGE: delay log record at offset 42: truncated: needs 25 bytes, has 20');
    expect(errorOf(() => decodeDelayedRecord(wrap(new Uint8Array([7, 0, 0]))))).toBe('CORRUPT_MESSAGE: delay log record at offset 42: unknown format (first byte 7)');
    expect(errorOf(() => decodeDelayedRecord(wrap(new Uint8Array([0x81, 0xc1]))))).toMatch(/^CORRUPT_MESSAGE: delay log record at offset 42: malformed msgpack/);
    expect(errorOf(() => decodeDelayedRecord(wrap(encode({ t: 'x' }))))).toBe('CORRUPT_MESSAGE: delay log record at offset 42: missing fields');
    expect(errorOf(() => decodeDelayedRecord(wrap(new Uint8Array(0))))).toBe('CORRUPT_MESSAGE: delay log record at offset 42: no value');
  });
});
