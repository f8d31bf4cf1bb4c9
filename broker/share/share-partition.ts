import { ErrorCode } from '../../sdk/protocol/error-codes.ts';
import { AcknowledgeType } from '../../sdk/protocol/acknowledge-type.ts';
import { RecordState, type RecordStateValue, transition } from './share-record-state.ts';

/** One offset between the share-partition start offset (SPSO) and end offset (SPEO). */
export interface InFlightRecord {
  readonly offset: number;
  state: RecordStateValue;
  /** Times the record was acquired; it is never acquired once this reaches the limit. */
  deliveryCount: number;
  /** The member holding the lock while ACQUIRED, null otherwise. */
  memberId: string | null;
  lockDeadlineMs: number;
  /**
   * While AVAILABLE after a failed delivery: when its retry backoff ends and it may be acquired
   * again (wall-clock ms); 0 when it may be acquired now.
   */
  availableAtMs: number;
}

/**
 * Holds the lock of a record being copied to the dead-letter topic: it stays ACQUIRED, so no member
 * gets it and no lock expiry returns it, until the copy is durable and it is ARCHIVED.
 */
export const DEAD_LETTER_OWNER = '\u0000dead-letter';

export type DeadLetterReason = 'rejected' | 'delivery-limit';

/** A record to copy to the dead-letter topic before it is archived. */
export interface DeadLetterTask {
  offset: number;
  deliveryCount: number;
  reason: DeadLetterReason;
}

/** The offsets one log batch spans, as the acquisition reads them. */
export interface BatchSpan {
  baseOffset: number;
  lastOffset: number;
  isControl: boolean;
}

/** KIP-932's AcquiredRecords: consecutive offsets acquired with the same delivery count. */
export interface AcquiredRange {
  firstOffset: number;
  lastOffset: number;
  deliveryCount: number;
}

export interface AcknowledgementBatch {
  firstOffset: number;
  lastOffset: number;
  /** One type for the whole range, or one per offset (KIP-932's AcknowledgeTypes). */
  acknowledgeTypes: readonly number[];
}

export interface SharePartitionLimits {
  deliveryCountLimit: number;
  partitionMaxRecordLocks: number;
  recordLockDurationMs: number;
  /**
   * The retry ladder (`rill.share.retry.backoff.ms`): a record returned after its n-th delivery
   * (released, its lock expired, its member left) is acquirable again only `retryBackoffMs[n-1]`
   * ms later, the last step repeating; empty for at once.
   */
  retryBackoffMs?: readonly number[];
}

/** What survives a restart: ACQUIRED is stored as AVAILABLE, keeping its delivery count. */
export type PersistedState = typeof RecordState.AVAILABLE | typeof RecordState.ACKNOWLEDGED | typeof RecordState.ARCHIVED;

export interface PersistedRange {
  firstOffset: number;
  lastOffset: number;
  state: PersistedState;
  deliveryCount: number;
  /** AVAILABLE records in retry backoff: when it ends; 0 otherwise. */
  availableAtMs: number;
}

export interface SharePartitionSnapshot {
  startOffset: number;
  /** Contiguous from `startOffset`; the end offset is the last range's lastOffset + 1. */
  ranges: readonly PersistedRange[];
}

export type AcknowledgeOutcome = { errorCode: number; message: string } | { errorCode: 0; deadLetters: DeadLetterTask[] };

function isFinal(state: RecordStateValue): boolean {
  return state === RecordState.ACKNOWLEDGED || state === RecordState.ARCHIVED;
}

/**
 * The share-group state of one (group, topic, partition), KIP-932's SharePartition: every offset in
 * [startOffset, endOffset) has an in-flight record; offsets below startOffset are done (acknowledged
 * or archived), offsets from endOffset on were never acquired. The window holds at most
 * `partitionMaxRecordLocks` offsets. Pure and synchronous: the coordinator reads the log, persists
 * snapshots and writes dead letters around it.
 *
 * The window is an array indexed from the start offset, and three lower bounds spare the per-fetch
 * steps (where to acquire from, lock expiry, backoff ends) a walk over the whole window when
 * nothing can have changed: every fetch took five such walks over a Map of up to
 * `partitionMaxRecordLocks` records. A bound may lag below the truth (a scan then finds less than
 * it hoped and raises it); it is lowered wherever a record can come to need it.
 */
