import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isKafkaError } from '../../../../sdk/protocol/kafka-error.ts';
import {
  BatchOffset,
  CompressionType,
  RecordBatchBuilder,
  type RecordBatchBuilderOptions,
  type RecordInput,
  TimestampType,
  readBatchHeader,
  readRecordBatches,
} from '../../../../sdk/record/mod.ts';
import { encodeRecordTail } from '../../../../sdk/record/record-batch-builder.ts';
import { bytesOrNull } from './arbitraries.ts';
import {
  type KafkajsMessage,
  kafkajsDecodeBatch,
  kafkajsHeaderList,
  kafkajsProduceBatch,
} from './kafkajs-oracle.ts';

const buf = (bytes: Uint8Array | null): Buffer | null => (bytes === null ? null : Buffer.from(bytes));

const kafkajsMessage: fc.Arbitrary<KafkajsMessage> = fc.record({
  key: bytesOrNull.map(buf),
  value: bytesOrNull.map(buf),
  headers: fc.dictionary(
    fc.string({ unit: 'grapheme', maxLength: 8 }),
    fc.oneof(
      fc.uint8Array({ maxLength: 16 }).map((b) => Buffer.from(b)),
      fc.array(fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b)), { maxLength: 3 }),
    ),
    { maxKeys: 4, noNullPrototype: true },
  ),
  // 13-digit timestamps: kafkajs sorts them as strings, which is numeric order only at equal length.
  timestamp: fc.integer({ min: 1_600_000_000_000, max: 1_600_000_900_000 }),
});

const producerFields = fc.record({
  producerId: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 2 ** 40 })),
  producerEpoch: fc.integer({ min: 0, max: 0x7fff }),
  firstSequence: fc.integer({ min: 0, max: 0x7fff_ffff }),
  transactional: fc.boolean(),
});

function toInput(m: KafkajsMessage): RecordInput {
  const input: RecordInput = { key: m.key, value: m.value, headers: kafkajsHeaderList(m.headers) };
  if (m.timestamp !== undefined) input.timestamp = m.timestamp;
  return input;
}

