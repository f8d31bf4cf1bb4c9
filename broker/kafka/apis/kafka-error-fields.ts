import { KafkaError } from '../../../sdk/protocol/kafka-error.ts';

/** The error code and message a response carries for a failure; anything not a KafkaError is a bug and rethrown. */
export function errorFields(error: unknown): { errorCode: number; errorMessage: string } {
  if (error instanceof KafkaError) return { errorCode: error.code, errorMessage: error.message };
  throw error;
}
