import { TopologyError } from '../topology/topology.ts';

/**
 * Session windows on event time (Kafka Streams' SessionWindows): a key's records within
 * `inactivityGapMs` of each other form one session, from its first record's timestamp to its
 * last's (both inclusive). A record starts a session [t, t], or joins every session of its key
 * within the gap of it (sessions ending at or after t - gap and starting at or before t + gap),
 * merging them into one: so a record between two sessions bridges them.
 *
 * The grace period is how long after a session's end it still takes late records: a record is
 * dropped, counted, and optionally dead-lettered (`FailurePolicy.lateRecords`) when the session it
 * would make (merged with the ones it joins) ends before stream time - grace.
 */
export class SessionWindows {
  private constructor(
    readonly inactivityGapMs: number,
    readonly graceMs: number,
  ) {}

  /** Sessions with an inactivity gap of `inactivityGapMs` (> 0) that close as soon as stream time passes their end. */
  static ofInactivityGapWithNoGrace(inactivityGapMs: number): SessionWindows {
    return SessionWindows.ofInactivityGapAndGrace(inactivityGapMs, 0);
  }

  /** Sessions with an inactivity gap of `inactivityGapMs` (> 0) that take late records until stream time passes their end by `graceMs`. */
  static ofInactivityGapAndGrace(inactivityGapMs: number, graceMs: number): SessionWindows {
    if (!Number.isSafeInteger(inactivityGapMs) || inactivityGapMs <= 0) throw new TopologyError(`a session's inactivity gap must be a positive integer of milliseconds, got ${inactivityGapMs}`);
    if (!Number.isSafeInteger(graceMs) || graceMs < 0) throw new TopologyError(`a grace period must be a non-negative integer of milliseconds, got ${graceMs}`);
    return new SessionWindows(inactivityGapMs, graceMs);
  }

  /** How long the session store keeps a session after its end (Kafka Streams' default): the gap plus the grace. */
  get retentionMs(): number {
    return this.inactivityGapMs + this.graceMs;
  }
}