export class SharePartition {
  /** The record of offset `o` (start ≤ o < end) is `slots[head + o - start]`; below `head` is done. */
  private slots: InFlightRecord[] = [];
  private head = 0;
  /** No record below this offset is acquirable. */
  private acquirableFrom: number;
  /** No member's lock ends earlier (Infinity: none held). */
  private lockDeadlineFloorMs = Number.POSITIVE_INFINITY;
  /** No retry backoff ends earlier (Infinity: none running). */
  private backoffEndFloorMs = Number.POSITIVE_INFINITY;
  /** Whether an AVAILABLE record may be at the delivery limit (restored, its copy failed, the limit lowered). */
  private mayHoldAtLimit = false;
  /** The highest delivery limit this partition has had: a record acquired under it keeps its count when the limit is lowered. */
  private deliveryLimitCeiling: number;

  private constructor(
    private limits: SharePartitionLimits,
    private start: number,
    private end: number,
  ) {
    this.acquirableFrom = start;
    this.deliveryLimitCeiling = limits.deliveryCountLimit;
  }

  static create(startOffset: number, limits: SharePartitionLimits): SharePartition {
    return new SharePartition(limits, startOffset, startOffset);
  }

  static fromSnapshot(snapshot: SharePartitionSnapshot, limits: SharePartitionLimits): SharePartition {
    const partition = new SharePartition(limits, snapshot.startOffset, snapshot.startOffset);
    for (const range of snapshot.ranges) {
      if (range.firstOffset !== partition.end || range.lastOffset < range.firstOffset) {
        throw new Error(`invariant broken: share-partition snapshot range ${range.firstOffset}-${range.lastOffset} does not continue at ${partition.end}`);
      }
      // Counts reached under a higher limit than the one in force now are kept (and dead-lettered).
      partition.deliveryLimitCeiling = Math.max(partition.deliveryLimitCeiling, range.deliveryCount);
      const availableAtMs = range.state === RecordState.AVAILABLE ? range.availableAtMs : 0;
      if (availableAtMs !== 0) partition.backoffEndFloorMs = Math.min(partition.backoffEndFloorMs, availableAtMs);
      for (let offset = range.firstOffset; offset <= range.lastOffset; offset++) {
        partition.slots.push({ offset, state: range.state, deliveryCount: range.deliveryCount, memberId: null, lockDeadlineMs: 0, availableAtMs });
      }
      partition.end = range.lastOffset + 1;
    }
    partition.mayHoldAtLimit = true;
    partition.advanceStart();
    return partition;
  }

  /**
   * New limits from altered group configs, applied from the next step: a lower delivery limit
   * dead-letters available records at it on the next lock sweep, a longer lock or backoff applies
   * to records returned or acquired from now on.
   */
  setLimits(limits: SharePartitionLimits): void {
    this.limits = limits;
    this.deliveryLimitCeiling = Math.max(this.deliveryLimitCeiling, limits.deliveryCountLimit);
    // A raised limit makes records at the old one acquirable again; a lowered one puts some at it.
    this.acquirableFrom = this.start;
    this.mayHoldAtLimit = true;
  }

  /** The share-partition start offset (SPSO). */
  get startOffset(): number {
    return this.start;
  }

  /** The share-partition end offset (SPEO): the next offset never acquired. */
  get endOffset(): number {
    return this.end;
  }

  inFlight(offset: number): Readonly<InFlightRecord> | undefined {
    return this.slotOf(offset);
  }

  private slotOf(offset: number): InFlightRecord | undefined {
    return offset >= this.start && offset < this.end ? this.at(offset) : undefined;
  }

  private at(offset: number): InFlightRecord {
    return this.slots[this.head + offset - this.start]!;
  }

