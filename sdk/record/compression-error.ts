import { KafkaError } from '../protocol/kafka-error.ts';

/**
 * A batch's records could not be compressed or decompressed, naming the codec. Decoding the same
 * bytes again fails the same way, so unlike Kafka's CORRUPT_MESSAGE code in general (a network
 * corruption may heal on a refetch) this error is never retriable: a consumer surfaces it.
 */
export class CompressionError extends KafkaError {
  /** The codec's Kafka name (`gzip`, `snappy`, `lz4`, `zstd`), or the attribute value of an unknown one. */
  readonly compression: string;
  override readonly retriable = false;

  constructor(errorName: 'CORRUPT_MESSAGE' | 'UNSUPPORTED_COMPRESSION_TYPE', compression: string, message: string, options?: { cause?: unknown }) {
    super(errorName, message, options);
    this.name = 'CompressionError';
    this.compression = compression;
  }
}

/** Malformed compressed data: `reason` says what is wrong. */
export function corruptCompressed(codec: string, reason: string, cause?: unknown): CompressionError {
  return new CompressionError('CORRUPT_MESSAGE', codec, `${codec} records cannot be decompressed: ${reason}`, cause === undefined ? undefined : { cause });
}

/** Data that would decompress past the caller's bound (a decompression bomb, or a bound set too low). */
export function decompressedTooLarge(codec: string, maxOutputBytes: number): CompressionError {
  return new CompressionError('CORRUPT_MESSAGE', codec, `${codec} records decompress to more than ${maxOutputBytes} bytes`);
}
