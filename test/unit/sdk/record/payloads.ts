import fc from 'fast-check';

/** Test payloads made from a seed: incompressible, text-like (what records hold) and long runs. */
export type PayloadKind = 'random' | 'text' | 'runs';

export function payload(kind: PayloadKind, size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed | 1;
  const next = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  if (kind === 'random') {
    for (let i = 0; i < size; i++) out[i] = next() & 0xff;
  } else if (kind === 'text') {
    const words = ['{"id":', '"user":"u-', '"event":"click"', '"amount":', ',', '}\n', 'value-', '"tags":["a","b"]'];
    let i = 0;
    while (i < size) {
      const word = next() % 3 === 0 ? String(next() % 100000) : words[next() % words.length]!;
      for (let j = 0; j < word.length && i < size; j++) out[i++] = word.charCodeAt(j);
    }
  } else {
    let i = 0;
    while (i < size) {
      const run = Math.min(size - i, 1 + (next() % 5000));
      out.fill(next() & 0xff, i, i + run);
      i += run;
    }
  }
  return out;
}

/** A payload of 0 bytes to a few MiB, mostly small, of any kind. */
export const payloadArbitrary: fc.Arbitrary<Uint8Array> = fc
  .record({
    kind: fc.constantFrom<PayloadKind>('random', 'text', 'runs'),
    size: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 200_000 }), fc.integer({ min: 0, max: 3 * 1024 * 1024 })),
    seed: fc.integer(),
  })
  .map(({ kind, size, seed }) => payload(kind, size, seed));

export function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}
