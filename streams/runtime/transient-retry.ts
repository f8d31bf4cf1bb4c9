import type { RetryOptions } from '../../sdk/client/retry.ts';

/**
 * Retries of the runtime's own requests (internal topics at start, restores, a new transaction)
 * on retriable errors: a broker restarting or a coordinator moving must not stop the application.
 * About two minutes in all before the error is taken as lasting.
 */
export const TRANSIENT_RETRY: RetryOptions = { retries: 60, backoff: { initialMs: 100, maxMs: 2_000 } };
