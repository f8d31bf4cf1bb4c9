import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isKafkaError, longSerde } from '../../../../sdk/mod.ts';

describe('longSerde', () => {
  it('round-trips every safe integer as 8 bytes big-endian two’s complement, as Java’s LongSerializer writes', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (value) => {
        const bytes = longSerde.serialize(value);
        const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
        expect(bytes.length).toBe(8);
        expect(view.getBigInt64(0)).toBe(BigInt(value));
        expect(longSerde.deserialize(bytes)).toBe(value);
      }),
    );
    expect([...longSerde.serialize(-1)]).toEqual([255, 255, 255, 255, 255, 255, 255, 255]);
    expect([...longSerde.serialize(258)]).toEqual([0, 0, 0, 0, 0, 0, 1, 2]);
  });

  it('refuses what does not fit: fractions, unsafe integers, bytes that are not 8 or hold a long beyond 2^53', () => {
    for (const value of [1.5, Number.MAX_SAFE_INTEGER + 1, Number.NaN]) expect(() => longSerde.serialize(value)).toThrow(/not a safe integer/);
    expect(() => longSerde.deserialize(new Uint8Array(4))).toThrow(/8 bytes, not 4/);
    const huge = new Uint8Array(8);
    new DataView(huge.buffer).setBigInt64(0, 2n ** 60n);
    try {
      longSerde.deserialize(huge);
      expect.unreachable();
    } catch (error) {
      expect(isKafkaError(error) && error.errorName).toBe('CORRUPT_MESSAGE');
    }
  });
});
