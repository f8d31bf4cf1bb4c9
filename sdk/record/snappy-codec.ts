import { corruptCompressed, decompressedTooLarge } from './compression-error.ts';
import { requireWasmPackage } from './wasm-package.ts';

/**
 * Kafka's snappy. The Java client writes snappy-java's stream framing (xerial's SnappyOutputStream,
 * 32 KiB chunks), big-endian:
 *
 *   magic 82 53 4E 41 50 50 59 00 ("\x82SNAPPY\0") | version i32 (1) | compatible version i32 (1) |
 *   chunks: compressed length i32 | one raw snappy block
 *
 * and a raw snappy block is `uncompressed length uvarint | elements`. librdkafka and kafkajs-snappy
 * write one raw block with no framing; every client (Java's SnappyInputStream included) reads
 * both, telling them apart by the magic. We write what the Java client writes and read both, and,
 * as snappy-java does, a header repeated mid-stream (two streams concatenated). The version
 * fields are not checked, as librdkafka does not check them. A stream cut exactly between two
 * chunks is indistinguishable from a shorter one (the batch's CRC-32C is what catches that).
 */

const XERIAL_MAGIC = new Uint8Array([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_BYTES = 16;
const XERIAL_VERSION = 1;
const XERIAL_MIN_COMPATIBLE_VERSION = 1;
const WRITE_CHUNK_BYTES = 32 * 1024;
/** A raw block's uncompressed length is a uvarint of at most 32 bits. */
const MAX_LENGTH_VARINT_BYTES = 5;
/** The most a snappy element expands: a 3-byte copy yields 64 bytes, so no block decodes to more than 22 times its size. */
const MAX_EXPANSION = 22;

interface SnappyWasm {
  compress_raw(input: Uint8Array): Uint8Array;
  decompress_raw(input: Uint8Array): Uint8Array;
}

let wasm: SnappyWasm | undefined;

function snappyWasm(): SnappyWasm {
  return (wasm ??= requireWasmPackage('snappy-wasm') as SnappyWasm);
}

function isXerialHeader(b: Uint8Array, p: number): boolean {
  if (b.length - p < XERIAL_HEADER_BYTES) return false;
  for (let i = 0; i < XERIAL_MAGIC.length; i++) if (b[p + i] !== XERIAL_MAGIC[i]) return false;
  return true;
}

export function snappyCompress(bytes: Uint8Array): Uint8Array {
  const codec = snappyWasm();
  const chunks: Uint8Array[] = [];
  let size = XERIAL_HEADER_BYTES;
  // Empty input still gets one (empty) chunk: a header alone is refused by librdkafka and by us.
  for (let at = 0; at < bytes.length || at === 0; at += WRITE_CHUNK_BYTES) {
    const chunk = codec.compress_raw(bytes.subarray(at, Math.min(at + WRITE_CHUNK_BYTES, bytes.length)));
    chunks.push(chunk);
    size += 4 + chunk.length;
  }
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  out.set(XERIAL_MAGIC);
  dv.setInt32(8, XERIAL_VERSION);
  dv.setInt32(12, XERIAL_MIN_COMPATIBLE_VERSION);
  let pos = XERIAL_HEADER_BYTES;
  for (const chunk of chunks) {
    dv.setInt32(pos, chunk.length);
    out.set(chunk, pos + 4);
    pos += 4 + chunk.length;
  }
  return out;
}

class SnappyTooLarge extends Error {}

export function snappyDecompress(bytes: Uint8Array, maxOutputBytes: number): Uint8Array {
  try {
    if (!isXerialHeader(bytes, 0)) return decodeRaw(bytes, maxOutputBytes);
    const chunks = xerialChunks(bytes);
    let total = 0;
    for (const chunk of chunks) {
      total += rawLength(chunk);
      if (total > maxOutputBytes) throw new SnappyTooLarge();
    }
    if (chunks.length === 1) return decodeRaw(chunks[0]!, maxOutputBytes);
    const out = new Uint8Array(total);
    let pos = 0;
    for (const chunk of chunks) {
      const decoded = decodeRaw(chunk, maxOutputBytes);
      out.set(decoded, pos);
      pos += decoded.length;
    }
    return out;
  } catch (error) {
    if (error instanceof SnappyTooLarge) throw decompressedTooLarge('snappy', maxOutputBytes);
    throw corruptCompressed('snappy', (error as Error).message ?? String(error));
  }
}

/** The raw blocks of a snappy-java stream, checked to tile it exactly. */
function xerialChunks(b: Uint8Array): Uint8Array[] {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const chunks: Uint8Array[] = [];
  let p = XERIAL_HEADER_BYTES;
  while (p < b.length) {
    if (isXerialHeader(b, p)) {
      p += XERIAL_HEADER_BYTES;
      continue;
    }
    if (b.length - p < 4) throw new Error(`snappy-java stream ends inside a chunk length at byte ${p}`);
    const length = dv.getInt32(p);
    if (length < 0 || length > b.length - p - 4) throw new Error(`snappy-java chunk at byte ${p} declares ${length} bytes, ${b.length - p - 4} remain`);
    chunks.push(b.subarray(p + 4, p + 4 + length));
    p += 4 + length;
  }
  // Java reads a header alone as nothing and librdkafka refuses it; no batch has empty records.
  if (chunks.length === 0) throw new Error('snappy-java stream holds no chunk');
  return chunks;
}

/** A raw block's declared uncompressed length (its uvarint prefix). */
function rawLength(block: Uint8Array): number {
  let value = 0;
  for (let i = 0; i < MAX_LENGTH_VARINT_BYTES; i++) {
    if (i >= block.length) throw new Error('block ends inside its length');
    const b = block[i]!;
    value += (b & 0x7f) * 2 ** (7 * i);
    if (b < 0x80) {
      if (value > 0xffffffff) throw new Error(`block length ${value} does not fit 32 bits`);
      return value;
    }
  }
  throw new Error('block length varint is longer than 5 bytes');
}

/** Decodes one raw block after checking its declared length, so the decoder never allocates past the bound. */
function decodeRaw(block: Uint8Array, maxOutputBytes: number): Uint8Array {
  const length = rawLength(block);
  if (length > maxOutputBytes) throw new SnappyTooLarge();
  if (length > block.length * MAX_EXPANSION) throw new Error(`a ${block.length}-byte block cannot hold the ${length} bytes it declares`);
  return snappyWasm().decompress_raw(block);
}
