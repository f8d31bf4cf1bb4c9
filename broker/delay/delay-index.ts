/**
 * A pending delayed record's place in the schedule: its due time, then its offset in the delay
 * log. Records move to their partitions in this order, so the key of the last record moved is
 * the whole scheduler's progress (everything at or below it has moved, nothing above it has).
 */
export interface DelayKey {
  dueMs: number;
  offset: number;
}

/**
 * A binary min-heap of keys kept as two parallel Float64Arrays (due times, offsets): no object per
 * key and no comparator call per step, which a heap of key objects spent most of a move's index
 * time on (pointer chasing to scattered objects). A heap of sign -1 stores both fields negated,
 * so the same code orders it largest first.
 */
class KeyHeap {
  private dues: Float64Array;
  private offsets: Float64Array;
  private length = 0;

  constructor(
    private readonly sign: 1 | -1,
    capacity = 64,
  ) {
    this.dues = new Float64Array(Math.max(1, capacity));
    this.offsets = new Float64Array(Math.max(1, capacity));
  }

  get size(): number {
    return this.length;
  }

  /** The top key's due time; call only when not empty. */
  get topDueMs(): number {
    return this.sign * this.dues[0]!;
  }

  get topOffset(): number {
    return this.sign * this.offsets[0]!;
  }

  peek(): DelayKey | undefined {
    return this.length === 0 ? undefined : { dueMs: this.topDueMs, offset: this.topOffset };
  }

  /** Appends without ordering; `heapify` must follow before anything else is asked. */
  appendUnordered(dueMs: number, offset: number): void {
    if (this.length === this.dues.length) this.grow();
    this.dues[this.length] = this.sign * dueMs;
    this.offsets[this.length] = this.sign * offset;
    this.length++;
  }

  /** Orders the entries into a heap bottom-up: O(n), against O(n log n) for n pushes. */
  heapify(): void {
    for (let i = (this.length >> 1) - 1; i >= 0; i--) this.siftDown(i, this.dues[i]!, this.offsets[i]!);
  }

  push(dueMs: number, offset: number): void {
    if (this.length === this.dues.length) this.grow();
    const dues = this.dues;
    const offsets = this.offsets;
    const due = this.sign * dueMs;
    const off = this.sign * offset;
    // Sifts a hole up rather than swapping pairs: one write per level.
    let i = this.length++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const parentDue = dues[parent]!;
      if (!(due < parentDue || (due === parentDue && off < offsets[parent]!))) break;
      dues[i] = parentDue;
      offsets[i] = offsets[parent]!;
      i = parent;
    }
    dues[i] = due;
    offsets[i] = off;
  }

  /** Removes the top key; call only when not empty. */
  pop(): void {
    const last = --this.length;
    if (last > 0) this.siftDown(0, this.dues[last]!, this.offsets[last]!);
  }

  /** Places (due, off) at the hole `i` or below it, moving the children that go before it up. */
  private siftDown(i: number, due: number, off: number): void {
    const dues = this.dues;
    const offsets = this.offsets;
    const length = this.length;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= length) break;
      let childDue = dues[child]!;
      let childOff = offsets[child]!;
      const right = child + 1;
      if (right < length) {
        const rightDue = dues[right]!;
        const rightOff = offsets[right]!;
        if (rightDue < childDue || (rightDue === childDue && rightOff < childOff)) {
          child = right;
          childDue = rightDue;
          childOff = rightOff;
        }
      }
      if (!(childDue < due || (childDue === due && childOff < off))) break;
      dues[i] = childDue;
      offsets[i] = childOff;
      i = child;
    }
    dues[i] = due;
    offsets[i] = off;
  }

  /** The same keys in the same order, in arrays of its own, with room for `capacity` keys. */
  copy(sign: 1 | -1 = this.sign, capacity = this.length): KeyHeap {
    const out = new KeyHeap(sign, Math.max(capacity, this.length));
    for (let i = 0; i < this.length; i++) out.appendUnordered(this.sign * this.dues[i]!, this.sign * this.offsets[i]!);
    if (sign !== this.sign) out.heapify();
    return out;
  }

  /** The keys in array order as (dueMs, offset) pairs. */
  pairs(): Float64Array {
    const out = new Float64Array(this.length * 2);
    for (let i = 0; i < this.length; i++) {
      out[2 * i] = this.sign * this.dues[i]!;
      out[2 * i + 1] = this.sign * this.offsets[i]!;
    }
    return out;
  }

  /** The smallest offset held (infinite when empty). */
  minOffset(): number {
    let min = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.length; i++) {
      const offset = this.sign * this.offsets[i]!;
      if (offset < min) min = offset;
    }
    return min;
  }

  private grow(): void {
    const dues = new Float64Array(this.dues.length * 2);
    const offsets = new Float64Array(this.offsets.length * 2);
    dues.set(this.dues);
    offsets.set(this.offsets);
    this.dues = dues;
    this.offsets = offsets;
  }
}

