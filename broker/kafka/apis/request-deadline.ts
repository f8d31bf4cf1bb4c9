import { KafkaError } from '../../../sdk/protocol/kafka-error.ts';
import type { ErrorResult } from './admin-result.ts';
import { errorFields } from './kafka-error-fields.ts';

/**
 * Bounds how long an admin request waits for its changes (the request's `timeoutMs`). A change
 * still running at the deadline is answered REQUEST_TIMED_OUT but carries on, as in Kafka, where
 * a timed-out topic creation still completes on the controller. A `timeoutMs` of zero or less
 * therefore answers every change that has not already finished with REQUEST_TIMED_OUT.
 */
export class RequestDeadline {
  private readonly expired: Promise<ErrorResult>;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(timeoutMs: number) {
    this.expired = new Promise((resolve) => {
      this.timer = setTimeout(() => {
        resolve(errorFields(new KafkaError('REQUEST_TIMED_OUT', `not finished within the request's ${timeoutMs} ms timeout; the change continues in the background`)));
      }, Math.max(0, timeoutMs));
    });
  }

  /** `work`'s result, or REQUEST_TIMED_OUT if the deadline passes first. */
  within(work: Promise<ErrorResult>): Promise<ErrorResult> {
    // After the deadline nobody awaits `work`; a late failure has no response left to go into.
    work.catch(() => undefined);
    return Promise.race([work, this.expired]);
  }

  /** Stops the timer once every result is in, so it never keeps the process alive. */
  clear(): void {
    clearTimeout(this.timer);
  }
}
