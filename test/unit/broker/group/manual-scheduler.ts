import type { CancelTimer, Scheduler } from '../../../../broker/group/scheduler.ts';

interface Task {
  atMs: number;
  order: number;
  run: () => void;
  cancelled: boolean;
}

export interface ManualSchedulerOptions {
  startMs?: number;
  /**
   * Timers run this many ms before the clock reaches their due time, and the clock catches up at
   * the first read inside the task: what real timers do against the wall clock, since Node runs
   * them on the event loop's cached monotonic time (taken before the work that scheduled them)
   * while `Date.now()` keeps moving.
   */
  timersFireEarlyMs?: number;
}

/** A scheduler whose time moves only when a test calls `advance`; due tasks run in time order. */
export class ManualScheduler implements Scheduler {
  private now: number;
  private order = 0;
  private tasks: Task[] = [];
  private readonly earlyMs: number;
  /** Where the clock jumps at its next read, while an early timer task runs. */
  private catchUpMs: number | undefined;

  constructor(options: ManualSchedulerOptions = {}) {
    this.now = options.startMs ?? 1_700_000_000_000;
    this.earlyMs = options.timersFireEarlyMs ?? 0;
  }

  nowMs(): number {
    const now = this.now;
    if (this.catchUpMs !== undefined) {
      this.now = this.catchUpMs;
      this.catchUpMs = undefined;
    }
    return now;
  }

  schedule(delayMs: number, run: () => void): CancelTimer {
    const task: Task = { atMs: this.now + Math.max(0, delayMs), order: this.order++, run, cancelled: false };
    this.tasks.push(task);
    return () => {
      task.cancelled = true;
    };
  }

  advance(ms: number): void {
    const targetMs = this.now + ms;
    for (;;) {
      this.tasks = this.tasks.filter((t) => !t.cancelled);
      const due = this.tasks.filter((t) => t.atMs - this.earlyMs <= targetMs).sort((a, b) => a.atMs - b.atMs || a.order - b.order)[0];
      if (due === undefined) break;
      this.tasks.splice(this.tasks.indexOf(due), 1);
      const firesAtMs = Math.max(this.now, due.atMs - this.earlyMs);
      this.now = firesAtMs;
      this.catchUpMs = firesAtMs < due.atMs ? due.atMs : undefined;
      due.run();
      this.catchUpMs = undefined;
    }
    this.now = Math.max(this.now, targetMs);
  }
}