/** Whether key (aDueMs, aOffset) comes before key (bDueMs, bOffset). */
function isBefore(aDueMs: number, aOffset: number, bDueMs: number, bOffset: number): boolean {
  return aDueMs < bDueMs || (aDueMs === bDueMs && aOffset < bOffset);
}

/**
 * Keeps the `maxEntries` smallest of a stream of keys, and the horizon: the largest key kept once
 * any key was left out, so every key at or below it is kept. The keys are appended unordered until
 * the first one that does not fit, then ordered into a max-heap.
 */
export class SmallestKeys {
  private readonly heap: KeyHeap;
  private ordered = false;
  private leftOutMinOffset = Number.POSITIVE_INFINITY;

  constructor(private readonly maxEntries: number) {
    this.heap = new KeyHeap(-1, Math.min(maxEntries, 1024));
  }

  offer(dueMs: number, offset: number): void {
    const heap = this.heap;
    if (heap.size < this.maxEntries) {
      heap.appendUnordered(dueMs, offset);
      return;
    }
    if (!this.ordered) {
      heap.heapify();
      this.ordered = true;
    }
    let droppedOffset = offset;
    const largestDueMs = heap.topDueMs;
    const largestOffset = heap.topOffset;
    if (isBefore(dueMs, offset, largestDueMs, largestOffset)) {
      droppedOffset = largestOffset;
      heap.pop();
      heap.push(dueMs, offset);
    }
    this.leftOutMinOffset = Math.min(this.leftOutMinOffset, droppedOffset);
  }

  /**
   * What `DelayIndex.replace` installs: the keys kept, the horizon (undefined when none was left
   * out) and the smallest offset of a key left out (infinite when none was).
   */
  result(): KeptKeys {
    return { heap: this.heap, horizon: this.ordered ? this.heap.peek() : undefined, leftOutMinOffset: this.leftOutMinOffset };
  }
}

/** A rebuild's outcome (`SmallestKeys.result`), opaque outside this file. */
export interface KeptKeys {
  readonly heap: KeyHeap;
  readonly horizon: DelayKey | undefined;
  readonly leftOutMinOffset: number;
}

/** What a DelayIndex holds, as `contents` gives it and `restore` installs it. */
export interface IndexContents {
  /** The keys held, as (dueMs, offset) pairs in no particular order. */
  keys: Float64Array;
  horizon: DelayKey | undefined;
  /** A lower bound of the offsets of pending keys beyond the horizon (infinite without a horizon). */
  beyondMinOffset: number;
}

/**
 * The in-memory part of the schedule: at most `maxEntries` keys of pending records (16 bytes of
 * payload each; the records stay in the delay log on disk), and a horizon. Invariant: every
 * pending key at or below the horizon is here (no horizon: every pending key is), so taking keys
 * in order up to the horizon never skips one. Keys beyond it wait on disk until the index runs
 * dry up to the horizon; then the scheduler rebuilds it from the delay log (`replace`).
 *
 * A new key beyond the horizon is left on disk. A new key at or below it when the index is full
 * lowers the horizon to just below itself; the keys then above the horizon stay, unused, until
 * the rebuild replaces them all.
 */
export class DelayIndex {
  private heap = new KeyHeap(1);
  /**
   * The held keys not yet handed to the read-ahead (`takeUnreadDueBy`), the same keys as `heap`;
   * keys taken since (at or below `lastTaken`) are dropped when they surface.
   */
  private unread = new KeyHeap(1);
  /** The largest key taken (keys are taken in order, and none is added below it). */
  private lastTaken: DelayKey | undefined;
  private horizonKey: DelayKey | undefined;
  /** A lower bound of the offsets of pending keys beyond the horizon (infinite without a horizon). */
  private beyondMinOffset = Number.POSITIVE_INFINITY;

  constructor(readonly maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new Error(`invariant: maxEntries must be a positive integer, got ${maxEntries}`);
  }

  get size(): number {
    return this.heap.size;
  }

  get horizon(): DelayKey | undefined {
    return this.horizonKey;
  }

  /** A key just appended to the delay log. */
  add(key: DelayKey): void {
    const horizon = this.horizonKey;
    if (horizon !== undefined && isBefore(horizon.dueMs, horizon.offset, key.dueMs, key.offset)) {
      this.beyondMinOffset = Math.min(this.beyondMinOffset, key.offset);
      return;
    }
    if (this.heap.size >= this.maxEntries) {
      this.horizonKey = { dueMs: key.dueMs, offset: key.offset - 1 };
      this.beyondMinOffset = Math.min(this.beyondMinOffset, key.offset);
      return;
    }
    this.heap.push(key.dueMs, key.offset);
    this.unread.push(key.dueMs, key.offset);
  }

