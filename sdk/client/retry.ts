import { isKafkaError } from '../protocol/kafka-error.ts';
import { type BackoffOptions, backoffMs, delay } from '../transport/backoff.ts';

export interface RetryOptions {
  /** Attempts after the first. */
  retries: number;
  backoff: BackoffOptions;
  /** Also retry these (non-retriable by Kafka's table) errors, e.g. a coordinator still loading. */
  alsoRetry?: (error: unknown) => boolean;
  /** Called before each retry, e.g. to refresh metadata. */
  onRetry?: (error: unknown) => void | Promise<void>;
  signal?: AbortSignal;
}

export const defaultRetry: RetryOptions = { retries: 10, backoff: { initialMs: 50, maxMs: 1_000 } };

/** Runs `attempt` until it succeeds, fails with a non-retriable error, or runs out of retries. */
export async function retrying<T>(attempt: () => Promise<T>, options: RetryOptions = defaultRetry): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      const retriable = (isKafkaError(error) && error.retriable) || options.alsoRetry?.(error) === true;
      if (!retriable || n >= options.retries) throw error;
      await options.onRetry?.(error);
      await delay(backoffMs(n, options.backoff), options.signal);
    }
  }
}
