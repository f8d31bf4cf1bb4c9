import { Effect } from 'effect';
import type { ProcessResult } from '../topology/processor.ts';

/**
 * What a user function of the DSL may return: a value, a promise of one, or an Effect that needs
 * no services (it is run with `Effect.runPromise`; its failure fails the record).
 */
export type UserResult<T> = T | PromiseLike<T> | Effect.Effect<T, unknown, never>;

/**
 * Calls `next` with the function's result: at once for a plain value (the common, allocation-free
 * path), once it settles for a promise or an Effect. Returns what `next` returns, or the promise of
 * it, so a step that goes asynchronous after another is still followed by the runtime.
 */
export function withResult<T>(result: UserResult<T>, next: (value: T) => ProcessResult): ProcessResult {
  if (result !== null && typeof result === 'object') {
    if (Effect.isEffect(result)) return Effect.runPromise(result as Effect.Effect<T, unknown, never>).then(next);
    if (typeof (result as PromiseLike<T>).then === 'function') return (result as PromiseLike<T>).then(next);
  }
  return next(result as T);
}
