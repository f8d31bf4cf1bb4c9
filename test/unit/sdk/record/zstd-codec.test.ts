import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Compressor, Decompressor } from 'zstd-napi';
import { isKafkaError } from '../../../../sdk/protocol/kafka-error.ts';
import { RecordBatchView } from '../../../../sdk/record/record-batch-reader.ts';
import { zstdCompress, zstdDecompress } from '../../../../sdk/record/zstd-codec.ts';
import { walkZstdFrames } from '../../../../sdk/record/zstd-frames.ts';
import { zstdWasmCompress, zstdWasmDecompress } from '../../../../sdk/record/zstd-wasm.ts';
import { caught, payload, payloadArbitrary } from './payloads.ts';

const MAX = 64 * 1024 * 1024;
const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));
const MAGIC = [0x28, 0xb5, 0x2f, 0xfd];

function expectCorrupt(fn: () => unknown, message: RegExp): void {
  const error = caught(fn);
  expect(isKafkaError(error, 'CORRUPT_MESSAGE')).toBe(true);
  expect((error as Error).message).toMatch(message);
}

function libzstd(parameters: { contentSizeFlag?: boolean; checksumFlag?: boolean } = {}): Compressor {
  const compressor = new Compressor();
  compressor.setParameters({ compressionLevel: 3, ...parameters });
  return compressor;
}

/** A frame with no content size (window 2 MiB) of `count` RLE blocks of 128 KiB each: tiny, and huge once decoded. */
function rleBomb(count: number): Uint8Array {
  const out = [...MAGIC, 0x00, 0x58];
  for (let i = 0; i < count; i++) {
    const header = ((128 * 1024) << 3) | (1 << 1) | (i === count - 1 ? 1 : 0);
    out.push(header & 0xff, (header >>> 8) & 0xff, (header >>> 16) & 0xff, 0x61);
  }
  return new Uint8Array(out);
}

describe('zstd codec', () => {
  it('writes frames libzstd (zstd-napi) reads, and reads the frames it writes with and without content size and checksum', () => {
    const decompressor = new Decompressor();
    const variants = [libzstd(), libzstd({ contentSizeFlag: false }), libzstd({ contentSizeFlag: false, checksumFlag: true })];
    fc.assert(
      fc.property(payloadArbitrary, (bytes) => {
        expect(same(decompressor.decompress(zstdCompress(bytes)), bytes)).toBe(true);
        for (const compressor of variants) expect(same(zstdDecompress(compressor.compress(bytes), MAX), bytes)).toBe(true);
      }),
      { numRuns: 20 },
    );
  });

  it('reads the batch librdkafka 2.0.2 wrote (kcat -z zstd): a frame with no content size', () => {
    const hex =
      '00000000000000000000005a0000000002b5701da0000400000002000001a248140caf000001a248140cafffffffffffffffffffffffffffff0000000328b52ffd0058050100b01a000000010e76616c75652d31001a0000023204330003008004842b881906';
    const batch = new RecordBatchView(Buffer.from(hex, 'hex'));
    expect(batch.verifyCrc()).toBe(true);
    expect(batch.compression).toBe(4);
    expect(walkZstdFrames(batch.bytes.subarray(61)).exact).toBe(false);
    expect([...batch.records()].map((r) => Buffer.from(r.value!).toString())).toEqual(['value-1', 'value-2', 'value-3']);
  });

  it('writes what the WebAssembly build writes and reads, whichever implementation this runtime uses', () => {
    const bytes = payload('text', 300_000, 5);
    expect(same(zstdDecompress(zstdWasmCompress(bytes, 3), MAX), bytes)).toBe(true);
    const decoded = zstdWasmDecompress(zstdCompress(bytes), bytes.length);
    expect(decoded instanceof Uint8Array && same(decoded, bytes)).toBe(true);
    expect(zstdWasmDecompress(zstdCompress(bytes), bytes.length - 1)).toBe('too-small');
  });

  it('skips skippable frames and reads frames back to back', () => {
    const a = payload('text', 10_000, 1);
    const b = payload('runs', 20_000, 2);
    const skippable = [0x5a, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 9, 9, 9];
    const joined = new Uint8Array([...skippable, ...zstdCompress(a), ...skippable, ...libzstd({ contentSizeFlag: false }).compress(b)]);
    expect(same(zstdDecompress(joined, MAX), new Uint8Array([...a, ...b]))).toBe(true);
    expectCorrupt(() => zstdDecompress(new Uint8Array(skippable), MAX), /only skippable frames/);
    expectCorrupt(() => zstdDecompress(new Uint8Array([...zstdCompress(a), 1, 2]), MAX), /2 trailing bytes after the last frame/);
  });

  it('refuses a declared content size past the bound before decoding', () => {
    // Single-segment frame declaring 2^40 bytes (8-byte content size), one empty raw block.
    const frame = new Uint8Array([...MAGIC, 0xe0, 0, 0, 0, 0, 0, 1, 0, 0, 0x01, 0, 0]);
    expectCorrupt(() => zstdDecompress(frame, MAX), /zstd records decompress to more than 67108864 bytes/);
    const declaredWrong = libzstd().compress(payload('text', 1000, 1));
    declaredWrong[5]! ^= 0x01;
    expectCorrupt(() => zstdDecompress(declaredWrong, MAX), /zstd records cannot be decompressed/);
  });

  it('stops a frame with no content size at the bound (RLE blocks: 4 bytes each, 128 KiB decoded)', () => {
    const bomb = rleBomb(64);
    expect(bomb.length).toBe(6 + 64 * 4);
    expect(walkZstdFrames(bomb)).toEqual({ bytes: 64 * 128 * 1024, exact: false, frames: [{ start: 0, end: bomb.length }] });
    expect(zstdDecompress(bomb, 64 * 128 * 1024).length).toBe(64 * 128 * 1024);
    expectCorrupt(() => zstdDecompress(bomb, 1024 * 1024), /zstd records decompress to more than 1048576 bytes/);
  });

  it('refuses reserved bits, dictionaries, reserved block types, oversized blocks and bad checksums', () => {
    expectCorrupt(() => zstdDecompress(new Uint8Array([...MAGIC, 0x08, 0x58, 1, 0, 0]), MAX), /reserved frame header bit/);
    expectCorrupt(() => zstdDecompress(new Uint8Array([...MAGIC, 0x01, 0x58, 7, 1, 0, 0]), MAX), /dictionary/);
    expectCorrupt(() => zstdDecompress(new Uint8Array([...MAGIC, 0x00, 0x58, 0x07, 0, 0]), MAX), /reserved block type/);
    // A raw block of 200 KiB in a frame whose window (1 KiB) caps blocks at 1 KiB.
    const header = ((200 * 1024) << 3) | 1;
    expectCorrupt(() => zstdDecompress(new Uint8Array([...MAGIC, 0x00, 0x00, header & 0xff, (header >>> 8) & 0xff, header >>> 16]), MAX), /exceeds the frame's 1024-byte maximum/);
    const checked = libzstd({ checksumFlag: true }).compress(payload('text', 5000, 4));
    checked[checked.length - 1]! ^= 0xff;
    expectCorrupt(() => zstdDecompress(checked, MAX), /zstd records cannot be decompressed/);
  });
});
