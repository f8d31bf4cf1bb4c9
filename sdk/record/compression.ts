import { CompressionType, type CompressionTypeValue } from './batch-header.ts';
import { CompressionError, corruptCompressed } from './compression-error.ts';
import { gzipCompress, gzipDecompress } from './gzip-codec.ts';
import { lz4Compress, lz4Decompress } from './lz4-codec.ts';
import { snappyCompress, snappyDecompress } from './snappy-codec.ts';
import { zstdCompress, zstdDecompress } from './zstd-codec.ts';

/**
 * Batch compression: every codec Kafka defines (the attribute's bits 0-2), with the framing the
 * Java client writes; see each codec's file. All are synchronous, so the record reader, the
 * producer and the log cleaner call them inline. Values 5-7 are not codecs and are refused with
 * UNSUPPORTED_COMPRESSION_TYPE.
 */

export type CompressionName = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
export const COMPRESSION_NAMES: readonly CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
/** Upper bound on one batch's decompressed records; a decompression bomb fails instead of exhausting memory. */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

interface Codec {
  compress(bytes: Uint8Array): Uint8Array;
  /** Throws a CompressionError (CORRUPT_MESSAGE) for bad data or output beyond the bound. */
  decompress(bytes: Uint8Array, maxOutputBytes: number): Uint8Array;
}

const CODECS: { readonly [type: number]: Codec } = {
  [CompressionType.gzip]: { compress: gzipCompress, decompress: gzipDecompress },
  [CompressionType.snappy]: { compress: snappyCompress, decompress: snappyDecompress },
  [CompressionType.lz4]: { compress: lz4Compress, decompress: lz4Decompress },
  [CompressionType.zstd]: { compress: zstdCompress, decompress: zstdDecompress },
};

/** The Kafka name of an attribute's compression value, or undefined for 5-7. */
export function compressionName(type: number): CompressionName | undefined {
  return COMPRESSION_NAMES[type];
}

function unsupported(compression: string | number): CompressionError {
  const what = typeof compression === 'number' ? `compression type ${compression}` : `compression "${compression}"`;
  return new CompressionError('UNSUPPORTED_COMPRESSION_TYPE', String(compression), `${what} is not supported; use one of ${COMPRESSION_NAMES.join(', ')}`);
}

/** Resolves a name or attribute value to a compression type, or throws UNSUPPORTED_COMPRESSION_TYPE. */
export function supportedCompressionType(compression: CompressionName | number): CompressionTypeValue {
  const type = typeof compression === 'number' ? compression : COMPRESSION_NAMES.indexOf(compression);
  if (!Number.isInteger(type) || type < 0 || type >= COMPRESSION_NAMES.length) throw unsupported(compression);
  return type as CompressionTypeValue;
}

export function compress(type: number, bytes: Uint8Array): Uint8Array {
  const resolved = supportedCompressionType(type);
  return resolved === CompressionType.none ? bytes : CODECS[resolved]!.compress(bytes);
}

/**
 * Decompresses one batch's records. Bad data or output beyond `maxOutputBytes` is a
 * CompressionError with CORRUPT_MESSAGE naming the codec; the output is never allocated past the
 * bound, whatever sizes the data declares.
 */
export function decompress(type: number, bytes: Uint8Array, maxOutputBytes = DEFAULT_MAX_DECOMPRESSED_BYTES): Uint8Array {
  const resolved = supportedCompressionType(type);
  if (resolved === CompressionType.none) return bytes;
  try {
    return CODECS[resolved]!.decompress(bytes, maxOutputBytes);
  } catch (error) {
    if (error instanceof CompressionError) throw error;
    // A WebAssembly decoder's own failure (a trap, an allocation it could not make) is still bad data.
    throw corruptCompressed(COMPRESSION_NAMES[resolved]!, error instanceof Error ? error.message : String(error), error);
  }
}
