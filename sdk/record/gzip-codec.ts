import { gunzipSync, gzipSync } from 'node:zlib';
import { corruptCompressed, decompressedTooLarge } from './compression-error.ts';

/** gzip (RFC 1952) through node:zlib, which Node, Bun and Deno all provide. */
export function gzipCompress(bytes: Uint8Array): Uint8Array {
  return gzipSync(bytes);
}

export function gzipDecompress(bytes: Uint8Array, maxOutputBytes: number): Uint8Array {
  try {
    return gunzipSync(bytes, { maxOutputLength: maxOutputBytes });
  } catch (error) {
    if (error instanceof RangeError || (error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') throw decompressedTooLarge('gzip', maxOutputBytes);
    throw corruptCompressed('gzip', (error as Error).message, error);
  }
}
