import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isKafkaError } from '../../../../sdk/protocol/kafka-error.ts';
import { lz4Compress, lz4Decompress } from '../../../../sdk/record/lz4-codec.ts';
import { xxhash32 } from '../../../../sdk/record/xxhash32.ts';
import { kafkajsLz4 } from '../../../helpers/kafkajs-codecs.ts';
import { caught, payload, payloadArbitrary } from './payloads.ts';

const MAX = 64 * 1024 * 1024;
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);
const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));

function u32le(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

/** A literal-only LZ4 block holding `bytes` (fewer than 15). */
function literalBlock(bytes: Uint8Array): Uint8Array {
  return new Uint8Array([bytes.length << 4, ...bytes]);
}

interface FrameOptions {
  flg?: number;
  bd?: number;
  contentSize?: number;
  blockChecksums?: boolean;
  contentChecksum?: Uint8Array;
  legacyHeaderChecksum?: boolean;
}

/** Builds a frame by hand from compressed blocks, with the checksums the options ask for. */
function frame(blocks: Uint8Array[], options: FrameOptions = {}): Uint8Array {
  let flg = options.flg ?? 0x60;
  if (options.blockChecksums) flg |= 0x10;
  if (options.contentSize !== undefined) flg |= 0x08;
  if (options.contentChecksum !== undefined) flg |= 0x04;
  const header = [0x04, 0x22, 0x4d, 0x18, flg, options.bd ?? 0x40];
  if (options.contentSize !== undefined) header.push(...u32le(options.contentSize % 2 ** 32), ...u32le(Math.floor(options.contentSize / 2 ** 32)));
  const h = new Uint8Array(header);
  header.push((xxhash32(h, options.legacyHeaderChecksum ? 0 : 4) >>> 8) & 0xff);
  const out = [...header];
  for (const block of blocks) {
    out.push(...u32le(block.length), ...block);
    if (options.blockChecksums) out.push(...u32le(xxhash32(block)));
  }
  out.push(0, 0, 0, 0);
  if (options.contentChecksum !== undefined) out.push(...u32le(xxhash32(options.contentChecksum)));
  return new Uint8Array(out);
}

function expectCorrupt(fn: () => unknown, message: RegExp): void {
  const error = caught(fn);
  expect(isKafkaError(error, 'CORRUPT_MESSAGE')).toBe(true);
  expect((error as Error).message).toMatch(message);
}

describe('lz4 codec', () => {
  it('writes the frame the Java client writes: FLG 0x60, BD 0x40, correct header checksum, 64 KiB blocks, stored when incompressible', () => {
    const text = payload('text', 150_000, 1);
    const random = payload('random', 70_000, 2);
    const packed = lz4Compress(new Uint8Array([...text, ...random]));
    expect([...packed.subarray(0, 7)]).toEqual([0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82]);
    const dv = new DataView(packed.buffer, packed.byteOffset);
    const blocks: { size: number; stored: boolean }[] = [];
    let p = 7;
    for (let word = dv.getUint32(p, true); word !== 0; word = dv.getUint32(p, true)) {
      blocks.push({ size: word & 0x7fffffff, stored: word >>> 31 === 1 });
      p += 4 + (word & 0x7fffffff);
    }
    expect(p + 4).toBe(packed.length);
    // 220,000 bytes: three full 64 KiB blocks and a rest; the last two are mostly random bytes.
    expect(blocks.length).toBe(4);
    expect(blocks.slice(0, 2).every((b) => !b.stored && b.size < 65536)).toBe(true);
    expect(blocks[3]).toEqual({ size: 220_000 - 3 * 65536, stored: true });
    expect(lz4Compress(new Uint8Array(0))).toEqual(new Uint8Array([0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82, 0, 0, 0, 0]));
  });

  it('writes frames kafkajs-lz4 (the lz4 package) reads, and reads the frames it writes (4 MiB blocks, content checksum)', async () => {
    await fc.assert(
      fc.asyncProperty(payloadArbitrary, async (bytes) => {
        expect(same(await kafkajsLz4.decompress(Buffer.from(lz4Compress(bytes))), bytes)).toBe(true);
        const theirs = await kafkajsLz4.compress({ buffer: Buffer.from(bytes) });
        expect([theirs[4], theirs[5]]).toEqual([0x64, 0x70]);
        expect(same(lz4Decompress(theirs, MAX), bytes)).toBe(true);
      }),
      { numRuns: 20 },
    );
  });

  it("accepts Kafka's pre-0.10 header checksum (over the magic too) and refuses any other", () => {
    const block = literalBlock(ascii('hello'));
    expect(same(lz4Decompress(frame([block], { legacyHeaderChecksum: true }), MAX), ascii('hello'))).toBe(true);
    const bad = frame([block]);
    bad[6]! ^= 0x01;
    expectCorrupt(() => lz4Decompress(bad, MAX), /header checksum 0x[0-9a-f]+ matches neither the correct 0x82/);
  });

  it('checks block and content checksums when the frame has them', () => {
    const blocks = [literalBlock(ascii('abcdefgh')), literalBlock(ascii('ijk'))];
    const good = frame(blocks, { blockChecksums: true, contentChecksum: ascii('abcdefghijk') });
    expect(same(lz4Decompress(good, MAX), ascii('abcdefghijk'))).toBe(true);
    const badBlock = good.slice();
    badBlock[7 + 4 + blocks[0]!.length]! ^= 0xff;
    expectCorrupt(() => lz4Decompress(badBlock, MAX), /block checksum mismatch/);
    const badContent = good.slice();
    badContent[badContent.length - 1]! ^= 0xff;
    expectCorrupt(() => lz4Decompress(badContent, MAX), /content checksum mismatch/);
  });

  it('lets linked blocks reference earlier blocks, and refuses that in independent ones', () => {
    // Block 2 is a match of 8 bytes at offset 8 (the whole first block), then an empty literal run.
    const blocks = [literalBlock(ascii('abcdefgh')), new Uint8Array([0x04, 8, 0, 0x00])];
    expect(same(lz4Decompress(frame(blocks, { flg: 0x40 }), MAX), ascii('abcdefghabcdefgh'))).toBe(true);
    expectCorrupt(() => lz4Decompress(frame(blocks, { flg: 0x60 }), MAX), /lz4 records cannot be decompressed: block at byte 20: /);
    const reachingTooFar = [literalBlock(ascii('abcdefgh')), new Uint8Array([0x04, 100, 0, 0x00])];
    expectCorrupt(() => lz4Decompress(frame(reachingTooFar, { flg: 0x40 }), MAX), /match offset 100 reaches before the window/);
  });

  it('decodes linked-block frames (TypeScript decoder) to what independent ones (WebAssembly) give', () => {
    fc.assert(
      fc.property(payloadArbitrary, (bytes) => {
        const linked = lz4Compress(bytes).slice();
        linked[4] = 0x40;
        linked[6] = (xxhash32(linked, 4, 6) >>> 8) & 0xff;
        expect(same(lz4Decompress(linked, MAX), bytes)).toBe(true);
      }),
      { numRuns: 30 },
    );
  });

  it('reads frames back to back as one content', () => {
    const a = payload('text', 100_000, 3);
    const b = payload('runs', 50_000, 4);
    expect(same(lz4Decompress(new Uint8Array([...lz4Compress(a), ...lz4Compress(b)]), MAX), new Uint8Array([...a, ...b]))).toBe(true);
  });

  it('checks a declared content size, and refuses one past the bound before allocating', () => {
    const block = literalBlock(ascii('hello'));
    expect(same(lz4Decompress(frame([block], { contentSize: 5 }), MAX), ascii('hello'))).toBe(true);
    expectCorrupt(() => lz4Decompress(frame([block], { contentSize: 6 }), MAX), /declares 6 bytes of content but holds 5/);
    expectCorrupt(() => lz4Decompress(frame([block], { contentSize: 2 ** 40 }), MAX), /decompress to more than 67108864 bytes/);
    expectCorrupt(() => lz4Decompress(frame([block], { contentSize: 2 ** 63 }), MAX), /decompress to more than/);
  });

  it('refuses blocks larger than the frame allows, reserved bits, dictionaries and bad versions', () => {
    const oversized = frame([literalBlock(ascii('x'))]);
    new DataView(oversized.buffer).setUint32(7, 65537, true);
    expectCorrupt(() => lz4Decompress(oversized, MAX), /block of 65537 bytes exceeds the frame's 65536-byte maximum/);
    // A 64 KiB block holding a match that writes past 64 KiB of output.
    const long = new Uint8Array([0x1f, 0x61, 1, 0, ...new Array<number>(257).fill(255), 0, 0x00]);
    expectCorrupt(() => lz4Decompress(frame([long]), MAX), /decodes to more than the frame's 65536-byte block maximum/);
    expectCorrupt(() => lz4Decompress(frame([], { bd: 0x30 }), MAX), /invalid block maximum size id 3/);
    expectCorrupt(() => lz4Decompress(frame([], { flg: 0x62 }), MAX), /reserved frame descriptor bits/);
    expectCorrupt(() => lz4Decompress(frame([], { flg: 0x61 }), MAX), /dictionary/);
    expectCorrupt(() => lz4Decompress(frame([], { flg: 0xa0 }), MAX), /unsupported frame version 2/);
  });

  it('stops a bomb of many highly compressible blocks at the bound', () => {
    const packed = lz4Compress(new Uint8Array(8 * 1024 * 1024));
    expect(packed.length).toBeLessThan(40_000);
    expectCorrupt(() => lz4Decompress(packed, 1024 * 1024), /decompress to more than 1048576 bytes/);
  });
});