function build(messages: KafkajsMessage[], options: RecordBatchBuilderOptions): Uint8Array {
  const builder = new RecordBatchBuilder(options);
  for (const m of messages) builder.append(toInput(m));
  return builder.seal();
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('RecordBatchBuilder against the kafkajs 2.2.4 producer encoder', () => {
  for (const compression of [CompressionType.none, CompressionType.gzip] as const) {
    it(`writes the same bytes as kafkajs (compression ${compression})`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(kafkajsMessage, { minLength: 1, maxLength: 12 }), producerFields, async (messages, p) => {
          const oracle = await kafkajsProduceBatch({
            messages,
            compression,
            producerId: p.producerId,
            producerEpoch: p.producerEpoch,
            firstSequence: p.firstSequence,
            transactionalId: p.transactional ? 'txn' : null,
          });
          const ours = build(messages, {
            compression,
            producerId: p.producerId,
            producerEpoch: p.producerEpoch,
            baseSequence: p.firstSequence,
            isTransactional: p.transactional,
          });
          expect(hex(ours)).toBe(hex(oracle));
        }),
        { numRuns: compression === CompressionType.none ? 300 : 100 },
      );
    });
  }

  it('matches kafkajs for out-of-order timestamps (baseTimestamp is the minimum)', async () => {
    const messages: KafkajsMessage[] = [1_600_000_000_500, 1_600_000_000_100, 1_600_000_000_900, 1_600_000_000_000].map(
      (timestamp, i) => ({ key: Buffer.from([i]), value: Buffer.from('v'), headers: {}, timestamp }),
    );
    // kafkajs writes producerEpoch 0 and baseSequence 0 for a non-idempotent producer; ours defaults to -1.
    const ours = build(messages, { producerEpoch: 0, baseSequence: 0 });
    expect(hex(ours)).toBe(hex(await kafkajsProduceBatch({ messages })));
    const header = readBatchHeader(ours);
    expect(header.baseTimestamp).toBe(1_600_000_000_000);
    expect(header.maxTimestamp).toBe(1_600_000_000_900);
    const [batch] = [...readRecordBatches(ours)];
    expect([...batch!.records()].map((r) => r.timestamp)).toEqual(messages.map((m) => m.timestamp));
  });

  it('stamps records without a timestamp with Date.now(), as kafkajs does', async () => {
    vi.spyOn(Date, 'now').mockReturnValue(1_650_000_000_123);
    const messages: KafkajsMessage[] = [
      { key: null, value: Buffer.from('a'), headers: {} },
      { key: Buffer.from('k'), value: null, headers: { h: Buffer.from('x') } },
    ];
    const ours = build(messages, { producerEpoch: 0, baseSequence: 0 });
    expect(hex(ours)).toBe(hex(await kafkajsProduceBatch({ messages })));
    expect(readBatchHeader(ours).baseTimestamp).toBe(1_650_000_000_123);
  });

  it('is decoded by the kafkajs decoder to the records it was given', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            key: bytesOrNull,
            value: bytesOrNull,
            headers: fc.array(fc.record({ key: fc.string({ unit: 'grapheme', maxLength: 6 }), value: bytesOrNull }), {
              maxLength: 3,
            }),
            timestamp: fc.integer({ min: 0, max: 2 ** 45 }),
          }),
          { minLength: 1, maxLength: 10 },
        ),
        fc.constantFrom(CompressionType.none, CompressionType.gzip),
        fc.integer({ min: 0, max: 2 ** 48 }),
        async (inputs, compression, baseOffset) => {
          const builder = new RecordBatchBuilder({ compression, baseOffset, producerId: 7, producerEpoch: 3, baseSequence: 11 });
          for (const input of inputs) builder.append(input);
          const decoded = await kafkajsDecodeBatch(builder.seal());
          expect(decoded.firstOffset).toBe(String(baseOffset));
          expect(decoded.producerId).toBe('7');
          expect(decoded.producerEpoch).toBe(3);
          expect(decoded.firstSequence).toBe(11);
          expect(decoded.lastOffsetDelta).toBe(inputs.length - 1);
          expect(decoded.records).toHaveLength(inputs.length);
          decoded.records.forEach((record, i) => {
            const input = inputs[i]!;
            expect(record.offset).toBe(String(baseOffset + i));
            expect(record.timestamp).toBe(String(input.timestamp));
            expect(record.key === null ? null : hex(record.key)).toBe(input.key == null ? null : hex(input.key));
            expect(record.value === null ? null : hex(record.value)).toBe(input.value == null ? null : hex(input.value));
            // kafkajs folds headers into an object; compare per key in order.
            const expected = new Map<string, (string | null)[]>();
            for (const h of input.headers ?? []) {
              const key = Buffer.from(h.key, 'utf8').toString('utf8');
              expected.set(key, [...(expected.get(key) ?? []), h.value === null ? null : hex(h.value)]);
            }
            const actual = new Map(
              Object.entries(record.headers).map(([k, v]) => [
                k,
                (Array.isArray(v) ? v : [v]).map((b) => (b === null ? null : hex(b))),
              ]),
            );
            expect(actual).toEqual(expected);
          });
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('RecordBatchBuilder', () => {
  it('writes the header fields it is given', () => {
    const builder = new RecordBatchBuilder({
      baseOffset: 12345,
      producerId: 99,
      producerEpoch: 4,
      baseSequence: 17,
      isTransactional: true,
      partitionLeaderEpoch: 6,
      timestampType: TimestampType.LogAppendTime,
      compression: 'gzip',
    });
    builder.append({ value: new Uint8Array([1]), timestamp: 10 });
    builder.append({ value: new Uint8Array([2]), timestamp: 30 });
    const header = readBatchHeader(builder.seal());
    expect(header).toMatchObject({
      baseOffset: 12345,
      partitionLeaderEpoch: 6,
      magic: 2,
      attributes: 0x10 | 0x08 | 0x01,
      lastOffsetDelta: 1,
      baseTimestamp: 10,
      maxTimestamp: 30,
      producerId: 99,
      producerEpoch: 4,
      baseSequence: 17,
      recordsCount: 2,
    });
  });

  it('writes the producer fields given to seal exactly as if given to the constructor', () => {
    fc.assert(
      fc.property(fc.array(kafkajsMessage, { minLength: 1, maxLength: 5 }), producerFields, producerFields, (messages, early, late) => {
        const toOptions = (f: typeof late): RecordBatchBuilderOptions => ({
          producerId: f.producerId,
          producerEpoch: f.producerEpoch,
          baseSequence: f.firstSequence,
          isTransactional: f.transactional,
        });
        const builder = new RecordBatchBuilder({ ...toOptions(early), compression: 'gzip' });
        for (const m of messages) builder.append(toInput(m));
        const sealed = builder.seal({
          producerId: late.producerId,
          producerEpoch: late.producerEpoch,
          baseSequence: late.firstSequence,
          isTransactional: late.transactional,
        });
        expect(hex(sealed)).toBe(hex(build(messages, { ...toOptions(late), compression: 'gzip' })));
      }),
      { numRuns: 50 },
    );
  });

  it('defaults to a non-idempotent, uncompressed batch with partitionLeaderEpoch 0', () => {
    const builder = new RecordBatchBuilder();
    builder.append({ timestamp: 5 });
    const sealed = builder.seal();
    expect(readBatchHeader(sealed)).toMatchObject({
      baseOffset: 0,
      partitionLeaderEpoch: 0,
      attributes: 0,
      producerId: -1,
      producerEpoch: -1,
      baseSequence: -1,
    });
  });

  it('reports count and an exact sizeEstimate for uncompressed batches', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 50 }), (values) => {
        const builder = new RecordBatchBuilder({ initialCapacityBytes: 64 });
        values.forEach((value, i) => {
          builder.append({ value, timestamp: 1000 + i });
          expect(builder.count).toBe(i + 1);
        });
        const size = builder.sizeEstimate;
        expect(builder.seal().length).toBe(size);
      }),
    );
  });

  it('calls the clock once per batch and only for records without a timestamp', () => {
    let calls = 0;
    const clock = (): number => 1000 + calls++;
    const builder = new RecordBatchBuilder({ clock });
    builder.append({ timestamp: 500 });
    expect(calls).toBe(0);
    builder.append({});
    builder.append({});
    expect(calls).toBe(1);
    const [batch] = [...readRecordBatches(builder.seal())];
    expect([...batch!.records()].map((r) => r.timestamp)).toEqual([500, 1000, 1000]);
  });

  it('refuses a record that would pass maxBatchBytes with MESSAGE_TOO_LARGE and stays usable', () => {
    const builder = new RecordBatchBuilder({ maxBatchBytes: 200 });
    builder.append({ value: new Uint8Array(100), timestamp: 1 });
    const before = builder.sizeEstimate;
    let caught: unknown;
    try {
      builder.append({ value: new Uint8Array(100), timestamp: 1 });
    } catch (error) {
      caught = error;
    }
    expect(isKafkaError(caught, 'MESSAGE_TOO_LARGE')).toBe(true);
    expect(builder.count).toBe(1);
    expect(builder.sizeEstimate).toBe(before);
    builder.append({ value: new Uint8Array(10), timestamp: 2 });
    const [batch] = [...readRecordBatches(builder.seal())];
    expect([...batch!.records()].map((r) => r.value!.length)).toEqual([100, 10]);
  });

  it('builds the same batch from records encoded before (appendEncoded) as from the records themselves', () => {
    fc.assert(
      fc.property(fc.array(kafkajsMessage, { minLength: 1, maxLength: 8 }), (messages) => {
        const direct = build(messages, { producerId: 7, producerEpoch: 0, baseSequence: 3 });
        const builder = new RecordBatchBuilder({ producerId: 7, producerEpoch: 0, baseSequence: 3 });
        for (const m of messages) {
          const input = toInput(m);
          builder.appendEncoded(input.timestamp!, encodeRecordTail({ key: m.key, value: m.value, headers: input.headers! }));
        }
        expect(hex(builder.seal())).toBe(hex(direct));
      }),
    );
  });

  it('refuses an encoded record past maxBatchBytes with MESSAGE_TOO_LARGE and stays usable', () => {
    const builder = new RecordBatchBuilder({ maxBatchBytes: 200 });
    builder.appendEncoded(1, encodeRecordTail({ key: null, value: new Uint8Array(100), headers: [] }));
    const before = builder.sizeEstimate;
    expect(() => builder.appendEncoded(1, encodeRecordTail({ key: null, value: new Uint8Array(100), headers: [] }))).toThrow(/MESSAGE_TOO_LARGE|more than the limit/);
    expect(builder.sizeEstimate).toBe(before);
    expect(builder.count).toBe(1);
  });

  it('rejects compression values that name no codec when constructed', () => {
    for (const [compression, message] of [
      [5, 'compression type 5 is not supported; use one of none, gzip, snappy, lz4, zstd'],
      [7, 'compression type 7 is not supported; use one of none, gzip, snappy, lz4, zstd'],
    ] as const) {
      let caught: unknown;
      try {
        new RecordBatchBuilder({ compression });
      } catch (error) {
        caught = error;
      }
      expect(isKafkaError(caught, 'UNSUPPORTED_COMPRESSION_TYPE')).toBe(true);
      expect((caught as Error).message).toContain(message);
    }
  });

  it('treats misuse as a broken invariant, not a Kafka error', () => {
    expect(() => new RecordBatchBuilder().seal()).toThrow(/empty batch/);
    expect(() => new RecordBatchBuilder({ producerEpoch: 40000 })).toThrow(/producerEpoch/);
    expect(() => new RecordBatchBuilder().append({ timestamp: 1.5 })).toThrow(/safe integer/);
    const builder = new RecordBatchBuilder();
    builder.append({ timestamp: 1 });
    builder.seal();
    expect(() => builder.append({ timestamp: 1 })).toThrow(/after seal/);
    expect(() => builder.seal()).toThrow(/twice/);
  });

  it('computes the CRC over attributes..end', () => {
    const builder = new RecordBatchBuilder();
    builder.append({ key: new Uint8Array([1, 2]), value: new Uint8Array([3]), timestamp: 1 });
    const sealed = builder.seal();
    const [batch] = [...readRecordBatches(sealed)];
    expect(batch!.verifyCrc()).toBe(true);
    expect(new DataView(sealed.buffer, sealed.byteOffset).getInt32(BatchOffset.batchLength)).toBe(sealed.length - 12);
  });
});
