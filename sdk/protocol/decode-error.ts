import type { ErrorName } from './error-codes.ts';
import { KafkaError } from './kafka-error.ts';

/** Which Kafka error a malformed frame maps to: a broken encoding, or a well-formed but invalid request. */
export type DecodeErrorName = Extract<ErrorName, 'CORRUPT_MESSAGE' | 'INVALID_REQUEST'>;

/**
 * A frame that cannot be decoded: truncated, a length or count beyond the frame, a null where the
 * schema forbids one, a varint longer than 5 bytes, trailing bytes. `offset` is the byte position in
 * the frame where decoding stopped. Once the request header is known, `decodeRequest` attaches it so
 * the server can still answer (or log) the right correlation id.
 */
export class ProtocolDecodeError extends KafkaError {
  declare readonly errorName: DecodeErrorName;
  /** The message without the error-name prefix and header context. */
  readonly detail: string;
  readonly offset: number;
  readonly apiKey: number | null;
  readonly apiVersion: number | null;
  readonly correlationId: number | null;

  constructor(
    errorName: DecodeErrorName,
    message: string,
    offset: number,
    header?: { apiKey: number; apiVersion: number; correlationId: number },
  ) {
    super(errorName, header === undefined ? message : `${message} (apiKey ${header.apiKey} v${header.apiVersion})`);
    this.name = 'ProtocolDecodeError';
    this.detail = message;
    this.offset = offset;
    this.apiKey = header?.apiKey ?? null;
    this.apiVersion = header?.apiVersion ?? null;
    this.correlationId = header?.correlationId ?? null;
  }

  /** The same error, with the request header it occurred under. */
  withHeader(header: { apiKey: number; apiVersion: number; correlationId: number }): ProtocolDecodeError {
    return new ProtocolDecodeError(this.errorName, this.detail, this.offset, header);
  }
}

export function isProtocolDecodeError(error: unknown): error is ProtocolDecodeError {
  return error instanceof ProtocolDecodeError;
}
