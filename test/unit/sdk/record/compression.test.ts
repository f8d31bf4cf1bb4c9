import { gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isKafkaError } from '../../../../sdk/protocol/kafka-error.ts';
import { CompressionError } from '../../../../sdk/record/compression-error.ts';
import { CompressionType, compress, decompress, supportedCompressionType } from '../../../../sdk/record/mod.ts';
import { caught, payload, payloadArbitrary } from './payloads.ts';

const CODECS = [
  ['gzip', CompressionType.gzip],
  ['snappy', CompressionType.snappy],
  ['lz4', CompressionType.lz4],
  ['zstd', CompressionType.zstd],
] as const;

/** Asserts `error` is the codec's CORRUPT_MESSAGE, non-retriable, naming the codec. */
function expectCorrupt(error: unknown, codec: string): void {
  expect(error).toBeInstanceOf(CompressionError);
  expect(isKafkaError(error, 'CORRUPT_MESSAGE')).toBe(true);
  expect((error as CompressionError).compression).toBe(codec);
  expect((error as CompressionError).retriable).toBe(false);
  expect((error as Error).message).toContain(`${codec} records`);
}

describe('compression', () => {
  it('maps names and attribute values to codecs', () => {
    for (const [name, type] of [['none', 0], ...CODECS] as const) {
      expect(supportedCompressionType(name)).toBe(type);
      expect(supportedCompressionType(type)).toBe(type);
    }
  });

  it('refuses attribute values 5-7 and unknown names with UNSUPPORTED_COMPRESSION_TYPE', () => {
    for (const type of [5, 6, 7, -1, 1.5]) {
      for (const fn of [() => supportedCompressionType(type), () => compress(type, new Uint8Array(1)), () => decompress(type, new Uint8Array(1))]) {
        const error = caught(fn);
        expect(isKafkaError(error, 'UNSUPPORTED_COMPRESSION_TYPE')).toBe(true);
        expect((error as Error).message).toContain(`compression type ${type} is not supported; use one of none, gzip, snappy, lz4, zstd`);
      }
    }
    expect((caught(() => supportedCompressionType('brotli' as 'none')) as Error).message).toContain('compression "brotli" is not supported');
  });

  it('passes uncompressed records through as they are', () => {
    const bytes = new Uint8Array([1, 2, 3]);
    expect(compress(CompressionType.none, bytes)).toBe(bytes);
    expect(decompress(CompressionType.none, bytes)).toBe(bytes);
  });

  for (const [name, type] of CODECS) {
    describe(name, () => {
      it('round-trips random, text-like and run-heavy payloads from 0 bytes to a few MiB', () => {
        fc.assert(
          fc.property(payloadArbitrary, (bytes) => {
            const packed = compress(type, bytes);
            expect(Buffer.from(decompress(type, packed)).equals(Buffer.from(bytes))).toBe(true);
          }),
          { numRuns: 30 },
        );
      });

      it('compresses text-like records', () => {
        const text = payload('text', 200_000, 7);
        expect(compress(type, text).length).toBeLessThan(text.length / 2);
      });

      it('refuses output past maxOutputBytes as CORRUPT_MESSAGE, and allows exactly the bound', () => {
        const zeros = new Uint8Array(300_000);
        const packed = compress(type, zeros);
        expect(decompress(type, packed, zeros.length).length).toBe(zeros.length);
        const error = caught(() => decompress(type, packed, zeros.length - 1));
        expectCorrupt(error, name);
        expect((error as Error).message).toContain(`decompress to more than ${zeros.length - 1} bytes`);
      });

      it('reports every truncation as CORRUPT_MESSAGE', () => {
        const packed = compress(type, payload('text', 5000, 3));
        for (let cut = 0; cut < packed.length; cut++) expectCorrupt(caught(() => decompress(type, packed.subarray(0, cut))), name);
      });

      it('reports random bytes and flipped bits as CORRUPT_MESSAGE or bounded output, never anything else', () => {
        fc.assert(
          fc.property(fc.uint8Array({ minLength: 0, maxLength: 2000 }), (bytes) => {
            let out: Uint8Array | undefined;
            const error = caught(() => (out = decompress(type, bytes, 1 << 20)));
            // Raw snappy has no magic, so a few random inputs are valid blocks ([0] is the empty one);
            // every other codec starts with a magic that random bytes do not hit.
            if (error === undefined && name === 'snappy') expect(out!.length).toBeLessThanOrEqual(1 << 20);
            else expectCorrupt(error, name);
          }),
          { numRuns: 200 },
        );
        const packed = compress(type, payload('text', 20_000, 11));
        fc.assert(
          fc.property(fc.nat(packed.length - 1), fc.integer({ min: 1, max: 255 }), (at, flip) => {
            const mutated = packed.slice();
            mutated[at]! ^= flip;
            let out: Uint8Array | undefined;
            const error = caught(() => (out = decompress(type, mutated, 1 << 20)));
            if (error === undefined) expect(out!.length).toBeLessThanOrEqual(1 << 20);
            else expectCorrupt(error, name);
          }),
          { numRuns: 300 },
        );
      });
    });
  }

  it('writes standard gzip', () => {
    const bytes = payload('text', 10_000, 5);
    expect(Buffer.from(gunzipSync(compress(CompressionType.gzip, bytes))).equals(Buffer.from(bytes))).toBe(true);
    expect(Buffer.from(decompress(CompressionType.gzip, gzipSync(bytes))).equals(Buffer.from(bytes))).toBe(true);
  });
});
