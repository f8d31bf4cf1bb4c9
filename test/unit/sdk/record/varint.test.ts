import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isKafkaError } from '../../../../sdk/protocol/kafka-error.ts';
import {
  byteCursor,
  readUnsignedVarint,
  readVarint,
  readVarlong,
  sizeOfUnsignedVarint,
  sizeOfVarint,
  sizeOfVarlong,
  writeUnsignedVarint,
  writeVarint,
  writeVarlong,
} from '../../../../sdk/record/varint.ts';

const require = createRequire(import.meta.url);
const KafkajsEncoder = require('kafkajs/src/protocol/encoder') as new () => {
  writeVarInt(v: number): unknown;
  writeVarLong(v: unknown): unknown;
  writeUVarInt(v: number): unknown;
  buffer: Buffer;
};
const Long = require('kafkajs/src/utils/long') as { fromString(s: string): unknown };

function encode(write: (b: Uint8Array, p: number, v: number) => number, value: number): Uint8Array {
  const buf = new Uint8Array(16);
  return buf.subarray(0, write(buf, 0, value));
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

function expectCorrupt(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    expect(isKafkaError(error, 'CORRUPT_MESSAGE'), String(error)).toBe(true);
    return;
  }
  expect.fail('expected CORRUPT_MESSAGE');
}

describe('varint', () => {
  it('encodes the zig-zag vectors of the Kafka spec', () => {
    const vectors: [number, string][] = [
      [0, '00'],
      [-1, '01'],
      [1, '02'],
      [63, '7e'],
      [-64, '7f'],
      [64, '8001'],
      [-65, '8101'],
      [300, 'd804'],
      [2147483647, 'feffffff0f'],
      [-2147483648, 'ffffffff0f'],
    ];
    for (const [value, bytes] of vectors) {
      expect(hex(encode(writeVarint, value))).toBe(bytes);
      expect(sizeOfVarint(value)).toBe(bytes.length / 2);
      expect(readVarint(byteCursor(Buffer.from(bytes, 'hex')))).toBe(value);
    }
  });

  it('round-trips every int32 and matches kafkajs bytes', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (value) => {
        const bytes = encode(writeVarint, value);
        expect(bytes.length).toBe(sizeOfVarint(value));
        const c = byteCursor(bytes);
        expect(readVarint(c)).toBe(value);
        expect(c.pos).toBe(bytes.length);
        const oracle = new KafkajsEncoder();
        oracle.writeVarInt(value);
        expect(hex(bytes)).toBe(oracle.buffer.toString('hex'));
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trips unsigned varints across 32 bits', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (value) => {
        const bytes = encode(writeUnsignedVarint, value);
        expect(bytes.length).toBe(sizeOfUnsignedVarint(value));
        expect(readUnsignedVarint(byteCursor(bytes))).toBe(value);
        if (value <= 2 ** 31 - 1) {
          const oracle = new KafkajsEncoder();
          oracle.writeUVarInt(value);
          expect(hex(bytes)).toBe(oracle.buffer.toString('hex'));
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('varlong', () => {
  const safeInt = fc.oneof(
    fc.integer({ min: -(2 ** 31), max: 2 ** 31 }),
    fc.maxSafeInteger(),
    fc.integer({ min: -(2 ** 12), max: 2 ** 12 }).map((d) => Number.MAX_SAFE_INTEGER - Math.abs(d)),
    fc.integer({ min: -(2 ** 12), max: 2 ** 12 }).map((d) => Number.MIN_SAFE_INTEGER + Math.abs(d)),
    fc.integer({ min: 0, max: 53 }).chain((k) =>
      fc.constantFrom(2 ** k, 2 ** k - 1, -(2 ** k), -(2 ** k) + 1, -(2 ** k) - 1).filter(Number.isSafeInteger),
    ),
  );

  it('round-trips every safe integer and matches kafkajs bytes', () => {
    fc.assert(
      fc.property(safeInt, (value) => {
        const bytes = encode(writeVarlong, value);
        expect(bytes.length).toBe(sizeOfVarlong(value));
        const c = byteCursor(bytes);
        expect(readVarlong(c)).toBe(value);
        expect(c.pos).toBe(bytes.length);
        const oracle = new KafkajsEncoder();
        oracle.writeVarLong(Long.fromString(String(value)));
        expect(hex(bytes)).toBe(oracle.buffer.toString('hex'));
      }),
      { numRuns: 3000 },
    );
  });

  it('reads int32 varints written as varint (same wire form for small values)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (value) => {
        expect(readVarlong(byteCursor(encode(writeVarint, value)))).toBe(value);
      }),
    );
  });

  it('rejects int64 values outside the safe integer range as corrupt', () => {
    const oracle = new KafkajsEncoder();
    oracle.writeVarLong(Long.fromString('9223372036854775807'));
    expectCorrupt(() => readVarlong(byteCursor(oracle.buffer)));
    const justOver = new KafkajsEncoder();
    justOver.writeVarLong(Long.fromString(String(2n ** 53n)));
    expectCorrupt(() => readVarlong(byteCursor(justOver.buffer)));
  });

  it('refuses to write a value that is not a safe integer', () => {
    expect(() => encode(writeVarlong, 2 ** 53)).toThrow(/safe integer/);
  });
});

describe('bounds', () => {
  it('throws CORRUPT_MESSAGE on every truncation', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (value) => {
        const bytes = encode(writeVarlong, value);
        for (let cut = 0; cut < bytes.length; cut++) {
          expectCorrupt(() => readVarlong(byteCursor(bytes, 0, cut)));
          if (bytes.length <= 5) expectCorrupt(() => readVarint(byteCursor(bytes, 0, cut)));
        }
      }),
    );
  });

  it('never reads past the cursor end even when the buffer continues', () => {
    const bytes = Buffer.from('8080808001', 'hex');
    expectCorrupt(() => readVarint(byteCursor(bytes, 0, 2)));
  });

  it('rejects over-long varints and varlongs', () => {
    expectCorrupt(() => readVarint(byteCursor(Buffer.from('ffffffff1f', 'hex'))));
    expectCorrupt(() => readVarint(byteCursor(Buffer.from('ffffffff8f01', 'hex'))));
    expectCorrupt(() => readVarlong(byteCursor(Buffer.from('80808080808080808080 00'.replace(' ', ''), 'hex'))));
    expectCorrupt(() => readUnsignedVarint(byteCursor(Buffer.from('ffffffffff01', 'hex'))));
  });

  it('accepts non-canonical padding within the maximum length', () => {
    expect(readVarint(byteCursor(Buffer.from('8280808000', 'hex')))).toBe(1);
    expect(readVarlong(byteCursor(Buffer.from('82808080808080808000', 'hex')))).toBe(1);
  });

  it('never throws anything but KafkaError on random input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), (bytes) => {
        for (const read of [readVarint, readVarlong, readUnsignedVarint]) {
          try {
            const value = read(byteCursor(bytes));
            expect(Number.isSafeInteger(value)).toBe(true);
          } catch (error) {
            expect(isKafkaError(error, 'CORRUPT_MESSAGE'), String(error)).toBe(true);
          }
        }
      }),
      { numRuns: 3000 },
    );
  });
});
