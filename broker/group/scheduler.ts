import { type Clock, systemClock } from '../log/clock.ts';

/** Cancels a scheduled task; cancelling twice, or after it ran, does nothing. */
export type CancelTimer = () => void;

/**
 * Time and timers for the group coordinator, injected so tests drive session expiry, join
 * barriers and offset retention by advancing a manual clock instead of sleeping.
 */
export interface Scheduler {
  nowMs(): number;
  schedule(delayMs: number, task: () => void): CancelTimer;
}

/** Real timers; they never keep a process alive on their own. */
export function timerScheduler(clock: Clock = systemClock): Scheduler {
  return {
    nowMs: () => clock.nowMs(),
    schedule(delayMs, task) {
      const timer = setTimeout(task, Math.max(0, delayMs));
      (timer as { unref?: () => void }).unref?.();
      return () => clearTimeout(timer);
    },
  };
}
