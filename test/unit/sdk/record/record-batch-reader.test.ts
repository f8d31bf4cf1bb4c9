import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isKafkaError } from '../../../../sdk/protocol/kafka-error.ts';
import {
  BatchOffset,
  CompressionType,
  crc32c,
  type Record,
  RecordBatchBuilder,
  type RecordInput,
  RecordBatchView,
  TimestampType,
  readRecordBatches,
} from '../../../../sdk/record/mod.ts';
import { recordInput } from './arbitraries.ts';
import { kafkajsHeaderList, kafkajsProduceBatch, kafkajsRawBatch } from './kafkajs-oracle.ts';

const BATCH_RECORDS_AT = BatchOffset.records;

function seal(inputs: RecordInput[], compression: number = CompressionType.none, baseOffset = 0): Uint8Array {
  const builder = new RecordBatchBuilder({ compression, baseOffset, initialCapacityBytes: 64 });
  for (const input of inputs) builder.append(input);
  return builder.seal();
}

function expected(inputs: RecordInput[], baseOffset = 0): Record[] {
  return inputs.map((input, i) => ({
    offset: baseOffset + i,
    timestamp: input.timestamp!,
    key: input.key ?? null,
    value: typeof input.value === 'string' ? new TextEncoder().encode(input.value) : (input.value ?? null),
    headers: (input.headers ?? []).map((h) => ({ key: Buffer.from(h.key, 'utf8').toString('utf8'), value: h.value })),
  }));
}

function normalise(records: Iterable<Record>): unknown[] {
  return [...records].map((r) => ({
    ...r,
    key: r.key === null ? null : Buffer.from(r.key).toString('hex'),
    value: r.value === null ? null : Buffer.from(r.value).toString('hex'),
    headers: r.headers.map((h) => ({ key: h.key, value: h.value === null ? null : Buffer.from(h.value).toString('hex') })),
  }));
}

