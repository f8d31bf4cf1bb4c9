import { errorName } from '../protocol/error-codes.ts';
import { KafkaError } from '../protocol/kafka-error.ts';

/** The KafkaError for a non-zero error code in a response; unknown codes become UNKNOWN_SERVER_ERROR. */
export function errorFromCode(code: number, context: string, message?: string | null): KafkaError {
  const name = errorName(code) ?? 'UNKNOWN_SERVER_ERROR';
  return new KafkaError(name, `${context}${message ? `: ${message}` : ''}${errorName(code) === undefined ? ` (error code ${code})` : ''}`);
}

/** Throws the matching KafkaError when `code` is not 0. */
export function throwIfError(code: number, context: string, message?: string | null): void {
  if (code !== 0) throw errorFromCode(code, context, message);
}
