import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Utf8Arena } from '../../../../broker/http/utf8-arena.ts';

const encoder = new TextEncoder();

describe('Utf8Arena', () => {
  it('encodes every string like TextEncoder, and earlier views keep their bytes as later strings fill and replace chunks', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme', maxLength: 30_000 })), { maxLength: 40 }), (texts) => {
        const arena = new Utf8Arena();
        const views = texts.map((text) => arena.encode(text));
        views.forEach((view, i) => expect(view).toEqual(encoder.encode(texts[i]!)));
      }),
      { numRuns: 200 },
    );
  });

  it('keeps views intact across chunk boundaries and strings larger than a chunk', () => {
    const texts = ['a'.repeat(21_000), 'é'.repeat(30_000), '😀'.repeat(5_000), 'b'.repeat(70_000), 'c'];
    const arena = new Utf8Arena();
    const views = texts.map((text) => arena.encode(text));
    views.forEach((view, i) => expect(view).toEqual(encoder.encode(texts[i]!)));
  });

  it('writes a lone surrogate as U+FFFD', () => {
    expect(new Utf8Arena().encode('a\ud800b')).toEqual(Uint8Array.of(0x61, 0xef, 0xbf, 0xbd, 0x62));
  });
});
