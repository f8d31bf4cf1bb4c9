import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../../../sdk/record/crc32c.ts';

/** Bit-at-a-time CRC-32C: slow, obviously right. */
function referenceCrc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}

describe('crc32c', () => {
  it('matches the standard check value', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it('agrees with a bitwise reference at every alignment, range and seed chaining', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(7), fc.nat(300), fc.nat(300), (raw, shift, a, b) => {
        const backing = new Uint8Array(raw.length + shift);
        backing.set(raw, shift);
        const bytes = backing.subarray(shift);
        const start = Math.min(a, b, bytes.length);
        const end = Math.min(Math.max(a, b), bytes.length);
        const expected = referenceCrc32c(bytes.slice(start, end));
        expect(crc32c(bytes, start, end)).toBe(expected);
        const middle = start + ((end - start) >>> 1);
        expect(crc32c(bytes, middle, end, crc32c(bytes, start, middle))).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });
});
