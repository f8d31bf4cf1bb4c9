import { corruptCompressed, decompressedTooLarge } from './compression-error.ts';
import { decodeLz4Block, LZ4_OUTPUT_OVERFLOW, lz4BlockDecodedSize } from './lz4-block.ts';
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

/** A growable output buffer that never grows past `maxOutputBytes`. */
class BoundedOutput {
  buf: Uint8Array;
  constructor(
    initialBytes: number,
    readonly maxOutputBytes: number,
  ) {
    this.buf = new Uint8Array(Math.min(initialBytes, maxOutputBytes));
  }

  /** Grows (doubling, up to the bound) until `bytes` fit after `pos`; false if the bound forbids it. */
  ensure(pos: number, bytes: number): boolean {
    if (pos + bytes <= this.buf.length) return true;
    if (pos + bytes > this.maxOutputBytes) return false;
    this.resize(pos, Math.min(Math.max(pos + bytes, this.buf.length * 2), this.maxOutputBytes));
    return true;
  }

  /** Doubles the buffer up to the bound; false if it is already at the bound. */
  grow(pos: number): boolean {
    if (this.buf.length >= this.maxOutputBytes) return false;
    this.resize(pos, Math.min(Math.max(this.buf.length * 2, 1024), this.maxOutputBytes));
    return true;
  }

  private resize(pos: number, bytes: number): void {
    const next = new Uint8Array(bytes);
    next.set(this.buf.subarray(0, pos));
    this.buf = next;
  }
}

class Lz4TooLarge extends Error {}

export function lz4Decompress(bytes: Uint8Array, maxOutputBytes: number): Uint8Array {
  try {
    if (bytes.length === 0) throw new Error('no frame');
    const out = new BoundedOutput(outputEstimate(bytes), maxOutputBytes);
    let s = 0;
    let d = 0;
    while (s < bytes.length) [s, d] = decodeFrame(bytes, s, out, d);
    return d === out.buf.length ? out.buf : out.buf.subarray(0, d);
  } catch (error) {
    if (error instanceof Lz4TooLarge) throw decompressedTooLarge('lz4', maxOutputBytes);
    throw corruptCompressed('lz4', (error as Error).message);
  }
}

function contentSizeAt(src: Uint8Array, p: number): number {
  const high = u32le(src, p + 4);
  return high > 0x1fffff ? Number.MAX_SAFE_INTEGER : high * 0x100000000 + u32le(src, p);
}

/** LZ4's largest expansion: a 1-byte token, a 2-byte offset and 255 per extra length byte. */
const MAX_EXPANSION = 255;

/**
 * The output size to allocate at once: the declared content sizes, or an upper bound from the
 * block headers (a stored block is its size, a compressed one at most its frame's block maximum
 * or 255 times its size). Only a guess: malformed framing stops the walk, and `decodeFrame` says
 * what is wrong; the output still grows if the guess is short and never past the caller's bound.
 */
function outputEstimate(src: Uint8Array): number {
  let total = 0;
  let p = 0;
  while (src.length - p >= 7 && u32le(src, p) === MAGIC) {
    const flg = src[p + 4]!;
    const blockMaxBytes = 1 << (2 * ((src[p + 5]! >>> BD_BLOCK_SIZE_SHIFT) & 7) + 8);
    if (flg & FLG_CONTENT_SIZE && src.length - p >= 14) total += contentSizeAt(src, p + 6);
    p += 7 + (flg & FLG_CONTENT_SIZE ? 8 : 0) + (flg & FLG_DICT_ID ? 4 : 0);
    const checksum = flg & FLG_BLOCK_CHECKSUM ? 4 : 0;
    for (;;) {
      if (src.length - p < 4) return total;
      const word = u32le(src, p);
      p += 4;
      if (word === 0) break;
      const size = word & ~BLOCK_UNCOMPRESSED;
      if (!(flg & FLG_CONTENT_SIZE)) total += word & BLOCK_UNCOMPRESSED ? size : Math.min(blockMaxBytes, size * MAX_EXPANSION);
      p += size + checksum;
    }
    p += flg & FLG_CONTENT_CHECKSUM ? 4 : 0;
  }
  return total;
}