  /**
   * Where a read for acquisition starts: the lowest record available again (and out of backoff), or the end offset
   * while the window has room and the log has more; undefined when nothing can be acquired.
   */
  nextAcquirableOffset(highWatermark: number): number | undefined {
    let offset = Math.max(this.acquirableFrom, this.start);
    while (offset < this.end && !acquirable(this.at(offset), this.limits)) offset++;
    this.acquirableFrom = offset;
    if (offset < this.end) return offset;
    return this.end < highWatermark && this.end - this.start < this.limits.partitionMaxRecordLocks ? this.end : undefined;
  }

  /**
   * Acquires for `memberId`, in offset order within `batches` (read from the log at
   * `nextAcquirableOffset`), up to `maxRecords`: records available again, then new offsets from
   * the end offset while the window has room. Offsets holding no record (control batches, offsets
   * compaction removed) are archived as the window passes them.
   */
  acquire(memberId: string, batches: readonly BatchSpan[], nowMs: number, maxRecords: number): AcquiredRange[] {
    const acquired: InFlightRecord[] = [];
    const lockDeadlineMs = nowMs + this.limits.recordLockDurationMs;
    const take = (record: InFlightRecord): void => {
      transition(record, RecordState.ACQUIRED);
      record.deliveryCount++;
      record.memberId = memberId;
      record.lockDeadlineMs = lockDeadlineMs;
      record.availableAtMs = 0;
      acquired.push(record);
    };
    scan: for (const batch of batches) {
      for (let offset = Math.max(batch.baseOffset, this.start); offset <= batch.lastOffset; offset++) {
        if (acquired.length >= maxRecords) break scan;
        if (offset < this.end) {
          const record = this.at(offset);
          if (acquirable(record, this.limits)) take(record);
          continue;
        }
        while (this.end <= offset) {
          if (this.end - this.start >= this.limits.partitionMaxRecordLocks) break scan;
          const record: InFlightRecord = { offset: this.end, state: RecordState.AVAILABLE, deliveryCount: 0, memberId: null, lockDeadlineMs: 0, availableAtMs: 0 };
          this.slots.push(record);
          this.end++;
          if (record.offset < offset || batch.isControl) transition(record, RecordState.ARCHIVED);
          else take(record);
        }
      }
    }
    if (acquired.length > 0) this.lockDeadlineFloorMs = Math.min(this.lockDeadlineFloorMs, lockDeadlineMs);
    this.advanceStart();
    return toRanges(acquired);
  }

  /**
   * Applies one member's acknowledgements, all or none: every offset must be ACQUIRED by the member,
   * else INVALID_RECORD_STATE and nothing changes. ACCEPT acknowledges, GAP archives, RELEASE makes
   * the record available again (or dead-letters it at the delivery limit), REJECT dead-letters it.
   * `nowMs` is when a released record's retry backoff starts.
   */
  acknowledge(memberId: string, batches: readonly AcknowledgementBatch[], nowMs = 0): AcknowledgeOutcome {
    for (const batch of batches) {
      const { firstOffset, lastOffset, acknowledgeTypes } = batch;
      const count = lastOffset - firstOffset + 1;
      if (!Number.isSafeInteger(firstOffset) || !Number.isSafeInteger(lastOffset) || count < 1) {
        return { errorCode: ErrorCode.INVALID_REQUEST, message: `acknowledgement batch ${firstOffset}-${lastOffset} is empty` };
      }
      if (acknowledgeTypes.length !== 1 && acknowledgeTypes.length !== count) {
        return { errorCode: ErrorCode.INVALID_REQUEST, message: `acknowledgement batch ${firstOffset}-${lastOffset} has ${acknowledgeTypes.length} types; give 1 or ${count}` };
      }
      if (firstOffset < this.start || lastOffset >= this.end) {
        return { errorCode: ErrorCode.INVALID_RECORD_STATE, message: `offsets ${firstOffset}-${lastOffset} are not in flight (in flight: ${this.start}-${this.end - 1})` };
      }
      for (let offset = firstOffset; offset <= lastOffset; offset++) {
        const type = acknowledgeTypes.length === 1 ? acknowledgeTypes[0]! : acknowledgeTypes[offset - firstOffset]!;
        if (type < AcknowledgeType.GAP || type > AcknowledgeType.REJECT || !Number.isInteger(type)) {
          return { errorCode: ErrorCode.INVALID_REQUEST, message: `acknowledge type ${type} at offset ${offset} is not 0-3` };
        }
        const record = this.at(offset);
        if (record.state !== RecordState.ACQUIRED || record.memberId !== memberId) {
          return { errorCode: ErrorCode.INVALID_RECORD_STATE, message: `offset ${offset} is ${record.state}${record.state === RecordState.ACQUIRED ? ' by another member' : ''}, not acquired by this member` };
        }
      }
    }
    const twice = overlap(batches);
    if (twice !== undefined) return { errorCode: ErrorCode.INVALID_REQUEST, message: `offset ${twice} is acknowledged twice` };
    const deadLetters: DeadLetterTask[] = [];
    for (const { firstOffset, lastOffset, acknowledgeTypes } of batches) {
      for (let offset = firstOffset; offset <= lastOffset; offset++) {
        const type = acknowledgeTypes.length === 1 ? acknowledgeTypes[0]! : acknowledgeTypes[offset - firstOffset]!;
        const record = this.at(offset);
        if (type === AcknowledgeType.ACCEPT) this.settle(record, RecordState.ACKNOWLEDGED);
        else if (type === AcknowledgeType.GAP) this.settle(record, RecordState.ARCHIVED);
        else if (type === AcknowledgeType.REJECT) deadLetters.push(this.holdForDeadLetter(record, 'rejected'));
        else this.returnOrDeadLetter(record, deadLetters, nowMs);
      }
    }
    this.advanceStart();
    return { errorCode: 0, deadLetters };
  }

