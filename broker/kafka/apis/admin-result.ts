import { errorFields } from './kafka-error-fields.ts';

/** The error pair every admin API reports per topic or per config resource. */
export interface ErrorResult {
  errorCode: number;
  errorMessage: string | null;
}

export const NO_ERROR: Readonly<ErrorResult> = Object.freeze({ errorCode: 0, errorMessage: null });

/**
 * Runs one admin operation, answering NO_ERROR on success and a KafkaError's code and message
 * otherwise; any other error is a bug and propagates.
 */
export async function settle(operation: () => Promise<unknown> | unknown): Promise<ErrorResult> {
  try {
    await operation();
    return NO_ERROR;
  } catch (error) {
    return errorFields(error);
  }
}
