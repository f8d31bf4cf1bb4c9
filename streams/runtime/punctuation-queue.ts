import { type Cancellable, type Punctuator, PunctuationType, type PunctuationTypeValue } from '../topology/punctuation.ts';

/** Bound on the live schedules of one task (a processor scheduling in `process()` without cancelling would grow it forever). */
export const MAX_SCHEDULES_PER_TASK = 1_000;

/** One schedule of a task: its processor node, its clock, and when it is due next. */
export interface PunctuationSchedule {
  readonly node: string;
  readonly type: PunctuationTypeValue;
  readonly intervalMs: number;
  readonly punctuator: Punctuator;
  dueMs: number;
  /** `dueMs` as of the task's last commit: a failed commit puts stream-time schedules back there. */
  committedDueMs: number;
  cancelled: boolean;
}

/**
 * A task's punctuation schedules (Kafka Streams' PunctuationQueue). Stream-time schedules are
 * aligned to 0, so the first record fires them; wall-clock ones are due one interval after they
 * were scheduled. After firing at `t`, a schedule is due at its first multiple of the interval
 * (counted from its previous due time) after `t`: once per jump, however far time jumped.
 */
export class PunctuationQueue {
  private schedules: PunctuationSchedule[] = [];
  /** Earliest due time per type; recomputed after a change (the thread asks after every record). */
  private next: Record<PunctuationTypeValue, number> | undefined;

  add(node: string, intervalMs: number, type: PunctuationTypeValue, punctuator: Punctuator, nowMs: number): Cancellable {
    if (!Number.isInteger(intervalMs) || intervalMs < 1) throw new Error(`processor "${node}": a punctuation interval must be a positive integer of milliseconds, got ${intervalMs}`);
    if (type !== PunctuationType.STREAM_TIME && type !== PunctuationType.WALL_CLOCK_TIME) throw new Error(`processor "${node}": unknown punctuation type ${String(type)}`);
    if (this.schedules.length >= MAX_SCHEDULES_PER_TASK) throw new Error(`processor "${node}": a task holds at most ${MAX_SCHEDULES_PER_TASK} punctuation schedules; cancel the ones no longer needed`);
    const dueMs = type === PunctuationType.STREAM_TIME ? 0 : nowMs + intervalMs;
    const schedule: PunctuationSchedule = { node, type, intervalMs, punctuator, dueMs, committedDueMs: dueMs, cancelled: false };
    this.schedules.push(schedule);
    this.next = undefined;
    return { cancel: () => this.cancel(schedule) };
  }

  private cancel(schedule: PunctuationSchedule): void {
    if (schedule.cancelled) return;
    schedule.cancelled = true;
    this.schedules = this.schedules.filter((s) => s !== schedule);
    this.next = undefined;
  }

  /** The earliest due time of the schedules of `type`, Infinity when there are none. */
  nextDueMs(type: PunctuationTypeValue): number {
    if (this.next === undefined) {
      const next = { [PunctuationType.STREAM_TIME]: Infinity, [PunctuationType.WALL_CLOCK_TIME]: Infinity };
      for (const s of this.schedules) if (s.dueMs < next[s.type]) next[s.type] = s.dueMs;
      this.next = next;
    }
    return this.next[type];
  }

  /** The schedules of `type` due at `timestampMs`, earliest first, each moved to its next due time. */
  takeDue(type: PunctuationTypeValue, timestampMs: number): PunctuationSchedule[] {
    if (this.nextDueMs(type) > timestampMs) return [];
    const due = this.schedules.filter((s) => s.type === type && s.dueMs <= timestampMs).sort((a, b) => a.dueMs - b.dueMs);
    for (const s of due) s.dueMs += (Math.floor((timestampMs - s.dueMs) / s.intervalMs) + 1) * s.intervalMs;
    this.next = undefined;
    return due;
  }

  /** The task committed: its schedules' due times are now part of its committed state. */
  commit(): void {
    for (const s of this.schedules) s.committedDueMs = s.dueMs;
  }

  /**
   * The task went back to its last commit: stream-time schedules are due where they were then, so
   * the records read again fire them as before. Wall-clock schedules keep going.
   */
  rollback(): void {
    for (const s of this.schedules) if (s.type === PunctuationType.STREAM_TIME) s.dueMs = s.committedDueMs;
    this.next = undefined;
  }

  cancelAll(): void {
    for (const s of this.schedules) s.cancelled = true;
    this.schedules = [];
    this.next = undefined;
  }
}
