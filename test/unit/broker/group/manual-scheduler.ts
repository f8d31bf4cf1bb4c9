import type { CancelTimer, Scheduler } from '../../../../broker/group/scheduler.ts';

interface Task {
  atMs: number;
  order: number;
  run: () => void;
  cancelled: boolean;
}

/** A scheduler whose time moves only when a test calls `advance`; due tasks run in time order. */
export class ManualScheduler implements Scheduler {
  private now: number;
  private order = 0;
  private tasks: Task[] = [];

  constructor(startMs = 1_700_000_000_000) {
    this.now = startMs;
  }

  nowMs(): number {
    return this.now;
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
      const due = this.tasks.filter((t) => t.atMs <= targetMs).sort((a, b) => a.atMs - b.atMs || a.order - b.order)[0];
      if (due === undefined) break;
      this.tasks.splice(this.tasks.indexOf(due), 1);
      this.now = due.atMs;
      due.run();
    }
    this.now = targetMs;
  }
}