  /**
   * Returns records whose lock expired at `nowMs`, and dead-letters available records at the
   * delivery limit (restored from a snapshot, or whose copy failed before).
   */
  expireLocks(nowMs: number): DeadLetterTask[] {
    const deadLetters: DeadLetterTask[] = [];
    if (nowMs < this.lockDeadlineFloorMs && !this.mayHoldAtLimit) return deadLetters;
    let floor = Number.POSITIVE_INFINITY;
    for (let i = this.head; i < this.slots.length; i++) {
      const record = this.slots[i]!;
      if (record.state === RecordState.ACQUIRED && record.memberId !== DEAD_LETTER_OWNER) {
        if (record.lockDeadlineMs <= nowMs) this.returnOrDeadLetter(record, deadLetters, nowMs);
        else floor = Math.min(floor, record.lockDeadlineMs);
      } else if (record.state === RecordState.AVAILABLE && record.deliveryCount >= this.limits.deliveryCountLimit) {
        deadLetters.push(this.holdForDeadLetter(record, 'delivery-limit'));
      }
    }
    this.lockDeadlineFloorMs = floor;
    this.mayHoldAtLimit = false;
    return deadLetters;
  }

  /** Returns every record `memberId` holds (it left, or closed its share session); their backoff starts at `nowMs`. */
  releaseMember(memberId: string, nowMs = 0): DeadLetterTask[] {
    const deadLetters: DeadLetterTask[] = [];
    for (let i = this.head; i < this.slots.length; i++) {
      const record = this.slots[i]!;
      if (record.state === RecordState.ACQUIRED && record.memberId === memberId) this.returnOrDeadLetter(record, deadLetters, nowMs);
    }
    return deadLetters;
  }

  /** Ends the retry backoff of records due at `nowMs`; true when any became acquirable (fetches waiting should look). */
  endDueBackoffs(nowMs: number): boolean {
    if (nowMs < this.backoffEndFloorMs) return false;
    let ended = false;
    let floor = Number.POSITIVE_INFINITY;
    for (let i = this.head; i < this.slots.length; i++) {
      const record = this.slots[i]!;
      if (record.state !== RecordState.AVAILABLE || record.availableAtMs === 0) continue;
      if (record.availableAtMs <= nowMs) {
        record.availableAtMs = 0;
        this.acquirableFrom = Math.min(this.acquirableFrom, record.offset);
        ended = true;
      } else {
        floor = Math.min(floor, record.availableAtMs);
      }
    }
    this.backoffEndFloorMs = floor;
    return ended;
  }

