import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readInt64BE, writeInt64BE } from '../../../../sdk/serde/int64.ts';

describe('int64 big-endian helpers', () => {
  it('write what DataView.setBigInt64 writes and read back every safe integer', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), fc.nat(8), (value, pos) => {
        const ours = new Uint8Array(16);
        writeInt64BE(ours, pos, value);
        const reference = new Uint8Array(16);
        new DataView(reference.buffer).setBigInt64(pos, BigInt(value));
        expect(ours).toEqual(reference);
        expect(readInt64BE(ours, pos)).toBe(value);
      }),
      { numRuns: 2000 },
    );
  });

  it('reads values beyond the safe range as their nearest number', () => {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setBigInt64(0, 2n ** 62n + 1n);
    expect(readInt64BE(bytes, 0)).toBe(Number(2n ** 62n + 1n));
    expect(Number.isSafeInteger(readInt64BE(bytes, 0))).toBe(false);
  });
});
