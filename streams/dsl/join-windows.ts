import { TopologyError } from '../topology/topology.ts';

/**
 * The window of a stream-stream join (Kafka Streams' JoinWindows): a left record at time t joins
 * every right record of its key whose timestamp is in `[t - beforeMs, t + afterMs]` (so a right
 * record at t' joins the left records in `[t' - afterMs, t' + beforeMs]`). Bounds are inclusive;
 * `beforeMs` or `afterMs` may be negative as long as the window is not empty.
 *
 * Stream time, for a join, is the largest timestamp of the records the join has taken (of either
 * side). The grace period is how far behind stream time a record may be and still join: a record
 * with `timestamp + graceMs < stream time` is late, dropped (counted, dead-lettered by
 * `FailurePolicy.lateRecords`) and never joined. A left record's window closes once stream time
 * passes `timestamp + afterMs + graceMs` (a right record's: `timestamp + beforeMs + graceMs`): no
 * record that can still join arrives after that, and left/outer joins emit the record with a null
 * other side then, if nothing joined it.
 */
export class JoinWindows {
  private constructor(
    readonly beforeMs: number,
    readonly afterMs: number,
    readonly graceMs: number,
  ) {}

  /** Records join when their timestamps differ by at most `timeDifferenceMs`; late records are those more than `graceMs` behind stream time. */
  static ofTimeDifferenceAndGrace(timeDifferenceMs: number, graceMs: number): JoinWindows {
    if (!Number.isSafeInteger(timeDifferenceMs) || timeDifferenceMs < 0) throw new TopologyError(`a join's time difference must be a non-negative integer of milliseconds, got ${timeDifferenceMs}`);
    if (!Number.isSafeInteger(graceMs) || graceMs < 0) throw new TopologyError(`a grace period must be a non-negative integer of milliseconds, got ${graceMs}`);
    return new JoinWindows(timeDifferenceMs, timeDifferenceMs, graceMs);
  }

  /** As `ofTimeDifferenceAndGrace` with no grace: a record behind stream time at all is late. */
  static ofTimeDifferenceWithNoGrace(timeDifferenceMs: number): JoinWindows {
    return JoinWindows.ofTimeDifferenceAndGrace(timeDifferenceMs, 0);
  }

  /** The same windows reaching `beforeMs` back from a left record's time (right records at most that much older join it). */
  before(beforeMs: number): JoinWindows {
    return JoinWindows.checked(beforeMs, this.afterMs, this.graceMs);
  }

  /** The same windows reaching `afterMs` on from a left record's time (right records at most that much newer join it). */
  after(afterMs: number): JoinWindows {
    return JoinWindows.checked(this.beforeMs, afterMs, this.graceMs);
  }

  private static checked(beforeMs: number, afterMs: number, graceMs: number): JoinWindows {
    if (!Number.isSafeInteger(beforeMs) || !Number.isSafeInteger(afterMs)) throw new TopologyError(`a join window's bounds must be integers of milliseconds, got before ${beforeMs}, after ${afterMs}`);
    if (beforeMs + afterMs < 0) throw new TopologyError(`a join window must not be empty: before (${beforeMs} ms) + after (${afterMs} ms) is negative`);
    return new JoinWindows(beforeMs, afterMs, graceMs);
  }

  /**
   * How long each side's window store keeps a record after its timestamp: long enough that a
   * record that is not late finds every record it joins, whichever side it is on.
   */
  get retentionMs(): number {
    return Math.max(this.beforeMs, this.afterMs) + this.graceMs + 1;
  }
}
