/**
 * A pending delayed record's place in the schedule: its due time, then its offset in the delay
 * log. Records move to their partitions in this order, so the key of the last record moved is
 * the whole scheduler's progress (everything at or below it has moved, nothing above it has).
 */
export interface DelayKey {
  dueMs: number;
  offset: number;
}

export function compareDelayKeys(a: DelayKey, b: DelayKey): number {
  return a.dueMs - b.dueMs || a.offset - b.offset;
}

/** A binary heap; `before(a, b)` puts `a` nearer the top. */
class BinaryHeap {
  /**
   * Takes `items` (not copied) and, unless they are `ordered` already, orders them into a heap
   * bottom-up: O(n), against O(n log n) for n pushes.
   */
  constructor(
    private readonly before: (a: DelayKey, b: DelayKey) => boolean,
    private readonly items: DelayKey[] = [],
    ordered = false,
  ) {
    if (!ordered) for (let i = (items.length >> 1) - 1; i >= 0; i--) this.siftDown(i, items[i]!);
  }

  get size(): number {
    return this.items.length;
  }

  peek(): DelayKey | undefined {
    return this.items[0];
  }

  push(item: DelayKey): void {
    const items = this.items;
    let i = items.push(item) - 1;
    // Sifts a hole up rather than swapping pairs: one write per level.
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const above = items[parent]!;
      if (!this.before(item, above)) break;
      items[i] = above;
      i = parent;
    }
    items[i] = item;
  }

  pop(): DelayKey | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    this.siftDown(0, last);
    return top;
  }

  /** Places `item` at the hole `i` or below it, moving the children that go before it up. */
  private siftDown(i: number, item: DelayKey): void {
    const items = this.items;
    const length = items.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= length) break;
      const right = left + 1;
      const child = right < length && this.before(items[right]!, items[left]!) ? right : left;
      const below = items[child]!;
      if (!this.before(below, item)) break;
      items[i] = below;
      i = child;
    }
    items[i] = item;
  }

  /** A heap of the same items in the same order, with its own array. */
  copy(): BinaryHeap {
    return new BinaryHeap(this.before, this.items.slice(), true);
  }

  values(): readonly DelayKey[] {
    return this.items;
  }
}

/**
 * Keeps the `maxEntries` smallest of a stream of keys, and the horizon: the largest key kept once
 * any key was left out, so every key at or below it is kept. The keys are a plain array until the
 * first one that does not fit, then a max-heap of it.
 */
export class SmallestKeys {
  private readonly keys: DelayKey[] = [];
  private heap: BinaryHeap | undefined;
  private leftOutMinOffset = Number.POSITIVE_INFINITY;

  constructor(private readonly maxEntries: number) {}

  offer(key: DelayKey): void {
    if (this.keys.length < this.maxEntries) {
      this.keys.push(key);
      return;
    }
    this.heap ??= new BinaryHeap((a, b) => compareDelayKeys(a, b) > 0, this.keys);
    const largest = this.heap.peek();
    let dropped = key;
    if (largest !== undefined && compareDelayKeys(key, largest) < 0) {
      dropped = this.heap.pop()!;
      this.heap.push(key);
    }
    this.leftOutMinOffset = Math.min(this.leftOutMinOffset, dropped.offset);
  }

  /**
   * The keys kept (in no particular order), the horizon (undefined when none was left out) and the
   * smallest offset of a key left out (infinite when none was).
   */
  result(): { keys: readonly DelayKey[]; horizon: DelayKey | undefined; leftOutMinOffset: number } {
    return { keys: this.keys, horizon: this.heap?.peek(), leftOutMinOffset: this.leftOutMinOffset };
  }
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
  private heap = new BinaryHeap((a, b) => compareDelayKeys(a, b) < 0);
  /**
   * The held keys not yet handed to the read-ahead (`takeUnreadDueBy`), the same key objects as
   * `heap`; keys taken since (at or below `lastTaken`) are dropped when they surface.
   */
  private unread = new BinaryHeap((a, b) => compareDelayKeys(a, b) < 0);
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
    if (horizon !== undefined && compareDelayKeys(key, horizon) > 0) {
      this.beyondMinOffset = Math.min(this.beyondMinOffset, key.offset);
      return;
    }
    if (this.heap.size >= this.maxEntries) {
      this.horizonKey = { dueMs: key.dueMs, offset: key.offset - 1 };
      this.beyondMinOffset = Math.min(this.beyondMinOffset, key.offset);
      return;
    }
    this.heap.push(key);
    this.unread.push(key);
  }

  /** The earliest key that may be taken (at or below the horizon), if any. */
  next(): DelayKey | undefined {
    const top = this.heap.peek();
    if (top === undefined) return undefined;
    return this.horizonKey !== undefined && compareDelayKeys(top, this.horizonKey) > 0 ? undefined : top;
  }

  /** Removes and returns, in key order, up to `limit` keys due at `nowMs` that may be taken. */
  takeDue(nowMs: number, limit: number): DelayKey[] {
    const out: DelayKey[] = [];
    for (let next = this.next(); next !== undefined && next.dueMs <= nowMs && out.length < limit; next = this.next()) out.push(this.heap.pop()!);
    return this.taken(out);
  }

  private taken(keys: DelayKey[]): DelayKey[] {
    if (keys.length > 0) this.lastTaken = keys[keys.length - 1];
    return keys;
  }

  /** Removes and returns, in key order, every key at or below `last`. */
  takeThrough(last: DelayKey): DelayKey[] {
    const out: DelayKey[] = [];
    for (let next = this.next(); next !== undefined && compareDelayKeys(next, last) <= 0; next = this.next()) out.push(this.heap.pop()!);
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
    for (let next = this.unread.peek(); next !== undefined && out.length < limit; next = this.unread.peek()) {
      if (this.lastTaken !== undefined && compareDelayKeys(next, this.lastTaken) <= 0) {
        this.unread.pop();
        continue;
      }
      if (next.dueMs > dueMs || next.offset >= readableBelow || (horizon !== undefined && compareDelayKeys(next, horizon) > 0)) break;
      out.push(this.unread.pop()!);
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
    let min = this.beyondMinOffset;
    for (const key of this.heap.values()) if (key.offset < min) min = key.offset;
    return min;
  }

  /** Installs a rebuild's result (see `SmallestKeys`). */
  replace(result: { keys: readonly DelayKey[]; horizon: DelayKey | undefined; leftOutMinOffset: number }): void {
    this.heap = new BinaryHeap((a, b) => compareDelayKeys(a, b) < 0, result.keys.slice());
    this.unread = this.heap.copy();
    this.horizonKey = result.horizon;
    this.beyondMinOffset = result.leftOutMinOffset;
  }
}
