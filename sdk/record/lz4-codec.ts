import { corruptCompressed, decompressedTooLarge } from './compression-error.ts';
import { decodeLz4Block, lz4BlockDecodedSize } from './lz4-block.ts';
import { requireWasmPackage } from './wasm-package.ts';
import { xxhash32 } from './xxhash32.ts';

/**
 * Kafka's lz4: the LZ4 frame format (lz4 `doc/lz4_Frame_format.md`), little-endian throughout:
 *
 *   magic u32 0x184D2204 | FLG u8 | BD u8 | [contentSize u64] | [dictId u32] | HC u8 |
 *   blocks: size u32 (bit 31 set: stored uncompressed; 0 ends the frame) | data | [checksum u32] |
 *   [contentChecksum u32]
 *
 *   FLG: bits 7-6 version (01), 5 block independence, 4 block checksum, 3 content size,
 *        2 content checksum, 1 reserved, 0 dictId
 *   BD:  bits 6-4 block maximum size (4: 64 KiB, 5: 256 KiB, 6: 1 MiB, 7: 4 MiB), the rest reserved
 *   HC:  (xxh32(FLG..dictId) >> 8) & 0xFF
 *
 * Blocks are compressed and (when independent) decompressed by lz4_flex in WebAssembly
 * (lz4-wasm-nodejs), 2-3 times faster than the TypeScript decoder on every runtime; linked blocks,
 * which no Kafka client writes but the format allows, go through `decodeLz4Block`.
 *
 * We write what the Java client's Lz4BlockOutputStream writes: FLG 0x60 (version 1, independent
 * blocks, no checksums, no content size), BD 0x40 (64 KiB blocks), incompressible blocks stored.
 * librdkafka writes the same layout (LZ4F defaults, 64 KiB independent blocks); kafkajs-lz4 writes
 * 4 MiB blocks with a content checksum. We read all of them, checking every checksum present,
 * and several frames back to back.
 *
 * Kafka before 0.10 (magic v0, KAFKA-3160) computed HC over the magic too; KIP-57 fixed it for
 * magic v1+. A v2 batch should always carry the correct HC, and the Java client rejects the
 * legacy one for v2, but librdkafka's decoder repairs it, so we accept either.
 */

const MAGIC = 0x184d2204;
const FLG_VERSION_MASK = 0xc0;
const FLG_VERSION_1 = 0x40;
const FLG_BLOCK_INDEPENDENCE = 0x20;
const FLG_BLOCK_CHECKSUM = 0x10;
const FLG_CONTENT_SIZE = 0x08;
const FLG_CONTENT_CHECKSUM = 0x04;
const FLG_RESERVED = 0x02;
const FLG_DICT_ID = 0x01;
const BD_BLOCK_SIZE_SHIFT = 4;
const BD_RESERVED = 0x8f;
const BLOCK_UNCOMPRESSED = 0x80000000;
const WRITE_BLOCK_BYTES = 64 * 1024;
const WRITE_FLG = FLG_VERSION_1 | FLG_BLOCK_INDEPENDENCE;
const WRITE_BD = 4 << BD_BLOCK_SIZE_SHIFT;
const WRITE_HEADER = new Uint8Array([0x04, 0x22, 0x4d, 0x18, WRITE_FLG, WRITE_BD, (xxhash32(new Uint8Array([WRITE_FLG, WRITE_BD])) >>> 8) & 0xff]);

interface Lz4Wasm {
  /** lz4_flex's block compressor; the block is prefixed with its uncompressed size (u32 LE). */
  compress(input: Uint8Array): Uint8Array;
  /** lz4_flex's block decompressor for the same layout; throws unless the block decodes to exactly that size. */
  decompress(input: Uint8Array): Uint8Array;
}

let wasm: Lz4Wasm | undefined;

function lz4Wasm(): Lz4Wasm {
  return (wasm ??= requireWasmPackage('lz4-wasm-nodejs') as Lz4Wasm);
}

function u32le(b: Uint8Array, p: number): number {
  return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
}

function putU32le(b: Uint8Array, p: number, v: number): void {
  b[p] = v & 0xff;
  b[p + 1] = (v >>> 8) & 0xff;
  b[p + 2] = (v >>> 16) & 0xff;
  b[p + 3] = (v >>> 24) & 0xff;
}