  /** When the next retry backoff ends, Infinity when none runs. */
  nextBackoffEndMs(): number {
    let next = Number.POSITIVE_INFINITY;
    for (let i = this.head; i < this.slots.length; i++) {
      const record = this.slots[i]!;
      if (record.state === RecordState.AVAILABLE && record.availableAtMs !== 0) next = Math.min(next, record.availableAtMs);
    }
    return next;
  }

  /** The earliest lock deadline of a member-held record, Infinity when none. */
  nextLockDeadlineMs(): number {
    if (this.lockDeadlineFloorMs === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
    let next = Number.POSITIVE_INFINITY;
    for (let i = this.head; i < this.slots.length; i++) {
      const record = this.slots[i]!;
      if (record.state === RecordState.ACQUIRED && record.memberId !== DEAD_LETTER_OWNER) next = Math.min(next, record.lockDeadlineMs);
    }
    this.lockDeadlineFloorMs = next;
    return next;
  }

  /** The dead-letter copies of these offsets are durable: archive them. */
  completeDeadLetters(offsets: readonly number[]): void {
    for (const offset of offsets) {
      const record = this.slotOf(offset);
      // The log start offset may have passed it meanwhile, archiving it already.
      if (record === undefined || record.state !== RecordState.ACQUIRED || record.memberId !== DEAD_LETTER_OWNER) continue;
      this.settle(record, RecordState.ARCHIVED);
    }
    this.advanceStart();
  }

  /** The dead-letter copies failed: the records become available, and are tried again by the next sweep if at the limit. */
  failDeadLetters(offsets: readonly number[]): void {
    for (const offset of offsets) {
      const record = this.slotOf(offset);
      if (record === undefined || record.state !== RecordState.ACQUIRED || record.memberId !== DEAD_LETTER_OWNER) continue;
      this.settle(record, RecordState.AVAILABLE);
      this.mayHoldAtLimit = true;
    }
  }

  /** Retention or DeleteRecords moved the log start past `logStartOffset`: those records are gone. */
  moveStartOffset(logStartOffset: number): boolean {
    if (logStartOffset <= this.start) return false;
    if (logStartOffset >= this.end) {
      this.slots = [];
      this.head = 0;
    } else {
      this.head += logStartOffset - this.start;
    }
    this.start = logStartOffset;
    this.end = Math.max(this.end, logStartOffset);
    this.advanceStart();
    return true;
  }

  snapshot(): SharePartitionSnapshot {
    const ranges: PersistedRange[] = [];
    let last: PersistedRange | undefined;
    for (let i = this.head; i < this.slots.length; i++) {
      const record = this.slots[i]!;
      const state: PersistedState = record.state === RecordState.ACQUIRED ? RecordState.AVAILABLE : record.state;
      // An acquired record is stored available at once: its lock, not a backoff, was running.
      const availableAtMs = record.state === RecordState.AVAILABLE ? record.availableAtMs : 0;
      if (last !== undefined && last.state === state && last.deliveryCount === record.deliveryCount && last.availableAtMs === availableAtMs) last.lastOffset = record.offset;
      else ranges.push((last = { firstOffset: record.offset, lastOffset: record.offset, state, deliveryCount: record.deliveryCount, availableAtMs }));
    }
    return { startOffset: this.start, ranges };
  }

  /** Checks the window's invariants (tests call it after every step). */
  assertInvariants(): void {
    if (this.slots.length - this.head !== this.end - this.start) {
      throw new Error(`invariant broken: ${this.slots.length - this.head} in-flight records for the window ${this.start}-${this.end}`);
    }
    for (let offset = this.start; offset < this.end; offset++) {
      const record = this.at(offset);
      if (record.offset !== offset) throw new Error(`invariant broken: offset ${offset} in the window holds the record of ${record.offset}`);
      if (record.deliveryCount > this.deliveryLimitCeiling) throw new Error(`invariant broken: offset ${offset} delivered ${record.deliveryCount} times`);
      if (offset < this.acquirableFrom && acquirable(record, this.limits)) throw new Error(`invariant broken: offset ${offset} is acquirable below ${this.acquirableFrom}`);
      if (record.state === RecordState.ACQUIRED && record.memberId !== DEAD_LETTER_OWNER && record.lockDeadlineMs < this.lockDeadlineFloorMs) {
        throw new Error(`invariant broken: offset ${offset}'s lock ends at ${record.lockDeadlineMs}, below the floor ${this.lockDeadlineFloorMs}`);
      }
      if (record.state === RecordState.AVAILABLE && record.availableAtMs !== 0 && record.availableAtMs < this.backoffEndFloorMs) {
        throw new Error(`invariant broken: offset ${offset}'s backoff ends at ${record.availableAtMs}, below the floor ${this.backoffEndFloorMs}`);
      }
      if (!this.mayHoldAtLimit && record.state === RecordState.AVAILABLE && record.deliveryCount >= this.limits.deliveryCountLimit) {
        throw new Error(`invariant broken: offset ${offset} is available at the delivery limit unflagged`);
      }
    }
    if (this.end - this.start > this.limits.partitionMaxRecordLocks) throw new Error(`invariant broken: window ${this.start}-${this.end} exceeds the record-lock bound`);
    if (this.start < this.end && isFinal(this.at(this.start).state)) throw new Error(`invariant broken: start offset ${this.start} is already done`);
  }

  private settle(record: InFlightRecord, to: RecordStateValue): void {
    transition(record, to);
    record.memberId = null;
    record.lockDeadlineMs = 0;
    record.availableAtMs = 0;
    if (to === RecordState.AVAILABLE) this.acquirableFrom = Math.min(this.acquirableFrom, record.offset);
  }

  private holdForDeadLetter(record: InFlightRecord, reason: DeadLetterReason): DeadLetterTask {
    if (record.state === RecordState.AVAILABLE) transition(record, RecordState.ACQUIRED);
    record.memberId = DEAD_LETTER_OWNER;
    record.lockDeadlineMs = Infinity;
    return { offset: record.offset, deliveryCount: record.deliveryCount, reason };
  }

  private returnOrDeadLetter(record: InFlightRecord, deadLetters: DeadLetterTask[], nowMs: number): void {
    if (record.deliveryCount >= this.limits.deliveryCountLimit) {
      deadLetters.push(this.holdForDeadLetter(record, 'delivery-limit'));
      return;
    }
    this.settle(record, RecordState.AVAILABLE);
    const ladder = this.limits.retryBackoffMs ?? [];
    if (ladder.length > 0 && record.deliveryCount > 0) {
      record.availableAtMs = nowMs + ladder[Math.min(record.deliveryCount, ladder.length) - 1]!;
      this.backoffEndFloorMs = Math.min(this.backoffEndFloorMs, record.availableAtMs);
    }
  }

  private advanceStart(): void {
    while (this.start < this.end && isFinal(this.at(this.start).state)) {
      this.head++;
      this.start++;
    }
    // Drops the done prefix now and then, not at every step: a copy of the window a time.
    if (this.head > 1024 && this.head * 2 > this.slots.length) {
      this.slots = this.slots.slice(this.head);
      this.head = 0;
    }
  }
}

/** The first offset two of the batches both name, undefined when they are disjoint. */
function overlap(batches: readonly AcknowledgementBatch[]): number | undefined {
  if (batches.length < 2) return undefined;
  const sorted = [...batches].sort((a, b) => a.firstOffset - b.firstOffset);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.firstOffset <= sorted[i - 1]!.lastOffset) return sorted[i]!.firstOffset;
  }
  return undefined;
}

function acquirable(record: InFlightRecord, limits: SharePartitionLimits): boolean {
  return record.state === RecordState.AVAILABLE && record.deliveryCount < limits.deliveryCountLimit && record.availableAtMs === 0;
}

function toRanges(records: readonly InFlightRecord[]): AcquiredRange[] {
  const ranges: AcquiredRange[] = [];
  for (const record of records) {
    const last = ranges[ranges.length - 1];
    if (last !== undefined && last.lastOffset + 1 === record.offset && last.deliveryCount === record.deliveryCount) last.lastOffset = record.offset;
    else ranges.push({ firstOffset: record.offset, lastOffset: record.offset, deliveryCount: record.deliveryCount });
  }
  return ranges;
}
