import type { BinaryString } from './binary-string.ts';
import { CommittedState } from './committed-state.ts';
import { startOfWindowKey } from './window-key.ts';

/**
 * A window store's committed state, split into segments by window start (Kafka Streams' segmented
 * stores): segment `i` holds the windows starting in `[i * segmentIntervalMs, (i + 1) * segmentIntervalMs)`,
 * each a CommittedState (hash maps for point reads, a B+ tree for order). Retention drops a whole
 * segment at once when all of its windows expired, instead of finding and deleting expired entries
 * one by one; with an interval of half the retention, at most three or four segments are live.
 */
export class WindowSegments {
  private readonly segments = new Map<number, CommittedState>();

  /**
   * `timeOf` is the time of an entry's key that places it in a segment: the window start of a window
   * key by default, the end of a session key for a session store (Kafka Streams segments sessions by end).
   */
  constructor(
    readonly segmentIntervalMs: number,
    private readonly timeOf: (key: BinaryString) => number = startOfWindowKey,
  ) {
    if (!Number.isSafeInteger(segmentIntervalMs) || segmentIntervalMs <= 0) throw new Error(`invariant: a segment interval must be a positive integer, got ${segmentIntervalMs}`);
  }

  get size(): number {
    let total = 0;
    for (const segment of this.segments.values()) total += segment.size;
    return total;
  }

  segmentIdOf(startMs: number): number {
    return Math.floor(startMs / this.segmentIntervalMs);
  }

  get(windowKey: BinaryString): BinaryString | undefined {
    return this.segments.get(this.segmentIdOf(this.timeOf(windowKey)))?.get(windowKey);
  }

  has(windowKey: BinaryString): boolean {
    return this.segments.get(this.segmentIdOf(this.timeOf(windowKey)))?.has(windowKey) ?? false;
  }

  set(windowKey: BinaryString, value: BinaryString): void {
    const id = this.segmentIdOf(this.timeOf(windowKey));
    let segment = this.segments.get(id);
    if (segment === undefined) {
      segment = new CommittedState();
      this.segments.set(id, segment);
    }
    segment.set(windowKey, value);
  }

  delete(windowKey: BinaryString): void {
    const id = this.segmentIdOf(this.timeOf(windowKey));
    const segment = this.segments.get(id);
    if (segment === undefined) return;
    segment.delete(windowKey);
    if (segment.size === 0) this.segments.delete(id);
  }

  /** The segments that may hold windows starting in `[fromMs, toMs]`, by ascending start. */
  segmentsFor(fromMs: number, toMs: number): CommittedState[] {
    const first = this.segmentIdOf(fromMs);
    const last = this.segmentIdOf(toMs);
    return [...this.segments.entries()]
      .filter(([id]) => id >= first && id <= last)
      .sort(([a], [b]) => a - b)
      .map(([, segment]) => segment);
  }

  /** Segments whose every window starts before `minLiveStartMs`, ascending: what retention drops. */
  expiredSegmentIds(minLiveStartMs: number): number[] {
    return [...this.segments.keys()].filter((id) => (id + 1) * this.segmentIntervalMs <= minLiveStartMs).sort((a, b) => a - b);
  }

  segment(id: number): CommittedState | undefined {
    return this.segments.get(id);
  }

  /** Drops a whole segment in one step. */
  dropSegment(id: number): void {
    this.segments.delete(id);
  }

  /** Every entry, in window-key byte order across segments (a merge of the few live segments' trees). */
  ordered(): Generator<[BinaryString, BinaryString]> {
    return mergeOrdered([...this.segments.values()].map((s) => s.ordered().entries()));
  }

  /** Copy-on-write clones of every segment's tree, for a snapshot that later writes do not change. */
  orderedSnapshot(): { entryCount: number; entries: () => Generator<[BinaryString, BinaryString]> } {
    const trees = [...this.segments.values()].map((s) => s.ordered().clone());
    const entryCount = trees.reduce((sum, tree) => sum + tree.size, 0);
    return { entryCount, entries: () => mergeOrdered(trees.map((tree) => tree.entries(undefined, ['', '']))) };
  }

  /** Replaces the state with `keys` (strictly ascending window keys) and their `values`. */
  async load(keys: readonly BinaryString[], values: readonly BinaryString[]): Promise<void> {
    const groups = new Map<number, { keys: BinaryString[]; values: BinaryString[] }>();
    for (let i = 0; i < keys.length; i++) {
      const id = this.segmentIdOf(this.timeOf(keys[i]!));
      let group = groups.get(id);
      if (group === undefined) {
        group = { keys: [], values: [] };
        groups.set(id, group);
      }
      group.keys.push(keys[i]!);
      group.values.push(values[i]!);
    }
    const loaded = new Map<number, CommittedState>();
    for (const [id, group] of groups) {
      const segment = new CommittedState();
      await segment.load(group.keys, group.values);
      loaded.set(id, segment);
    }
    this.segments.clear();
    for (const [id, segment] of loaded) this.segments.set(id, segment);
  }

  clear(): void {
    this.segments.clear();
  }
}

/** Merges iterators each in ascending key order into one; the keys of different iterators never collide. */
export function* mergeOrdered<V>(sources: Iterator<[BinaryString, V]>[]): Generator<[BinaryString, V]> {
  const heads = sources.map((source) => source.next());
  for (;;) {
    let min = -1;
    for (let i = 0; i < heads.length; i++) {
      const head = heads[i]!;
      if (head.done === true) continue;
      if (min < 0 || head.value[0] < (heads[min]!.value as [BinaryString, V])[0]) min = i;
    }
    if (min < 0) return;
    yield heads[min]!.value as [BinaryString, V];
    heads[min] = sources[min]!.next();
  }
}
