import { isKafkaError } from '../../../sdk/protocol/kafka-error.ts';

/** The error pair every admin API reports per topic or per config resource. */
export interface ErrorResult {
  errorCode: number;
  errorMessage: string | null;
}

export const NO_ERROR: Readonly<ErrorResult> = Object.freeze({ errorCode: 0, errorMessage: null });

/**
 * Turns an expected failure (a KafkaError) into its wire error pair. Anything else is a broken
 * invariant and is rethrown, so a bug reaches the dispatcher instead of hiding in a response.
 */
export function errorResult(error: unknown): ErrorResult {
  if (isKafkaError(error)) return { errorCode: error.code, errorMessage: error.message };
  throw error;
}

/** Runs one admin operation, answering NO_ERROR on success and the failure's error pair otherwise. */
export async function settle(operation: () => Promise<unknown> | unknown): Promise<ErrorResult> {
  try {
    await operation();
    return NO_ERROR;
  } catch (error) {
    return errorResult(error);
  }
}
