import * as zlib from 'node:zlib';
import { corruptCompressed, decompressedTooLarge } from './compression-error.ts';
import { walkZstdFrames, type ZstdFramesBound } from './zstd-frames.ts';
import { zstdWasmCompress, zstdWasmDecompress } from './zstd-wasm.ts';

/**
 * Kafka's zstd: plain zstd frames (RFC 8878), no extra framing. node:zlib's zstd (Node 22.15+,
 * Bun, Deno) where the runtime has it, otherwise zstd compiled to WebAssembly; both are zstd's own
 * C code, so they write and read the same frames. Level 3, Kafka's `compression.zstd.level` default.
 * Every input is first walked frame by frame (`walkZstdFrames`) so truncation and garbage fail the
 * same way on every runtime and no decoder is handed a size it would allocate blindly.
 */

const LEVEL = 3;

interface NativeZstd {
  zstdCompressSync(bytes: Uint8Array, options?: { params?: Record<number, number> }): Uint8Array;
  zstdDecompressSync(bytes: Uint8Array, options?: { maxOutputLength?: number }): Uint8Array;
}

function nativeZstd(): NativeZstd | undefined {
  const candidate = zlib as unknown as Partial<NativeZstd>;
  return typeof candidate.zstdCompressSync === 'function' && typeof candidate.zstdDecompressSync === 'function' ? (candidate as NativeZstd) : undefined;
}

const native = nativeZstd();

/** Which implementation this runtime uses, for benchmarks and diagnostics. */
export const zstdImplementation: 'node:zlib' | 'wasm' = native === undefined ? 'wasm' : 'node:zlib';

/** ZSTD_c_compressionLevel, the parameter id node:zlib takes the level under. */
const ZSTD_C_COMPRESSION_LEVEL = 100;

export function zstdCompress(bytes: Uint8Array): Uint8Array {
  return native === undefined ? zstdWasmCompress(bytes, LEVEL) : native.zstdCompressSync(bytes, { params: { [ZSTD_C_COMPRESSION_LEVEL]: LEVEL } });
}

export function zstdDecompress(bytes: Uint8Array, maxOutputBytes: number): Uint8Array {
  let walk: ZstdFramesBound;
  try {
    walk = walkZstdFrames(bytes);
  } catch (error) {
    throw corruptCompressed('zstd', (error as Error).message);
  }
  if (walk.bytes > maxOutputBytes && walk.exact) throw decompressedTooLarge('zstd', maxOutputBytes);
  const capacity = Math.min(walk.bytes, maxOutputBytes);
  if (native === undefined) {
    const result = zstdWasmDecompress(bytes, capacity);
    if (result === 'too-small') throw capacity === maxOutputBytes ? decompressedTooLarge('zstd', maxOutputBytes) : corruptCompressed('zstd', "a block decodes past the frame's bounds");
    if (result === 'corrupt') throw corruptCompressed('zstd', 'the decoder rejected the data');
    return result;
  }
  // One frame at a time: Deno's node:zlib (2.9) stops after the first frame and reads a leading
  // skippable frame as the end, where Bun's and Node's go on.
  if (walk.frames.length === 1) {
    return nativeFrame(native, bytes.subarray(walk.frames[0]!.start, walk.frames[0]!.end), capacity, capacity === maxOutputBytes, maxOutputBytes);
  }
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const { start, end } of walk.frames) {
    const part = nativeFrame(native, bytes.subarray(start, end), maxOutputBytes - total, true, maxOutputBytes);
    parts.push(part);
    total += part.length;
  }
  const out = new Uint8Array(total);
  let pos = 0;
  for (const part of parts) {
    out.set(part, pos);
    pos += part.length;
  }
  return out;
}

/**
 * Decompresses one frame with node:zlib into at most `capacity` bytes; `capacityIsBound` says
 * whether running out of it means passing the caller's bound (else the frame broke its own bounds).
 */
function nativeFrame(native: NativeZstd, frame: Uint8Array, capacity: number, capacityIsBound: boolean, maxOutputBytes: number): Uint8Array {
  let out: Uint8Array;
  try {
    // node:zlib refuses a maxOutputLength of 0; one byte more is caught below.
    out = native.zstdDecompressSync(frame, { maxOutputLength: Math.max(capacity, 1) });
  } catch (error) {
    const tooLarge = error instanceof RangeError || (error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE';
    if (tooLarge && capacityIsBound) throw decompressedTooLarge('zstd', maxOutputBytes);
    throw corruptCompressed('zstd', tooLarge ? "a block decodes past the frame's bounds" : (error as Error).message, error);
  }
  if (out.length > capacity) throw capacityIsBound ? decompressedTooLarge('zstd', maxOutputBytes) : corruptCompressed('zstd', "a block decodes past the frame's bounds");
  return out;
}