export function lz4Compress(bytes: Uint8Array): Uint8Array {
  const codec = lz4Wasm();
  const blocks: Uint8Array[] = [];
  const stored: boolean[] = [];
  let size = WRITE_HEADER.length + 4;
  for (let at = 0; at < bytes.length; at += WRITE_BLOCK_BYTES) {
    const chunk = bytes.subarray(at, Math.min(at + WRITE_BLOCK_BYTES, bytes.length));
    const packed = codec.compress(chunk).subarray(4);
    const keep = packed.length < chunk.length;
    blocks.push(keep ? packed : chunk);
    stored.push(!keep);
    size += 4 + (keep ? packed.length : chunk.length);
  }
  const out = new Uint8Array(size);
  out.set(WRITE_HEADER);
  let pos = WRITE_HEADER.length;
  blocks.forEach((block, i) => {
    putU32le(out, pos, block.length | (stored[i] ? BLOCK_UNCOMPRESSED : 0));
    out.set(block, pos + 4);
    pos += 4 + block.length;
  });
  putU32le(out, pos, 0);
  return out;
}

class Lz4TooLarge extends Error {}

/** One block of a frame: where its data is, what it decodes to, and how. */
interface Block {
  start: number;
  end: number;
  decodedBytes: number;
  stored: boolean;
}

/** A frame checked from end to end (header, block sizes and checksums) without decoding anything. */
interface Frame {
  blocks: Block[];
  independent: boolean;
  decodedBytes: number;
  /** Where the content checksum sits, if the frame has one. */
  contentChecksumAt: number | undefined;
}

/**
 * Two passes: the first walks every frame and block, checks everything but the decoded content,
 * and sums each block's exact decoded size (stored blocks their size, compressed ones from their
 * tokens); the output is then allocated once, at its exact size, if within the bound, and the
 * second pass decodes into it. A growing buffer would zero and copy far more, and a guess at the
 * size costs a full zeroed allocation per batch.
 */
export function lz4Decompress(bytes: Uint8Array, maxOutputBytes: number): Uint8Array {
  try {
    if (bytes.length === 0) throw new Error('no frame');
    const frames: Frame[] = [];
    let total = 0;
    for (let s = 0; s < bytes.length; ) {
      const [frame, end] = parseFrame(bytes, s, maxOutputBytes - total);
      frames.push(frame);
      total += frame.decodedBytes;
      if (total > maxOutputBytes) throw new Lz4TooLarge();
      s = end;
    }
    const out = new Uint8Array(total);
    let d = 0;
    for (const frame of frames) d = decodeFrame(bytes, frame, out, d);
    return out;
  } catch (error) {
    if (error instanceof Lz4TooLarge) throw decompressedTooLarge('lz4', maxOutputBytes);
    throw corruptCompressed('lz4', (error as Error).message);
  }
}

function contentSizeAt(src: Uint8Array, p: number): number {
  const high = u32le(src, p + 4);
  return high > 0x1fffff ? Number.MAX_SAFE_INTEGER : high * 0x100000000 + u32le(src, p);
}

