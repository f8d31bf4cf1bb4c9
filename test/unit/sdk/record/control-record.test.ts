import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isKafkaError } from '../../../../sdk/protocol/kafka-error.ts';
import {
  buildControlBatch,
  ControlRecordType,
  parseControlRecord,
  readBatchHeader,
  readRecordBatches,
} from '../../../../sdk/record/mod.ts';
import { kafkajsDecodeBatch } from './kafkajs-oracle.ts';

describe('control batches', () => {
  it('writes the exact transaction-marker bytes', () => {
    const bytes = buildControlBatch({
      producerId: 0x0102,
      producerEpoch: 3,
      type: 'COMMIT',
      coordinatorEpoch: 0x0a0b0c0d,
      timestamp: 1_700_000_000_000,
      baseOffset: 500,
    });
    const header = readBatchHeader(bytes);
    expect(header).toMatchObject({
      baseOffset: 500,
      batchLength: bytes.length - 12,
      magic: 2,
      attributes: 0x30,
      lastOffsetDelta: 0,
      baseTimestamp: 1_700_000_000_000,
      maxTimestamp: 1_700_000_000_000,
      producerId: 0x0102,
      producerEpoch: 3,
      baseSequence: -1,
      recordsCount: 1,
    });
    // length 16 (zig-zag 0x20) | attributes 0 | timestampDelta 0 | offsetDelta 0 |
    // key length 4 (0x08) 0000 0001 | value length 6 (0x0c) 0000 0a0b0c0d | header count 0
    expect(Buffer.from(bytes.subarray(61)).toString('hex')).toBe('20' + '00' + '00' + '00' + '08' + '00000001' + '0c' + '00000a0b0c0d' + '00');
    expect(bytes.length).toBe(61 + 17);
  });

  it('round-trips COMMIT and ABORT markers', () => {
    fc.assert(
      fc.property(
        fc.record({
          producerId: fc.integer({ min: 0, max: 2 ** 50 }),
          producerEpoch: fc.integer({ min: 0, max: 0x7fff }),
          type: fc.constantFrom('COMMIT' as const, 'ABORT' as const),
          coordinatorEpoch: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
          timestamp: fc.integer({ min: 0, max: 2 ** 45 }),
          baseOffset: fc.integer({ min: 0, max: 2 ** 50 }),
        }),
        (options) => {
          const batches = [...readRecordBatches(buildControlBatch(options))];
          expect(batches).toHaveLength(1);
          const batch = batches[0]!;
          expect(batch.isControl).toBe(true);
          expect(batch.isTransactional).toBe(true);
          expect(batch.verifyCrc()).toBe(true);
          expect(batch.header.producerId).toBe(options.producerId);
          const records = [...batch.records()];
          expect(records).toHaveLength(1);
          expect(records[0]!.offset).toBe(options.baseOffset);
          expect(records[0]!.timestamp).toBe(options.timestamp);
          expect(parseControlRecord(records[0]!)).toEqual({
            version: 0,
            type: options.type,
            coordinatorEpoch: options.coordinatorEpoch,
          });
        },
      ),
    );
  });

  it('is read by kafkajs as a control batch whose key kafkajs recognises', async () => {
    for (const type of ['ABORT', 'COMMIT'] as const) {
      const decoded = await kafkajsDecodeBatch(
        buildControlBatch({ producerId: 9, producerEpoch: 1, type, coordinatorEpoch: 0, timestamp: 1 }),
      );
      expect(decoded.isControlBatch).toBe(true);
      expect(decoded.inTransaction).toBe(true);
      expect(decoded.records[0]!.isControlRecord).toBe(true);
      // kafkajs treats key 00000000 as an ABORT marker (consumer/filterAbortedMessages.js).
      expect(decoded.records[0]!.key!.toString('hex')).toBe(type === 'ABORT' ? '00000000' : '00000001');
      expect(ControlRecordType[type]).toBe(decoded.records[0]!.key!.readInt16BE(2));
    }
  });

  it('rejects malformed control keys with CORRUPT_MESSAGE and tolerates a short value', () => {
    const base = { offset: 0, timestamp: 0, headers: [] };
    for (const key of [null, new Uint8Array(3), new Uint8Array([0, 0, 0, 2])]) {
      let caught: unknown;
      try {
        parseControlRecord({ ...base, key, value: null });
      } catch (error) {
        caught = error;
      }
      expect(isKafkaError(caught, 'CORRUPT_MESSAGE')).toBe(true);
    }
    expect(parseControlRecord({ ...base, key: new Uint8Array([0, 0, 0, 1]), value: new Uint8Array(2) })).toEqual({
      version: 0,
      type: 'COMMIT',
      coordinatorEpoch: undefined,
    });
  });
});
