import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readInt64, writeInt64 } from '../../../../sdk/record/batch-header.ts';

describe('int64 header fields as numbers', () => {
  const dv = new DataView(new ArrayBuffer(16));

  it('reads any int64 as Number(BigInt) would, rounding beyond 2^53 the same way', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.integer({ min: 0, max: 8 }), (value, at) => {
        dv.setBigInt64(at, value);
        expect(readInt64(dv, at)).toBe(Number(value));
      }),
      { numRuns: 2000 },
    );
  });

  it('writes every safe integer exactly, and larger or fractional values as BigInt does', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 8 }), fc.oneof(fc.maxSafeNat(), fc.maxSafeNat().map((n) => -n), fc.integer(), fc.constantFrom(-1, 0, 2 ** 32, -(2 ** 32), 2 ** 32 - 1)), (at, value) => {
        writeInt64(dv, at, value);
        expect(dv.getBigInt64(at)).toBe(BigInt(value));
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (big) => {
        const value = Number(big);
        writeInt64(dv, 0, value);
        expect(dv.getBigInt64(0)).toBe(BigInt.asIntN(64, BigInt(value)));
      }),
    );
    expect(() => writeInt64(dv, 0, 1.5)).toThrow(RangeError);
    expect(() => writeInt64(dv, 0, Number.NaN)).toThrow(RangeError);
  });
});
