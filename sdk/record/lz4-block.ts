/**
 * The LZ4 block format's decoder (lz4 `doc/lz4_Block_format.md`). A block is a run of sequences:
 *
 *   token u8 (high nibble: literal length, low nibble: match length - 4; 15 = more bytes follow,
 *   each 255 adds 255 and ends at the first byte below 255) | literals | offset u16 LE | ...
 *
 * The last sequence has literals only. Independent blocks (what every Kafka client writes) are
 * decoded by lz4_flex in WebAssembly, which needs each block's exact decoded size up front:
 * `lz4BlockDecodedSize` reads it from the tokens. Linked blocks, whose matches reach into earlier
 * blocks, no package decodes, so `decodeLz4Block` does, into the frame's shared output buffer.
 */

/** Returned by `decodeLz4Block` when the block would write past `dstEnd`. */
export const LZ4_OUTPUT_OVERFLOW = -1;

/** Literal and match copies shorter than this are byte loops; longer ones use set/copyWithin. */
const SHORT_COPY_BYTES = 32;

/**
 * Decodes the block `src[srcStart, srcEnd)` into `dst` from `dstStart`, never writing at or past
 * `dstEnd`, and returns the end of what it wrote (or LZ4_OUTPUT_OVERFLOW). Matches may reach back
 * to `windowStart` (the block's own start for independent blocks, the frame's output start for
 * linked ones). Malformed input throws an Error saying what is wrong.
 */
export function decodeLz4Block(
  src: Uint8Array,
  srcStart: number,
  srcEnd: number,
  dst: Uint8Array,
  dstStart: number,
  dstEnd: number,
  windowStart: number,
): number {
  let s = srcStart;
  let d = dstStart;
  for (;;) {
    if (s >= srcEnd) throw new Error('block ends inside a sequence');
    const token = src[s++]!;
    let literals = token >>> 4;
    if (literals === 15) {
      let b: number;
      do {
        if (s >= srcEnd) throw new Error('block ends inside a literal length');
        b = src[s++]!;
        literals += b;
      } while (b === 255);
    }
    if (literals > srcEnd - s) throw new Error(`a literal run of ${literals} bytes overruns the block`);
    if (literals > dstEnd - d) return LZ4_OUTPUT_OVERFLOW;
    if (literals < SHORT_COPY_BYTES) {
      for (let i = 0; i < literals; i++) dst[d + i] = src[s + i]!;
    } else {
      dst.set(src.subarray(s, s + literals), d);
    }
    s += literals;
    d += literals;
    if (s === srcEnd) return d;

    if (srcEnd - s < 2) throw new Error('block ends inside a match offset');
    const offset = src[s]! | (src[s + 1]! << 8);
    s += 2;
    if (offset === 0 || offset > d - windowStart) throw new Error(`match offset ${offset} reaches before the window`);
    let length = (token & 15) + 4;
    if ((token & 15) === 15) {
      let b: number;
      do {
        if (s >= srcEnd) throw new Error('block ends inside a match length');
        b = src[s++]!;
        length += b;
      } while (b === 255);
    }
    if (length > dstEnd - d) return LZ4_OUTPUT_OVERFLOW;
    const from = d - offset;
    if (length < SHORT_COPY_BYTES || offset < length) {
      // Overlapping matches repeat the last `offset` bytes, which a forward byte loop does by itself.
      for (let i = 0; i < length; i++) dst[d + i] = dst[from + i]!;
    } else {
      dst.copyWithin(d, from, from + length);
    }
    d += length;
  }
}

/**
 * The size `src[srcStart, srcEnd)` decodes to, from its tokens alone (literals are skipped, not
 * copied), or throws an Error saying what is malformed. Offsets are not checked here.
 */
export function lz4BlockDecodedSize(src: Uint8Array, srcStart: number, srcEnd: number): number {
  let s = srcStart;
  let size = 0;
  for (;;) {
    if (s >= srcEnd) throw new Error('block ends inside a sequence');
    const token = src[s++]!;
    let literals = token >>> 4;
    if (literals === 15) {
      let b: number;
      do {
        if (s >= srcEnd) throw new Error('block ends inside a literal length');
        b = src[s++]!;
        literals += b;
      } while (b === 255);
    }
    if (literals > srcEnd - s) throw new Error(`a literal run of ${literals} bytes overruns the block`);
    s += literals;
    size += literals;
    if (s === srcEnd) return size;
    if (srcEnd - s < 2) throw new Error('block ends inside a match offset');
    s += 2;
    let length = (token & 15) + 4;
    if ((token & 15) === 15) {
      let b: number;
      do {
        if (s >= srcEnd) throw new Error('block ends inside a match length');
        b = src[s++]!;
        length += b;
      } while (b === 255);
    }
    size += length;
  }
}
