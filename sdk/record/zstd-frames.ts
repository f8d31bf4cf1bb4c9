/**
 * A walk over zstd frames (RFC 8878 §3.1) that reads headers and block headers only, to check the
 * framing and bound the decompressed size before a decoder allocates anything:
 *
 *   frame: magic u32 LE 0xFD2FB528 | descriptor u8 | [window descriptor u8] | [dictionary id 1/2/4] |
 *          [content size 1/2/4/8] | blocks | [checksum u32]
 *     descriptor: bits 7-6 content size flag, 5 single segment, 4 unused, 3 reserved (0),
 *                 2 checksum flag, 1-0 dictionary id flag
 *   block: header u24 LE (bit 0 last block, bits 2-1 type: 0 raw, 1 RLE, 2 compressed; bits 23-3 size)
 *          | contents (raw: size bytes, RLE: 1 byte repeated size times, compressed: size bytes)
 *   skippable frame: magic u32 LE 0x184D2A50..5F | size u32 LE | size bytes
 *
 * Java (zstd-jni's ZstdOutputStream) and librdkafka linked against a shared libzstd write no
 * content size; one-shot compressors (zstd's CLI, librdkafka linked statically, node:zlib) do.
 */

const FRAME_MAGIC = 0xfd2fb528;
const SKIPPABLE_MAGIC_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
const MAX_BLOCK_BYTES = 128 * 1024;
const FCS_BYTES = [0, 2, 4, 8] as const;
const DICT_ID_BYTES = [0, 1, 2, 4] as const;

export interface ZstdFramesBound {
  /** An upper bound of the decompressed size; exact when `exact`. */
  bytes: number;
  /** Whether every frame declared its content size. */
  exact: boolean;
  /** Where each frame with content starts and ends (skippable frames left out). */
  frames: { start: number; end: number }[];
}

function u32le(b: Uint8Array, p: number): number {
  return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
}

function uintLe(b: Uint8Array, p: number, bytes: number): number {
  let value = 0;
  for (let i = bytes - 1; i >= 0; i--) value = value * 256 + b[p + i]!;
  return value;
}

/**
 * Checks that `src` is one or more whole frames and returns a bound of their decompressed size,
 * or throws an Error saying what is wrong. The walk touches 3 bytes per block and skips the rest,
 * so it costs little next to decoding, however many blocks there are.
 */
export function walkZstdFrames(src: Uint8Array): ZstdFramesBound {
  if (src.length === 0) throw new Error('no frame');
  let p = 0;
  let bytes = 0;
  let exact = true;
  const frames: { start: number; end: number }[] = [];
  while (p < src.length) {
    if (src.length - p < 4) throw new Error(`${src.length - p} trailing bytes after the last frame`);
    const magic = u32le(src, p);
    if ((magic & SKIPPABLE_MAGIC_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      if (src.length - p < 8) throw new Error(`truncated skippable frame at byte ${p}`);
      const size = u32le(src, p + 4);
      if (size > src.length - p - 8) throw new Error(`skippable frame at byte ${p} runs past the end`);
      p += 8 + size;
      continue;
    }
    if (magic !== FRAME_MAGIC) throw new Error(`bad frame magic 0x${magic.toString(16)} at byte ${p}`);
    const frame = walkFrame(src, p + 4);
    frames.push({ start: p, end: frame.end });
    p = frame.end;
    if (frame.contentSize === undefined) exact = false;
    bytes += frame.contentSize ?? frame.blockBound;
  }
  if (frames.length === 0) throw new Error('only skippable frames');
  return { bytes, exact, frames };
}

function walkFrame(src: Uint8Array, p: number): { end: number; contentSize: number | undefined; blockBound: number } {
  if (p >= src.length) throw new Error('truncated frame header');
  const descriptor = src[p++]!;
  const fcsFlag = descriptor >>> 6;
  const singleSegment = (descriptor & 0x20) !== 0;
  if (descriptor & 0x08) throw new Error('reserved frame header bit is set');
  const checksum = (descriptor & 0x04) !== 0;
  const dictIdBytes = DICT_ID_BYTES[descriptor & 3]!;
  const fcsBytes = fcsFlag === 0 && singleSegment ? 1 : FCS_BYTES[fcsFlag]!;
  const headerRest = (singleSegment ? 0 : 1) + dictIdBytes + fcsBytes;
  if (src.length - p < headerRest) throw new Error('truncated frame header');
  let windowBytes = 0;
  if (!singleSegment) {
    const wd = src[p++]!;
    const base = 2 ** (10 + (wd >>> 3));
    windowBytes = base + (base / 8) * (wd & 7);
  }
  if (dictIdBytes > 0 && uintLe(src, p, dictIdBytes) !== 0) throw new Error('frames with a dictionary are not supported');
  p += dictIdBytes;
  let contentSize: number | undefined;
  if (fcsBytes > 0) {
    contentSize = uintLe(src, p, fcsBytes) + (fcsBytes === 2 ? 256 : 0);
    p += fcsBytes;
  }
  if (singleSegment) windowBytes = contentSize!;
  const blockMax = Math.min(windowBytes, MAX_BLOCK_BYTES);
  let blockBound = 0;
  for (;;) {
    if (src.length - p < 3) throw new Error(`frame is truncated at byte ${p}, inside a block header`);
    const header = src[p]! | (src[p + 1]! << 8) | (src[p + 2]! << 16);
    p += 3;
    const last = (header & 1) === 1;
    const type = (header >>> 1) & 3;
    const size = header >>> 3;
    if (type === 3) throw new Error(`reserved block type at byte ${p - 3}`);
    if (size > blockMax) throw new Error(`block of ${size} bytes exceeds the frame's ${blockMax}-byte maximum`);
    const stored = type === 1 ? 1 : size;
    if (src.length - p < stored) throw new Error(`frame is truncated at byte ${p}, inside a block`);
    p += stored;
    blockBound += type === 2 ? blockMax : size;
    if (last) break;
  }
  if (checksum) {
    if (src.length - p < 4) throw new Error('frame is truncated before its checksum');
    p += 4;
  }
  return { end: p, contentSize, blockBound };
}
