import { gunzipSync, gzipSync } from 'node:zlib';
import { KafkaError } from '../protocol/kafka-error.ts';
import { CompressionType, type CompressionTypeValue } from './batch-header.ts';

/**
 * Batch compression. Only gzip is implemented (node:zlib exists on Node, Bun and Deno); snappy, lz4
 * and zstd batches are refused with UNSUPPORTED_COMPRESSION_TYPE rather than passed on as garbage.
 */

export type CompressionName = 'none' | 'gzip';
/** Upper bound on one batch's decompressed records; a zip bomb fails instead of exhausting memory. */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

const NAMES: { readonly [type: number]: string } = {
  [CompressionType.snappy]: 'snappy',
  [CompressionType.lz4]: 'lz4',
  [CompressionType.zstd]: 'zstd',
};

function unsupported(compression: string | number): KafkaError {
  const name = typeof compression === 'number' ? NAMES[compression] : compression;
  const what = name === undefined ? `compression type ${compression}` : `${name} compression`;
  return new KafkaError('UNSUPPORTED_COMPRESSION_TYPE', `${what} is not supported; use gzip or none`);
}

/** Resolves a name or attribute value to a supported compression type, or throws. */
export function supportedCompressionType(compression: CompressionName | number): CompressionTypeValue {
  if (compression === 'none' || compression === CompressionType.none) return CompressionType.none;
  if (compression === 'gzip' || compression === CompressionType.gzip) return CompressionType.gzip;
  throw unsupported(compression);
}

export function compress(type: number, bytes: Uint8Array): Uint8Array {
  if (supportedCompressionType(type) === CompressionType.none) return bytes;
  return gzipSync(bytes);
}

/** Decompresses one batch's records; bad data or output beyond `maxOutputBytes` is CORRUPT_MESSAGE. */
export function decompress(
  type: number,
  bytes: Uint8Array,
  maxOutputBytes = DEFAULT_MAX_DECOMPRESSED_BYTES,
): Uint8Array {
  if (supportedCompressionType(type) === CompressionType.none) return bytes;
  try {
    return gunzipSync(bytes, { maxOutputLength: maxOutputBytes });
  } catch (error) {
    const tooLarge = error instanceof RangeError || (error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE';
    const reason = tooLarge
      ? `gzip records decompress to more than ${maxOutputBytes} bytes`
      : `gzip records cannot be decompressed (${(error as Error).message})`;
    throw new KafkaError('CORRUPT_MESSAGE', reason, { cause: error });
  }
}