/** Checks the frame at `s` and its blocks; returns it and where the next one starts. */
function parseFrame(src: Uint8Array, s: number, remainingBytes: number): [Frame, number] {
  const frameStart = s;
  if (src.length - s < 7) throw new Error(`truncated frame header at byte ${s}`);
  const magic = u32le(src, s);
  if (magic !== MAGIC) throw new Error(`bad frame magic 0x${magic.toString(16)} at byte ${s}`);
  const flg = src[s + 4]!;
  const bd = src[s + 5]!;
  if ((flg & FLG_VERSION_MASK) !== FLG_VERSION_1) throw new Error(`unsupported frame version ${flg >>> 6}`);
  if (flg & FLG_RESERVED || bd & BD_RESERVED) throw new Error('reserved frame descriptor bits are set');
  if (flg & FLG_DICT_ID) throw new Error('frames with a dictionary are not supported');
  const blockSizeId = (bd >>> BD_BLOCK_SIZE_SHIFT) & 7;
  if (blockSizeId < 4) throw new Error(`invalid block maximum size id ${blockSizeId}`);
  const blockMaxBytes = 1 << (2 * blockSizeId + 8);
  const descriptorEnd = s + 6 + (flg & FLG_CONTENT_SIZE ? 8 : 0);
  if (src.length - descriptorEnd < 1) throw new Error('truncated frame header');
  let contentSize: number | undefined;
  if (flg & FLG_CONTENT_SIZE) {
    contentSize = contentSizeAt(src, s + 6);
    if (contentSize > remainingBytes) throw new Lz4TooLarge();
  }
  const hc = src[descriptorEnd]!;
  const correct = (xxhash32(src, s + 4, descriptorEnd) >>> 8) & 0xff;
  if (hc !== correct && hc !== ((xxhash32(src, s, descriptorEnd) >>> 8) & 0xff)) {
    throw new Error(`frame header checksum 0x${hc.toString(16)} matches neither the correct 0x${correct.toString(16)} nor Kafka's pre-0.10 one`);
  }
  s = descriptorEnd + 1;
  const blockChecksums = (flg & FLG_BLOCK_CHECKSUM) !== 0;
  const blocks: Block[] = [];
  let decodedBytes = 0;
  for (;;) {
    if (src.length - s < 4) throw new Error(`frame at byte ${frameStart} is truncated before its end mark`);
    const word = u32le(src, s);
    s += 4;
    if (word === 0) break;
    const size = word & ~BLOCK_UNCOMPRESSED;
    if (size > blockMaxBytes) throw new Error(`block of ${size} bytes exceeds the frame's ${blockMaxBytes}-byte maximum`);
    if (src.length - s < size + (blockChecksums ? 4 : 0)) throw new Error(`block at byte ${s - 4} is truncated`);
    if (blockChecksums && xxhash32(src, s, s + size) !== u32le(src, s + size)) throw new Error(`block checksum mismatch at byte ${s - 4}`);
    const stored = (word & BLOCK_UNCOMPRESSED) !== 0;
    const blockBytes = stored ? size : lz4BlockDecodedSize(src, s, s + size);
    if (blockBytes > blockMaxBytes) throw new Error(`block at byte ${s - 4} decodes to more than the frame's ${blockMaxBytes}-byte block maximum`);
    decodedBytes += blockBytes;
    if (decodedBytes > remainingBytes) throw new Lz4TooLarge();
    blocks.push({ start: s, end: s + size, decodedBytes: blockBytes, stored });
    s += size + (blockChecksums ? 4 : 0);
  }
  let contentChecksumAt: number | undefined;
  if (flg & FLG_CONTENT_CHECKSUM) {
    if (src.length - s < 4) throw new Error('frame is truncated before its content checksum');
    contentChecksumAt = s;
    s += 4;
  }
  if (contentSize !== undefined && decodedBytes !== contentSize) throw new Error(`frame declares ${contentSize} bytes of content but holds ${decodedBytes}`);
  const independent = (flg & FLG_BLOCK_INDEPENDENCE) !== 0;
  return [{ blocks, independent, decodedBytes, contentChecksumAt }, s];
}

/** Decodes a checked frame into `out` from `d`, where exactly its decoded size is free; returns the end. */
function decodeFrame(src: Uint8Array, frame: Frame, out: Uint8Array, d: number): number {
  const frameStart = d;
  for (const block of frame.blocks) {
    const end = d + block.decodedBytes;
    if (block.stored) {
      out.set(src.subarray(block.start, block.end), d);
    } else if (frame.independent) {
      const prefixed = new Uint8Array(4 + block.end - block.start);
      putU32le(prefixed, 0, block.decodedBytes);
      prefixed.set(src.subarray(block.start, block.end), 4);
      try {
        out.set(lz4Wasm().decompress(prefixed), d);
      } catch (error) {
        throw new Error(`block at byte ${block.start - 4}: ${error instanceof Error ? error.message : String(error)}`);
      }
    } else if (decodeLz4Block(src, block.start, block.end, out, d, end, frameStart) !== end) {
      throw new Error(`block at byte ${block.start - 4} decodes to a size other than its tokens say`);
    }
    d = end;
  }
  if (frame.contentChecksumAt !== undefined && xxhash32(out, frameStart, d) !== u32le(src, frame.contentChecksumAt)) {
    throw new Error('content checksum mismatch');
  }
  return d;
}