/** Decodes the frame at `s` into `out` at `d`; returns the positions after it. */
function decodeFrame(src: Uint8Array, s: number, out: BoundedOutput, d: number): [number, number] {
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
    if (d + contentSize > out.maxOutputBytes) throw new Lz4TooLarge();
  }
  const hc = src[descriptorEnd]!;
  const correct = (xxhash32(src, s + 4, descriptorEnd) >>> 8) & 0xff;
  if (hc !== correct && hc !== ((xxhash32(src, s, descriptorEnd) >>> 8) & 0xff)) {
    throw new Error(`frame header checksum 0x${hc.toString(16)} matches neither the correct 0x${correct.toString(16)} nor Kafka's pre-0.10 one`);
  }
  s = descriptorEnd + 1;
  const frameOutputStart = d;
  const independent = (flg & FLG_BLOCK_INDEPENDENCE) !== 0;
  const blockChecksums = (flg & FLG_BLOCK_CHECKSUM) !== 0;
  for (;;) {
    if (src.length - s < 4) throw new Error(`frame at byte ${frameStart} is truncated before its end mark`);
    const word = u32le(src, s);
    s += 4;
    if (word === 0) break;
    const size = word & ~BLOCK_UNCOMPRESSED;
    if (size > blockMaxBytes) throw new Error(`block of ${size} bytes exceeds the frame's ${blockMaxBytes}-byte maximum`);
    if (src.length - s < size + (blockChecksums ? 4 : 0)) throw new Error(`block at byte ${s - 4} is truncated`);
    if (blockChecksums && xxhash32(src, s, s + size) !== u32le(src, s + size)) throw new Error(`block checksum mismatch at byte ${s - 4}`);
    if (word & BLOCK_UNCOMPRESSED) {
      if (!out.ensure(d, size)) throw new Lz4TooLarge();
      out.buf.set(src.subarray(s, s + size), d);
      d += size;
    } else if (independent) {
      const decoded = lz4BlockDecodedSize(src, s, s + size);
      if (decoded > blockMaxBytes) throw new Error(`block at byte ${s - 4} decodes to more than the frame's ${blockMaxBytes}-byte block maximum`);
      if (!out.ensure(d, decoded)) throw new Lz4TooLarge();
      const prefixed = new Uint8Array(4 + size);
      putU32le(prefixed, 0, decoded);
      prefixed.set(src.subarray(s, s + size), 4);
      try {
        out.buf.set(lz4Wasm().decompress(prefixed), d);
      } catch (error) {
        throw new Error(`block at byte ${s - 4}: ${error instanceof Error ? error.message : String(error)}`);
      }
      d += decoded;
    } else {
      const blockLimit = d + blockMaxBytes;
      for (;;) {
        const blockEnd = Math.min(out.buf.length, blockLimit);
        const end = decodeLz4Block(src, s, s + size, out.buf, d, blockEnd, independent ? d : frameOutputStart);
        if (end !== LZ4_OUTPUT_OVERFLOW) {
          d = end;
          break;
        }
        if (blockEnd === blockLimit) throw new Error(`block at byte ${s - 4} decodes to more than the frame's ${blockMaxBytes}-byte block maximum`);
        if (!out.grow(d)) throw new Lz4TooLarge();
      }
    }
    s += size + (blockChecksums ? 4 : 0);
  }
  if (flg & FLG_CONTENT_CHECKSUM) {
    if (src.length - s < 4) throw new Error('frame is truncated before its content checksum');
    if (xxhash32(out.buf, frameOutputStart, d) !== u32le(src, s)) throw new Error('content checksum mismatch');
    s += 4;
  }
  if (contentSize !== undefined && d - frameOutputStart !== contentSize) {
    throw new Error(`frame declares ${contentSize} bytes of content but holds ${d - frameOutputStart}`);
  }
  return [s, d];
}