  /** The earliest key that may be taken (at or below the horizon), if any. */
  next(): DelayKey | undefined {
    return this.hasNext() ? this.heap.peek() : undefined;
  }

  private hasNext(): boolean {
    if (this.heap.size === 0) return false;
    const horizon = this.horizonKey;
    return horizon === undefined || !isBefore(horizon.dueMs, horizon.offset, this.heap.topDueMs, this.heap.topOffset);
  }

  /** Removes the heap's top key and returns it. */
  private popKey(): DelayKey {
    const key = { dueMs: this.heap.topDueMs, offset: this.heap.topOffset };
    this.heap.pop();
    return key;
  }

  /** Removes and returns, in key order, up to `limit` keys due at `nowMs` that may be taken. */
  takeDue(nowMs: number, limit: number): DelayKey[] {
    const out: DelayKey[] = [];
    while (out.length < limit && this.hasNext() && this.heap.topDueMs <= nowMs) out.push(this.popKey());
    return this.taken(out);
  }

  private taken(keys: DelayKey[]): DelayKey[] {
    if (keys.length > 0) this.lastTaken = keys[keys.length - 1];
    return keys;
  }

  /** Removes and returns, in key order, every key at or below `last`. */
  takeThrough(last: DelayKey): DelayKey[] {
    const out: DelayKey[] = [];
    while (this.hasNext() && !isBefore(last.dueMs, last.offset, this.heap.topDueMs, this.heap.topOffset)) out.push(this.popKey());
    return this.taken(out);
  }

  /**
   * For the read-ahead: removes and returns, in key order, up to `limit` of the earliest held keys
   * due by `dueMs` that were neither taken nor returned here before, stopping at the horizon and at
   * the first key whose delay log offset is not below `readableBelow` (not fsynced yet). Each key
   * is returned once, so the read-ahead costs O(log n) a key instead of a walk over every key due
   * within its lead each time it looks.
   */
  takeUnreadDueBy(dueMs: number, limit: number, readableBelow: number): DelayKey[] {
    const out: DelayKey[] = [];
    const horizon = this.horizonKey;
    const lastTaken = this.lastTaken;
    const unread = this.unread;
    while (out.length < limit && unread.size > 0) {
      const nextDueMs = unread.topDueMs;
      const nextOffset = unread.topOffset;
      if (lastTaken !== undefined && !isBefore(lastTaken.dueMs, lastTaken.offset, nextDueMs, nextOffset)) {
        unread.pop();
        continue;
      }
      if (nextDueMs > dueMs || nextOffset >= readableBelow || (horizon !== undefined && isBefore(horizon.dueMs, horizon.offset, nextDueMs, nextOffset))) break;
      out.push({ dueMs: nextDueMs, offset: nextOffset });
      unread.pop();
    }
    return out;
  }

  /** Whether keys wait on disk beyond the horizon while nothing at or below it is left. */
  get needsRebuild(): boolean {
    return this.horizonKey !== undefined && this.next() === undefined;
  }

  /**
   * A lower bound of the offsets of all pending keys, held here or waiting beyond the horizon
   * (infinite when none is pending): the delay log below it holds only moved records.
   */
  minPendingOffset(): number {
    return Math.min(this.beyondMinOffset, this.heap.minOffset());
  }

  /** The keys held, the horizon and the bound beyond it (a clean close saves them, delay-index-snapshot.ts). */
  contents(): IndexContents {
    return { keys: this.heap.pairs(), horizon: this.horizonKey, beyondMinOffset: this.beyondMinOffset };
  }

  /** Installs what `contents` gave: the same keys, all of them unread by the read-ahead. */
  restore(contents: IndexContents): void {
    const heap = new KeyHeap(1, Math.max(this.maxEntries, contents.keys.length / 2));
    for (let i = 0; i < contents.keys.length; i += 2) heap.appendUnordered(contents.keys[i]!, contents.keys[i + 1]!);
    heap.heapify();
    this.install(heap, contents.horizon, contents.beyondMinOffset);
  }

  /** Installs a rebuild's result (see `SmallestKeys`). */
  replace(result: KeptKeys): void {
    this.install(result.heap.copy(1, this.maxEntries), result.horizon, result.leftOutMinOffset);
  }

  /** Takes `heap` (a min-heap of its own, sized for maxEntries) as the held keys, all unread. */
  private install(heap: KeyHeap, horizon: DelayKey | undefined, beyondMinOffset: number): void {
    this.heap = heap;
    this.unread = heap.copy();
    this.horizonKey = horizon;
    this.beyondMinOffset = beyondMinOffset;
  }
}
