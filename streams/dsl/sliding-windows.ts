import { TopologyError } from '../topology/topology.ts';

/**
 * Sliding windows on event time (Kafka Streams' SlidingWindows): windows of a fixed time
 * difference `timeDifferenceMs` (d), inclusive at both ends, that slide with the records instead
 * of being aligned to the epoch. Only windows that hold records exist, one per distinct set of
 * records within d of each other:
 *
 * - each record at t has its left window [t - d, t] (the records up to d before it, and itself);
 * - each record at t has its right window [t + 1, t + 1 + d] once a record falls in it (created
 *   when one arrives, holding the records after t up to d + 1 after it);
 * - a record at t < d goes into the window [0, d] instead of a left window (window starts are never
 *   negative), as in Kafka Streams.
 *
 * A window's table key is `Windowed<K>` with `window.startMs` its start and `window.endMs` its
 * (inclusive) end, start + d. The grace period is how long after a window's end it still takes late
 * records: a window is closed once stream time passes its end plus the grace (stream time > end +
 * grace). A record is dropped, counted, and optionally dead-lettered (`FailurePolicy.lateRecords`)
 * when every window that could hold it is closed (t + d + grace < stream time); otherwise it
 * updates the windows that are open and leaves closed ones as they are.
 */
export class SlidingWindows {
  private constructor(
    readonly timeDifferenceMs: number,
    readonly graceMs: number,
  ) {}

  /** Sliding windows of `timeDifferenceMs` (> 0) that close as soon as stream time passes their end. */
  static ofTimeDifferenceWithNoGrace(timeDifferenceMs: number): SlidingWindows {
    return SlidingWindows.ofTimeDifferenceAndGrace(timeDifferenceMs, 0);
  }

  /** Sliding windows of `timeDifferenceMs` (> 0) that take late records until stream time passes their end by `graceMs`. */
  static ofTimeDifferenceAndGrace(timeDifferenceMs: number, graceMs: number): SlidingWindows {
    if (!Number.isSafeInteger(timeDifferenceMs) || timeDifferenceMs <= 0) throw new TopologyError(`a sliding window's time difference must be a positive integer of milliseconds, got ${timeDifferenceMs}`);
    if (!Number.isSafeInteger(graceMs) || graceMs < 0) throw new TopologyError(`a grace period must be a non-negative integer of milliseconds, got ${graceMs}`);
    return new SlidingWindows(timeDifferenceMs, graceMs);
  }

  /**
   * How long the window store keeps a window after its start (Kafka Streams' default): twice the
   * time difference plus the grace, since a record at t reads windows starting from t - 2d to find
   * the aggregate its left window starts from.
   */
  get retentionMs(): number {
    return 2 * this.timeDifferenceMs + this.graceMs;
  }
}
