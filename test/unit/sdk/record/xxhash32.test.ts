import { describe, expect, it } from 'vitest';
import { xxhash32 } from '../../../../sdk/record/xxhash32.ts';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('xxhash32', () => {
  it('matches the reference implementation', () => {
    // Values from xxHash's C code (the lz4 package's native binding), seed 0.
    expect(xxhash32(text(''))).toBe(0x02cc5d05);
    expect(xxhash32(text('a'))).toBe(0x550d7456);
    expect(xxhash32(text('abc'))).toBe(0x32d153ff);
    expect(xxhash32(text('Nobody inspects the spammish repetition'))).toBe(0xe2293b2f);
    expect(xxhash32(text('x'.repeat(100)))).toBe(0x4bd30d3a);
  });

  it('hashes a range of a larger buffer as the same bytes alone', () => {
    const inner = text('Nobody inspects the spammish repetition');
    const outer = new Uint8Array(inner.length + 7);
    outer.set(inner, 3);
    expect(xxhash32(outer, 3, 3 + inner.length)).toBe(0xe2293b2f);
  });
});
