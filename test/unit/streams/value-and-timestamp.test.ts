import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonSerde, longSerde, stringSerde } from '../../../sdk/mod.ts';
import { binaryCodec } from '../../../streams/state/binary-codec.ts';
import { binaryOf } from '../../../streams/state/binary-string.ts';
import { timestampedSerde } from '../../../streams/mod.ts';

describe('timestampedSerde', () => {
  it('writes the timestamp as 8 bytes big-endian, then the value’s own bytes, and reads both back', () => {
    const serde = timestampedSerde(jsonSerde<unknown>());
    fc.assert(
      fc.property(fc.maxSafeInteger(), fc.jsonValue(), (timestamp, value) => {
        const bytes = serde.serialize({ value, timestamp });
        expect(new DataView(bytes.buffer, bytes.byteOffset).getBigInt64(0)).toBe(BigInt(timestamp));
        expect(bytes.subarray(8)).toEqual(jsonSerde<unknown>().serialize(value));
        expect(serde.deserialize(bytes)).toEqual({ value: JSON.parse(JSON.stringify(value)) as unknown, timestamp });
      }),
    );
  });

  it('reads a value inside a larger buffer at an offset, and refuses fewer than 8 bytes', () => {
    const bytes = timestampedSerde(stringSerde).serialize({ value: 'héllo', timestamp: 1_700_000_000_123 });
    const framed = new Uint8Array(bytes.length + 5);
    framed.set(bytes, 3);
    expect(timestampedSerde(stringSerde).deserialize(framed.subarray(3, 3 + bytes.length))).toEqual({ value: 'héllo', timestamp: 1_700_000_000_123 });
    expect(() => timestampedSerde(stringSerde).deserialize(new Uint8Array(7))).toThrow(/at least 8 bytes, got 7/);
  });

  it('gives stores the binary strings of its bytes, and reads them back as deserialize does', () => {
    const cases = [
      { serde: timestampedSerde(jsonSerde<unknown>()), value: fc.jsonValue() },
      { serde: timestampedSerde(stringSerde), value: fc.string({ unit: 'binary' }) },
      { serde: timestampedSerde(longSerde), value: fc.maxSafeInteger() },
    ] as const;
    for (const { serde, value } of cases) {
      const codec = binaryCodec(serde as ReturnType<typeof timestampedSerde<unknown>>);
      fc.assert(
        fc.property(fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }), value as fc.Arbitrary<unknown>, (timestamp, v) => {
          const bytes = (serde as ReturnType<typeof timestampedSerde<unknown>>).serialize({ value: v, timestamp });
          const binary = codec.encode({ value: v, timestamp });
          expect(binary).toBe(binaryOf(bytes));
          expect(codec.decode(binary)).toEqual((serde as ReturnType<typeof timestampedSerde<unknown>>).deserialize(bytes));
        }),
        { numRuns: 50 },
      );
    }
    expect(() => binaryCodec(timestampedSerde(stringSerde)).decode('1234567')).toThrow(/at least 8 bytes, got 7/);
  });
});
