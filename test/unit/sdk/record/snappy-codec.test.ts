import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isKafkaError } from '../../../../sdk/protocol/kafka-error.ts';
import { snappyCompress, snappyDecompress } from '../../../../sdk/record/snappy-codec.ts';
import { kafkajsSnappy } from '../../../helpers/kafkajs-codecs.ts';
import { caught, payload, payloadArbitrary } from './payloads.ts';

const MAX = 64 * 1024 * 1024;
const HEADER = [0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1];
const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));

function expectCorrupt(fn: () => unknown, message: RegExp): void {
  const error = caught(fn);
  expect(isKafkaError(error, 'CORRUPT_MESSAGE')).toBe(true);
  expect((error as Error).message).toMatch(message);
}

/** The chunks of a snappy-java stream we wrote (one header, then length-prefixed chunks). */
function chunksOf(stream: Uint8Array): Uint8Array[] {
  const dv = new DataView(stream.buffer, stream.byteOffset, stream.byteLength);
  const chunks: Uint8Array[] = [];
  for (let p = 16; p < stream.length; p += 4 + dv.getInt32(p)) chunks.push(stream.subarray(p + 4, p + 4 + dv.getInt32(p)));
  return chunks;
}

/** A raw snappy block: uvarint length, then one literal element (fewer than 61 bytes). */
function rawLiteral(bytes: number[]): Uint8Array {
  return new Uint8Array([bytes.length, (bytes.length - 1) << 2, ...bytes]);
}

describe('snappy codec', () => {
  it("writes snappy-java's stream as the Java client does: header, version 1, compatible 1, a chunk per 32 KiB", async () => {
    const bytes = payload('text', 100_000, 9);
    const stream = snappyCompress(bytes);
    expect([...stream.subarray(0, 16)]).toEqual(HEADER);
    const chunks = chunksOf(stream);
    expect(chunks.length).toBe(Math.ceil(100_000 / 32768));
    // Each chunk is one raw snappy block of 32 KiB (the last one the rest), which snappyjs reads alone.
    for (const [i, chunk] of chunks.entries()) {
      const raw = await kafkajsSnappy.decompress(Buffer.from(chunk));
      expect(same(raw, bytes.subarray(i * 32768, (i + 1) * 32768))).toBe(true);
    }
  });

  it('writes streams kafkajs-snappy (snappyjs) reads, and reads the raw blocks it and librdkafka write', async () => {
    await fc.assert(
      fc.asyncProperty(payloadArbitrary, async (bytes) => {
        expect(same(await kafkajsSnappy.decompress(Buffer.from(snappyCompress(bytes))), bytes)).toBe(true);
        const raw = await kafkajsSnappy.compress({ buffer: Buffer.from(bytes) });
        expect(raw.subarray(0, 8).equals(Buffer.from(HEADER.slice(0, 8)))).toBe(false);
        expect(same(snappyDecompress(raw, MAX), bytes)).toBe(true);
      }),
      { numRuns: 20 },
    );
  });

  it('reads two snappy-java streams back to back, as snappy-java does', () => {
    const a = payload('text', 40_000, 1);
    const b = payload('random', 1000, 2);
    expect(same(snappyDecompress(new Uint8Array([...snappyCompress(a), ...snappyCompress(b)]), MAX), new Uint8Array([...a, ...b]))).toBe(true);
  });

  it('writes empty input as one empty chunk, which every reader takes for no bytes', async () => {
    const stream = snappyCompress(new Uint8Array(0));
    expect([...stream]).toEqual([...HEADER, 0, 0, 0, 1, 0]);
    expect((await kafkajsSnappy.decompress(Buffer.from(stream))).length).toBe(0);
    expect(snappyDecompress(stream, MAX).length).toBe(0);
  });

  it('refuses declared sizes past the bound before decoding, and sizes a block cannot hold', () => {
    // Raw block declaring 2^32 - 1 bytes.
    expectCorrupt(() => snappyDecompress(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00]), MAX), /decompress to more than 67108864 bytes/);
    // Declares 1 MiB in a 6-byte block: within the bound, but no snappy element expands that much.
    expectCorrupt(() => snappyDecompress(new Uint8Array([0x80, 0x80, 0x40, 0x00, 0x00, 0x00]), MAX), /cannot hold the 1048576 bytes it declares/);
    expectCorrupt(() => snappyDecompress(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), MAX), /longer than 5 bytes/);
    // Chunks that together declare more than the bound.
    const block = snappyCompress(new Uint8Array(600_000));
    expectCorrupt(() => snappyDecompress(block, 500_000), /decompress to more than 500000 bytes/);
  });

  it('refuses broken snappy-java framing and broken blocks', () => {
    expectCorrupt(() => snappyDecompress(new Uint8Array(HEADER), MAX), /holds no chunk/);
    expectCorrupt(() => snappyDecompress(new Uint8Array([...HEADER, 0, 0, 0, 9, ...rawLiteral([1, 2])]), MAX), /declares 9 bytes, 4 remain/);
    expectCorrupt(() => snappyDecompress(new Uint8Array([...HEADER, 0, 0, 0, 4, ...rawLiteral([1, 2]), 0, 0]), MAX), /ends inside a chunk length/);
    // A literal element longer than its block.
    expectCorrupt(() => snappyDecompress(new Uint8Array([5, 4 << 2, 1, 2]), MAX), /snappy records cannot be decompressed/);
    // A copy reaching before the start of the output.
    expectCorrupt(() => snappyDecompress(new Uint8Array([4, 0x01, 0x05]), MAX), /snappy records cannot be decompressed/);
    expect([...snappyDecompress(new Uint8Array([...HEADER, 0, 0, 0, 4, ...rawLiteral([1, 2])]), MAX)]).toEqual([1, 2]);
  });
});
