import { ErrorCode, type ErrorName, isRetriable } from './error-codes.ts';

/**
 * An expected failure carrying a Kafka error code. Thrown or returned by the broker core and the
 * client; the wire layer turns it into the matching error code.
 */
export class KafkaError extends Error {
  readonly code: number;
  readonly errorName: ErrorName;
  readonly retriable: boolean;

  constructor(errorName: ErrorName, message: string, options?: { cause?: unknown }) {
    super(`${errorName}: ${message}`, options);
    this.name = 'KafkaError';
    this.errorName = errorName;
    this.code = ErrorCode[errorName];
    this.retriable = isRetriable(this.code);
  }
}

export function isKafkaError(error: unknown, name?: ErrorName): error is KafkaError {
  return error instanceof KafkaError && (name === undefined || error.errorName === name);
}
