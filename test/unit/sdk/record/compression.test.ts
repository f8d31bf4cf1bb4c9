import { gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isKafkaError } from '../../../../sdk/protocol/kafka-error.ts';
import { CompressionType, compress, decompress, supportedCompressionType } from '../../../../sdk/record/mod.ts';

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('compression', () => {
  it('maps names and attribute values to the supported codecs', () => {
    expect(supportedCompressionType('none')).toBe(CompressionType.none);
    expect(supportedCompressionType(0)).toBe(CompressionType.none);
    expect(supportedCompressionType('gzip')).toBe(CompressionType.gzip);
    expect(supportedCompressionType(1)).toBe(CompressionType.gzip);
  });

  it('refuses snappy, lz4, zstd and unknown codecs by name and by value', () => {
    const cases: [string | number, string][] = [
      [2, 'snappy compression is not supported; use gzip or none'],
      ['snappy', 'snappy compression is not supported; use gzip or none'],
      [3, 'lz4 compression is not supported; use gzip or none'],
      [4, 'zstd compression is not supported; use gzip or none'],
      [6, 'compression type 6 is not supported; use gzip or none'],
    ];
    for (const [type, message] of cases) {
      const error = caught(() => supportedCompressionType(type as 'none'));
      expect(isKafkaError(error, 'UNSUPPORTED_COMPRESSION_TYPE')).toBe(true);
      expect((error as Error).message).toContain(message);
      if (typeof type === 'number') {
        expect(isKafkaError(caught(() => compress(type, new Uint8Array(1))), 'UNSUPPORTED_COMPRESSION_TYPE')).toBe(true);
        expect(isKafkaError(caught(() => decompress(type, new Uint8Array(1))), 'UNSUPPORTED_COMPRESSION_TYPE')).toBe(true);
      }
    }
  });

  it('round-trips gzip and writes standard gzip', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), (bytes) => {
        const packed = compress(CompressionType.gzip, bytes);
        expect(Buffer.from(gunzipSync(packed))).toEqual(Buffer.from(bytes));
        expect(Buffer.from(decompress(CompressionType.gzip, packed))).toEqual(Buffer.from(bytes));
        expect(compress(CompressionType.none, bytes)).toBe(bytes);
      }),
    );
  });

  it('caps decompressed output and reports it as CORRUPT_MESSAGE', () => {
    const packed = gzipSync(new Uint8Array(100_000));
    expect(decompress(CompressionType.gzip, packed, 100_000).length).toBe(100_000);
    const error = caught(() => decompress(CompressionType.gzip, packed, 99_999));
    expect(isKafkaError(error, 'CORRUPT_MESSAGE')).toBe(true);
    expect((error as Error).message).toMatch(/more than 99999 bytes/);
  });

  it('reports invalid or truncated gzip data as CORRUPT_MESSAGE', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.nat(), (bytes, cutSeed) => {
        const packed = gzipSync(bytes);
        const truncated = packed.subarray(0, cutSeed % packed.length);
        expect(isKafkaError(caught(() => decompress(CompressionType.gzip, truncated)), 'CORRUPT_MESSAGE')).toBe(true);
      }),
    );
    expect(isKafkaError(caught(() => decompress(CompressionType.gzip, new Uint8Array([1, 2, 3, 4]))), 'CORRUPT_MESSAGE')).toBe(true);
  });
});
