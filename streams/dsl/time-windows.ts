import { TopologyError } from '../topology/topology.ts';

/**
 * Fixed-size windows on event time (Kafka Streams' TimeWindows): tumbling when they advance by
 * their size (each record in one window), hopping when they advance by less (each record in
 * `sizeMs / advanceMs` windows). Windows are aligned to the epoch: they start at multiples of
 * `advanceMs`, include their start and exclude their end.
 *
 * The grace period is how long after a window's end it still takes late records: a window closes
 * once the task's stream time (the largest record timestamp it has seen) reaches its end plus the
 * grace. A record whose windows are all closed is dropped, counted, and optionally dead-lettered
 * (`FailurePolicy.lateRecords`); it is never folded into a closed window.
 */
export class TimeWindows {
  private constructor(
    readonly sizeMs: number,
    readonly advanceMs: number,
    readonly graceMs: number,
  ) {}

  /** Tumbling windows of `sizeMs` that close as soon as stream time reaches their end. */
  static ofSizeWithNoGrace(sizeMs: number): TimeWindows {
    return TimeWindows.ofSizeAndGrace(sizeMs, 0);
  }

  /** Tumbling windows of `sizeMs` that take late records until stream time passes their end by `graceMs`. */
  static ofSizeAndGrace(sizeMs: number, graceMs: number): TimeWindows {
    if (!Number.isSafeInteger(sizeMs) || sizeMs <= 0) throw new TopologyError(`a window size must be a positive integer of milliseconds, got ${sizeMs}`);
    if (!Number.isSafeInteger(graceMs) || graceMs < 0) throw new TopologyError(`a grace period must be a non-negative integer of milliseconds, got ${graceMs}`);
    return new TimeWindows(sizeMs, sizeMs, graceMs);
  }

  /** The same windows advancing by `advanceMs` (0 < advanceMs <= sizeMs): hopping windows when less than the size. */
  advanceBy(advanceMs: number): TimeWindows {
    if (!Number.isSafeInteger(advanceMs) || advanceMs <= 0 || advanceMs > this.sizeMs) {
      throw new TopologyError(`a window advance must be a positive integer of milliseconds no larger than the size (${this.sizeMs}), got ${advanceMs}`);
    }
    return new TimeWindows(this.sizeMs, advanceMs, this.graceMs);
  }

  /** How long a window store keeps a window after its start: its size plus the grace, when it closes. */
  get retentionMs(): number {
    return this.sizeMs + this.graceMs;
  }

  /** The starts of the windows holding `timestampMs` (>= 0), ascending. */
  windowStartsFor(timestampMs: number): number[] {
    const starts: number[] = [];
    let start = Math.floor(Math.max(0, timestampMs - this.sizeMs + this.advanceMs) / this.advanceMs) * this.advanceMs;
    for (; start <= timestampMs; start += this.advanceMs) starts.push(start);
    return starts;
  }

  /** Whether the window starting at `startMs` is closed when the task's stream time is `streamTimeMs`. */
  isClosed(startMs: number, streamTimeMs: number): boolean {
    return streamTimeMs >= startMs + this.sizeMs + this.graceMs;
  }
}