function only(bytes: Uint8Array): RecordBatchView {
  const batches = [...readRecordBatches(bytes)];
  expect(batches).toHaveLength(1);
  return batches[0]!;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Sets the attributes' compression bits and recomputes the CRC, as a client using that codec would. */
function withCompression(bytes: Uint8Array, type: number): Uint8Array {
  const copy = bytes.slice();
  const dv = new DataView(copy.buffer);
  dv.setInt16(BatchOffset.attributes, (dv.getInt16(BatchOffset.attributes) & ~7) | type);
  dv.setUint32(BatchOffset.crc, crc32c(copy, BatchOffset.attributes));
  return copy;
}

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** Drains everything a reader can yield; any failure must be a KafkaError. */
function drain(bytes: Uint8Array, strict: boolean): void {
  try {
    for (const batch of readRecordBatches(bytes, { strict, maxDecompressedBytes: 1 << 20 })) {
      batch.verifyCrc();
      void batch.header;
      for (const record of batch.records()) void record;
    }
  } catch (error) {
    if (!isKafkaError(error)) throw error;
  }
}

describe('round trip through RecordBatchBuilder and readRecordBatches', () => {
  for (const compression of [CompressionType.none, CompressionType.gzip, CompressionType.snappy, CompressionType.lz4, CompressionType.zstd]) {
    it(`returns the appended records (compression ${compression})`, () => {
      fc.assert(
        fc.property(
          fc.array(recordInput, { minLength: 1, maxLength: 20 }),
          fc.integer({ min: 0, max: 2 ** 50 }),
          (inputs, baseOffset) => {
            const sealed = seal(inputs, compression, baseOffset);
            const batch = only(sealed);
            expect(batch.verifyCrc()).toBe(true);
            expect(batch.compression).toBe(compression);
            expect(batch.baseOffset).toBe(baseOffset);
            expect(batch.lastOffset).toBe(baseOffset + inputs.length - 1);
            expect(batch.byteLength).toBe(sealed.length);
            expect(batch.recordsCount).toBe(inputs.length);
            expect(batch.header.baseTimestamp).toBe(Math.min(...inputs.map((r) => r.timestamp!)));
            expect(batch.header.maxTimestamp).toBe(Math.max(...inputs.map((r) => r.timestamp!)));
            expect(normalise(batch.records())).toEqual(normalise(expected(inputs, baseOffset)));
          },
        ),
        { numRuns: compression === CompressionType.none ? 500 : 100 },
      );
    });
  }

  it('yields views into the input for uncompressed batches, and into one buffer for gzip', () => {
    const inputs: RecordInput[] = [
      { key: new Uint8Array([1]), value: new Uint8Array([2, 3]), headers: [{ key: 'h', value: new Uint8Array([4]) }], timestamp: 1 },
      { key: new Uint8Array([5]), value: new Uint8Array([6]), timestamp: 2 },
    ];
    const plain = seal(inputs);
    for (const record of only(plain).records()) {
      expect(record.key!.buffer).toBe(plain.buffer);
      expect(record.value!.buffer).toBe(plain.buffer);
      for (const h of record.headers) expect(h.value!.buffer).toBe(plain.buffer);
    }
    const gzipped = only(seal(inputs, CompressionType.gzip));
    const [a, b] = [...gzipped.records()];
    expect(a!.value!.buffer).not.toBe(plain.buffer);
    expect(a!.value!.buffer).toBe(b!.value!.buffer);
  });

  it('iterates consecutive batches and stops before a trailing partial batch', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(recordInput, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 5 }),
        fc.nat(),
        (batches, cutSeed) => {
          const sealed = batches.map((inputs, i) => seal(inputs, i % 2 ? CompressionType.gzip : CompressionType.none, i * 100));
          const all = concat(sealed);
          expect([...readRecordBatches(all)].map((b) => b.baseOffset)).toEqual(sealed.map((_, i) => i * 100));
          const last = sealed[sealed.length - 1]!;
          // Cut strictly inside the last batch, so a partial batch always remains.
          const cut = all.length - 1 - (cutSeed % (last.length - 1));
          const views = [...readRecordBatches(all.subarray(0, cut))];
          expect(views).toHaveLength(sealed.length - 1);
          views.forEach((v, i) => expect(v.bytes).toEqual(sealed[i]));
          expect(isKafkaError(catchError(() => [...readRecordBatches(all.subarray(0, cut), { strict: true })]), 'CORRUPT_MESSAGE')).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('applies LogAppendTime: every record carries the batch maxTimestamp', () => {
    const builder = new RecordBatchBuilder({ timestampType: TimestampType.LogAppendTime });
    builder.append({ timestamp: 10 });
    builder.append({ timestamp: 50 });
    const batch = only(builder.seal());
    expect(batch.timestampType).toBe(TimestampType.LogAppendTime);
    expect([...batch.records()].map((r) => r.timestamp)).toEqual([50, 50]);
  });
});

describe('reading kafkajs-encoded batches', () => {
  it('decodes kafkajs producer batches to the messages produced', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            key: fc.option(fc.uint8Array({ maxLength: 32 }), { nil: null }).map((b) => (b === null ? null : Buffer.from(b))),
            value: fc.option(fc.uint8Array({ maxLength: 64 }), { nil: null }).map((b) => (b === null ? null : Buffer.from(b))),
            headers: fc.dictionary(
              fc.string({ unit: 'grapheme', maxLength: 6 }),
              fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b)),
              { maxKeys: 3, noNullPrototype: true },
            ),
            timestamp: fc.integer({ min: 1_600_000_000_000, max: 1_700_000_000_000 }),
          }),
          { minLength: 1, maxLength: 10 },
        ),
        fc.constantFrom(0 as const, 1 as const),
        fc.boolean(),
        async (messages, compression, transactional) => {
          const bytes = await kafkajsProduceBatch({
            messages,
            compression,
            producerId: 42,
            producerEpoch: 2,
            transactionalId: transactional ? 'tx' : null,
          });
          const batch = only(bytes);
          expect(batch.verifyCrc()).toBe(true);
          expect(batch.isTransactional).toBe(transactional);
          expect(batch.isControl).toBe(false);
          expect(batch.header.producerId).toBe(42);
          const inputs: RecordInput[] = messages.map((m) => ({ ...m, headers: kafkajsHeaderList(m.headers) }));
          expect(normalise(batch.records())).toEqual(normalise(expected(inputs)));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('decodes negative timestamp deltas and a non-zero base offset', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 0, max: 2 ** 45 }),
        fc.constantFrom(0 as const, 1 as const),
        async (deltas, firstOffset, compression) => {
          const firstTimestamp = 2 ** 42;
          const bytes = await kafkajsRawBatch({
            firstOffset,
            firstTimestamp,
            maxTimestamp: firstTimestamp + Math.max(...deltas),
            compression,
            records: deltas.map((timestampDelta, i) => ({
              key: null,
              value: Buffer.from([i]),
              headers: {},
              timestampDelta,
            })),
          });
          const records = [...only(bytes).records()];
          expect(records.map((r) => r.timestamp)).toEqual(deltas.map((d) => firstTimestamp + d));
          expect(records.map((r) => r.offset)).toEqual(deltas.map((_, i) => firstOffset + i));
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('integrity', () => {
  it('detects any single-byte change in the CRC-covered region', () => {
    fc.assert(
      fc.property(
        fc.array(recordInput, { minLength: 1, maxLength: 5 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        fc.constantFrom(CompressionType.none, CompressionType.gzip),
        (inputs, at, flip, compression) => {
          const sealed = seal(inputs, compression);
          const index = BatchOffset.attributes + (at % (sealed.length - BatchOffset.attributes));
          const mutated = sealed.slice();
          mutated[index]! ^= flip;
          expect(new RecordBatchView(mutated).verifyCrc()).toBe(false);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('keeps the CRC valid when the broker patches baseOffset and partitionLeaderEpoch', () => {
    const sealed = seal([{ value: new Uint8Array([1]), timestamp: 1 }]);
    const dv = new DataView(sealed.buffer, sealed.byteOffset);
    dv.setBigInt64(BatchOffset.baseOffset, 987654321n);
    dv.setInt32(BatchOffset.partitionLeaderEpoch, 12);
    const batch = only(sealed);
    expect(batch.verifyCrc()).toBe(true);
    expect([...batch.records()][0]!.offset).toBe(987654321);
  });

  it('never throws anything but KafkaError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (bytes, strict) => drain(bytes, strict)),
      { numRuns: 2000 },
    );
  });

  it('never throws anything but KafkaError on truncated or mutated batches', () => {
    fc.assert(
      fc.property(
        fc.array(recordInput, { minLength: 1, maxLength: 6 }),
        fc.constantFrom(CompressionType.none, CompressionType.gzip),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.nat(),
        fc.boolean(),
        (inputs, compression, edits, cutSeed, fixLength) => {
          const sealed = seal(inputs, compression).slice();
          const body = sealed.length - BATCH_RECORDS_AT;
          for (const [at, byte] of edits) sealed[BATCH_RECORDS_AT + (at % body)] = byte;
          const cut = sealed.subarray(0, BATCH_RECORDS_AT + (cutSeed % (body + 1)));
          // Re-declaring the length makes the reader reach the records instead of stopping early.
          if (fixLength) new DataView(cut.buffer, cut.byteOffset).setInt32(BatchOffset.batchLength, cut.length - 12);
          drain(cut, false);
          drain(cut, true);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('rejects a bad magic, a short batchLength and a length that disagrees with the view', () => {
    const sealed = seal([{ value: new Uint8Array([1]), timestamp: 1 }]);
    const badMagic = sealed.slice();
    badMagic[BatchOffset.magic] = 1;
    expect(isKafkaError(catchError(() => [...readRecordBatches(badMagic)]), 'CORRUPT_MESSAGE')).toBe(true);
    const shortLength = sealed.slice();
    new DataView(shortLength.buffer).setInt32(BatchOffset.batchLength, 10);
    expect(isKafkaError(catchError(() => [...readRecordBatches(shortLength)]), 'CORRUPT_MESSAGE')).toBe(true);
    expect(isKafkaError(catchError(() => new RecordBatchView(concat([sealed, new Uint8Array(1)]))), 'CORRUPT_MESSAGE')).toBe(true);
    expect(isKafkaError(catchError(() => new RecordBatchView(sealed.subarray(0, 60))), 'CORRUPT_MESSAGE')).toBe(true);
  });

  it('rejects record counts that disagree with the bytes, without allocating for them', () => {
    const sealed = seal([{ value: new Uint8Array([1]), timestamp: 1 }, { value: new Uint8Array([2]), timestamp: 1 }]);
    for (const [count, pattern] of [
      [0x7fff_ffff, /declares 2147483647 records but holds only 2/],
      [1, /bytes after its 1 declared records/],
      [-5, /declares -5 records/],
    ] as const) {
      const copy = sealed.slice();
      new DataView(copy.buffer).setInt32(BatchOffset.recordsCount, count);
      const error = catchError(() => [...only(copy).records()]);
      expect(isKafkaError(error, 'CORRUPT_MESSAGE')).toBe(true);
      expect((error as Error).message).toMatch(pattern);
    }
  });

  it('rejects a field length that runs past the record', () => {
    const sealed = seal([{ key: new Uint8Array([9]), value: new Uint8Array([1]), timestamp: 1 }]);
    // record: length, attributes, timestampDelta, offsetDelta, keyLength (zig-zag 1 = 0x02) at +4
    const copy = sealed.slice();
    copy[BATCH_RECORDS_AT + 4] = 0x7e;
    const error = catchError(() => [...only(copy).records()]);
    expect(isKafkaError(error, 'CORRUPT_MESSAGE')).toBe(true);
    expect((error as Error).message).toMatch(/key length 63 does not fit/);
  });

  it('rejects a record length that runs past the batch', () => {
    const sealed = seal([{ value: new Uint8Array([1]), timestamp: 1 }]);
    const copy = sealed.slice();
    copy[BATCH_RECORDS_AT] = 0x7e;
    const error = catchError(() => [...only(copy).records()]);
    expect(isKafkaError(error, 'CORRUPT_MESSAGE')).toBe(true);
    expect((error as Error).message).toMatch(/record 0 has length 63, but \d+ bytes remain/);
  });

  it('rejects a header key length that runs past the record', () => {
    const sealed = seal([{ value: null, headers: [{ key: 'ab', value: null }], timestamp: 1 }]);
    // length, attributes, timestampDelta, offsetDelta, key -1, value -1, headerCount, headerKeyLength at +7
    const copy = sealed.slice();
    expect(copy[BATCH_RECORDS_AT + 7]).toBe(4);
    copy[BATCH_RECORDS_AT + 7] = 0x10;
    const error = catchError(() => [...only(copy).records()]);
    expect((error as Error).message).toMatch(/header 0 key length 8 does not fit/);
  });

  it('rejects a record whose fields end before its declared length', () => {
    const one = seal([{ value: new Uint8Array([1, 2]), timestamp: 1 }]);
    // Shrink the value by one byte but keep the record length: the record now has a spare byte.
    const copy = one.slice();
    expect(copy[BATCH_RECORDS_AT + 5]).toBe(4);
    copy[BATCH_RECORDS_AT + 5] = 2;
    copy[BATCH_RECORDS_AT + 7] = 0; // headerCount now sits where the second value byte was
    const error = catchError(() => [...only(copy).records()]);
    expect(isKafkaError(error, 'CORRUPT_MESSAGE')).toBe(true);
    expect((error as Error).message).toMatch(/fields end 1 bytes early/);
  });

  for (const compression of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
    it(`bounds decompression and reports bad ${compression} data as CORRUPT_MESSAGE naming the codec`, () => {
      const builder = new RecordBatchBuilder({ compression, maxBatchBytes: 1 << 22 });
      builder.append({ value: new Uint8Array(2 << 20), timestamp: 1 });
      const bomb = builder.seal();
      expect(bomb.length).toBeLessThan(200_000);
      const [batch] = [...readRecordBatches(bomb, { maxDecompressedBytes: 1 << 20 })];
      const error = catchError(() => batch!.records());
      expect(isKafkaError(error, 'CORRUPT_MESSAGE')).toBe(true);
      expect((error as Error).message).toContain(`${compression} records decompress to more than 1048576 bytes`);
      expect([...only(bomb).records()][0]!.value!.length).toBe(2 << 20);

      const garbage = seal([{ value: new Uint8Array([1, 2, 3]), timestamp: 1 }], CompressionType[compression]).slice();
      garbage.fill(0x55, BATCH_RECORDS_AT);
      const garbageError = catchError(() => only(garbage).records());
      expect(isKafkaError(garbageError, 'CORRUPT_MESSAGE')).toBe(true);
      expect((garbageError as Error).message).toContain(`${compression} records cannot be decompressed`);
    });
  }

  it('reads a gzip member that decompresses to trailing bytes as corrupt', () => {
    const plain = seal([{ value: new Uint8Array([1]), timestamp: 1 }]);
    const records = concat([plain.subarray(BATCH_RECORDS_AT), new Uint8Array([0])]);
    const compressed = concat([plain.subarray(0, BATCH_RECORDS_AT), gzipSync(records)]);
    const dv = new DataView(compressed.buffer);
    dv.setInt32(BatchOffset.batchLength, compressed.length - 12);
    const batch = only(withCompression(compressed, CompressionType.gzip));
    expect(batch.verifyCrc()).toBe(true);
    expect(isKafkaError(catchError(() => [...batch.records()]), 'CORRUPT_MESSAGE')).toBe(true);
  });
});


describe('unsupported compression', () => {
  it('throws UNSUPPORTED_COMPRESSION_TYPE for attribute values 5-7, which name no codec', () => {
    const sealed = seal([{ value: new Uint8Array([1]), timestamp: 1 }]);
    for (const [type, message] of [
      [5, 'compression type 5 is not supported; use one of none, gzip, snappy, lz4, zstd'],
      [7, 'compression type 7 is not supported; use one of none, gzip, snappy, lz4, zstd'],
    ] as const) {
      const batch = only(withCompression(sealed, type));
      expect(batch.compression).toBe(type);
      expect(batch.verifyCrc()).toBe(true);
      const error = catchError(() => batch.records());
      expect(isKafkaError(error, 'UNSUPPORTED_COMPRESSION_TYPE')).toBe(true);
      expect((error as Error).message).toContain(message);
    }
  });
});
