import type { Serde } from '../../sdk/serde/serde.ts';
import { arraysOf } from './array-snapshot.ts';
import { type BinaryCodec, binaryCodec } from './binary-codec.ts';
import { type BinaryString, binaryOf, bytesOfBinary } from './binary-string.ts';
import type { FlushedChange, FlushListenable } from './key-value-store.ts';
import { type CachedItem, cachedItems, committedEntries, mergeScan, type ScanBounds } from './merged-range.ts';
import type { StoreEnvironment } from './open-task-store.ts';
import type { WindowStoreSpec } from './store-spec.ts';
import type { ChangelogRecord, StoreSnapshot, TaskStore } from './task-store.ts';
import { isWindowOf, keyOfWindowKey, startOfWindowKey, windowKeyOf } from './window-key.ts';
import { mergeOrdered, WindowSegments } from './window-segments.ts';
import type { WindowStore } from './window-store.ts';
import { timeWindow, type Windowed } from './windowed.ts';
import { byBinaryKey, type CacheEntry, currentValue, WriteCache } from './write-cache.ts';

const ALL: ScanBounds = { low: undefined, high: undefined, highInclusive: true, reverse: false };

/**
 * A window store as one task holds it: committed state in segments by window start
 * (WindowSegments), and in front of it the per-commit write cache of the windows written since the
 * last commit, as the key-value store has (streams/state/key-value-task-store.ts, whose rules on
 * values, flushes and iterators hold here too).
 *
 * Retention (Kafka Streams' segmented stores): the store's stream time is the largest window start
 * written; a window starting at or before stream time - `retentionMs` is expired: reads skip it and
 * writes to it are dropped, from the commit on (see `minLiveStartMs`). At each flush, the segments
 * whose windows all expired are dropped: a tombstone per window goes to the changelog, and the
 * commit then drops the segment in one step.
 *
 * Why tombstones for expired windows (Kafka Streams writes none and relies on `cleanup.policy=
 * compact,delete` with a time retention instead): the changelog then holds only live windows once
 * compacted, whatever the broker's clock says about the records' event-time timestamps (a time
 * retention would delete the changelog of a replay of old data at once, or keep a far-future
 * stream's forever), and a restore never brings expired windows back. It costs one small record
 * per window over its life, written in the same transaction as the writes that expired it.
 */
export class WindowTaskStore<K, V> implements WindowStore<K, V>, FlushListenable<Windowed<K>, V>, TaskStore {
  readonly name: string;
  readonly windowSizeMs: number;
  private readonly retentionMs: number;
  private readonly keys: BinaryCodec<K>;
  private readonly values: BinaryCodec<V>;
  /** Decodes a window key into the key and its window (mergeScan decodes committed keys with it). */
  private readonly windowedKeys: BinaryCodec<Windowed<K>>;
  private readonly committed: WindowSegments;
  private readonly cache = new WriteCache<Windowed<K>, V>();
  /** Segments the cache writes to: with the committed ones, what a flush checks for expiry. */
  private readonly cacheSegments = new Set<number>();
  /** Segments a flush of this commit dropped (their tombstones are written); the commit removes them. */
  private readonly droppingSegments = new Set<number>();
  private flushListener: ((change: FlushedChange<Windowed<K>, V>) => void) | undefined;
  /** The largest window start written, committed and as of now; -1 before any. */
  private committedStreamTimeMs = -1;
  private streamTimeMs = -1;
  private committedOffset = 0;
  private committedVersion = 0;
  private closed = false;
  private loading = false;

  constructor(
    private readonly spec: WindowStoreSpec,
    private readonly env: StoreEnvironment,
  ) {
    this.name = spec.name;
    this.windowSizeMs = spec.windowSizeMs;
    this.retentionMs = spec.retentionMs;
    this.keys = binaryCodec(spec.keySerde as Serde<K>);
    this.values = binaryCodec(spec.valueSerde as Serde<V>);
    this.windowedKeys = {
      encode: ({ key, window }) => windowKeyOf(this.keys.encode(key), window.startMs),
      decode: (windowKey) => ({ key: this.keys.decode(keyOfWindowKey(windowKey)), window: timeWindow(startOfWindowKey(windowKey), this.windowSizeMs) }),
    };
    this.committed = new WindowSegments(Math.max(1, Math.ceil(spec.retentionMs / 2)));
  }

  get store(): WindowTaskStore<K, V> {
    return this;
  }

  get pendingWrites(): number {
    return this.cache.size;
  }

  get changelogOffset(): number {
    return this.committedOffset;
  }

  /**
   * The largest window start written, uncommitted writes included (Kafka Streams' observed stream
   * time; -1 before any); an aborted commit takes it back with the writes. A processor that reads
   * every window it needs before its first asynchronous step can expire windows by it, as Kafka
   * Streams' stores do, whenever the task last committed; a stream-stream join, which writes each
   * record at its timestamp, takes its stream time from it.
   */
  get observedStreamTimeMs(): number {
    return this.streamTimeMs;
  }

  /**
   * The earliest window start still live at `streamTimeMs` (Kafka Streams' `observedStreamTime -
   * retention + 1`). Reads and writes go by the committed stream time: within a task, records of
   * different keys may finish out of input order (asynchronous steps), and a later record's write
   * must not expire a window that an earlier record, still in flight, is about to update. Expiry
   * takes effect at the next flush, once the commit drained every record in flight.
   */
  private minLiveStartMs(streamTimeMs = this.committedStreamTimeMs): number {
    return Math.max(0, streamTimeMs - this.retentionMs + 1);
  }

  get(key: K, windowStartMs: number): V | undefined {
    if (windowStartMs < this.minLiveStartMs()) return undefined;
    const windowKey = windowKeyOf(this.keys.encode(key), windowStartMs);
    const entry = this.cache.get(windowKey);
    if (entry !== undefined) return currentValue(entry, this.values);
    const committed = this.committed.get(windowKey);
    return committed === undefined ? undefined : this.values.decode(committed);
  }

  put(key: K, value: V | undefined, windowStartMs: number): void {
    if (!Number.isSafeInteger(windowStartMs) || windowStartMs < 0) throw new RangeError(`store "${this.name}": a window start must be a non-negative integer, got ${windowStartMs}`);
    if (windowStartMs > this.streamTimeMs) this.streamTimeMs = windowStartMs;
    if (windowStartMs < this.minLiveStartMs() || this.droppingSegments.has(this.committed.segmentIdOf(windowStartMs))) return;
    const windowKey = windowKeyOf(this.keys.encode(key), windowStartMs);
    this.cache.write(windowKey, { key, window: timeWindow(windowStartMs, this.windowSizeMs) }, value ?? undefined);
    this.cacheSegments.add(this.committed.segmentIdOf(windowStartMs));
  }

  fetch(key: K, fromMs: number, toMs: number): IterableIterator<[number, V]> {
    const from = Math.max(Math.ceil(fromMs), this.minLiveStartMs());
    const to = Math.min(Math.floor(toMs), Number.MAX_SAFE_INTEGER);
    if (!(from <= to)) return [][Symbol.iterator]();
    const binaryKey = this.keys.encode(key);
    const bounds: ScanBounds = { low: windowKeyOf(binaryKey, from), high: windowKeyOf(binaryKey, to), highInclusive: true, reverse: false };
    const ofKey = (windowKey: BinaryString): boolean => isWindowOf(windowKey, binaryKey);
    const cached = this.cache.size === 0 ? [] : cachedItems(this.cache.sorted(), bounds).filter((item) => ofKey(item.binaryKey));
    const segments = this.committed.segmentsFor(from, to);
    const committed = filtered(chain(segments.map((segment) => committedEntries(segment.ordered(), bounds))), ofKey);
    return startsOf(this.scan(cached, committed));
  }

  fetchAll(fromMs: number, toMs: number): IterableIterator<[Windowed<K>, V]> {
    const from = Math.max(Math.ceil(fromMs), this.minLiveStartMs());
    const to = Math.min(Math.floor(toMs), Number.MAX_SAFE_INTEGER);
    if (!(from <= to)) return [][Symbol.iterator]();
    const inRange = (windowKey: BinaryString): boolean => {
      const start = startOfWindowKey(windowKey);
      return start >= from && start <= to;
    };
    const cached = this.cache.size === 0 ? [] : cachedItems(this.cache.sorted(), ALL).filter((item) => inRange(item.binaryKey));
    const segments = this.committed.segmentsFor(from, to);
    const committed = filtered(mergeOrdered(segments.map((segment) => committedEntries(segment.ordered(), ALL))), inRange);
    return this.scan(cached, committed);
  }

  all(): IterableIterator<[Windowed<K>, V]> {
    return this.fetchAll(0, Number.MAX_SAFE_INTEGER);
  }

  private scan(cached: readonly CachedItem<Windowed<K>, V>[], committed: Iterator<[BinaryString, BinaryString]>): Generator<[Windowed<K>, V]> {
    const version = this.committedVersion;
    const stillValid = (): void => {
      if (this.committedVersion !== version) {
        throw new Error(`store "${this.name}": an iterator was used after the store committed; iterate within the processing of one record`);
      }
    };
    return mergeScan(cached, committed, false, this.windowedKeys, this.values, stillValid);
  }

  /** As the key-value store's: a cached store tells `listener` each changed window once per flush, in store order. */
  setFlushListener(listener: (change: FlushedChange<Windowed<K>, V>) => void): boolean {
    if (!this.spec.cached) return false;
    this.flushListener = listener;
    return true;
  }

  prepareCommit(): void {
    this.assertOpen();
    if (this.cache.dirtyCount > 0) {
      const batch = this.cache.takeDirty();
      const listener = this.flushListener;
      if (listener !== undefined) batch.sort(byBinaryKey);
      const timestamp = this.env.changelogTimestampMs();
      let i = 0;
      try {
        for (; i < batch.length; i++) this.flush(batch[i]!, listener, timestamp);
      } finally {
        if (i < batch.length) this.cache.requeueDirty(batch.slice(i));
      }
    }
    this.dropExpiredSegments();
  }

  /** One dirty window: as the key-value store's flush (a delete of an absent window writes nothing). */
  private flush(entry: CacheEntry<Windowed<K>, V>, listener: ((change: FlushedChange<Windowed<K>, V>) => void) | undefined, timestamp: number): void {
    const value = entry.value;
    const next = value === undefined ? null : this.values.encode(value);
    const previous = next === null || listener !== undefined ? this.flushedOrCommitted(entry) : undefined;
    entry.dirty = false;
    entry.value = undefined;
    if (next === null && previous === null) {
      entry.flushed = null;
      return;
    }
    entry.flushed = next;
    this.log(entry.binaryKey, next, timestamp);
    if (listener !== undefined) {
      listener({ key: entry.key, newValue: value, oldValue: previous === null || previous === undefined ? undefined : this.values.decode(previous) });
    }
  }

  private flushedOrCommitted(entry: CacheEntry<Windowed<K>, V>): BinaryString | null {
    if (entry.flushed !== undefined) return entry.flushed;
    return this.committed.get(entry.binaryKey) ?? null;
  }

  /**
   * Drops the segments (committed, or written this commit) whose windows all expired: a tombstone
   * per window present in them goes to the changelog now, the commit removes them. Runs once per
   * segment per commit; the work is proportional to the windows dropped, never to the live ones.
   */
  private dropExpiredSegments(): void {
    const minLive = this.minLiveStartMs(this.streamTimeMs);
    const expired = new Set<number>();
    for (const id of this.committed.expiredSegmentIds(minLive)) if (!this.droppingSegments.has(id)) expired.add(id);
    for (const id of this.cacheSegments) if ((id + 1) * this.committed.segmentIntervalMs <= minLive && !this.droppingSegments.has(id)) expired.add(id);
    if (expired.size === 0) return;
    const timestamp = this.env.changelogTimestampMs();
    const segmentOf = (windowKey: BinaryString): number => this.committed.segmentIdOf(startOfWindowKey(windowKey));
    for (const id of expired) {
      for (const [windowKey] of this.committed.segment(id)?.ordered().entries() ?? []) {
        if (this.cache.get(windowKey)?.flushed === null) continue;
        this.log(windowKey, null, timestamp);
      }
      this.droppingSegments.add(id);
    }
    if (this.cacheSegments.size === 0) return;
    for (const entry of this.cache.values()) {
      if (typeof entry.flushed !== 'string' || !expired.has(segmentOf(entry.binaryKey)) || this.committed.has(entry.binaryKey)) continue;
      this.log(entry.binaryKey, null, timestamp);
    }
  }

  private log(windowKey: BinaryString, value: BinaryString | null, timestamp: number): void {
    if (!this.spec.logged) return;
    this.env.writeChangelog({ key: bytesOfBinary(windowKey), value: value === null ? null : bytesOfBinary(value), timestamp, headers: [] });
  }

  commit(changelogOffset?: number): void {
    this.assertOpen();
    if (this.cache.dirtyCount > 0) throw new Error(`invariant: store "${this.name}" committed with ${this.cache.dirtyCount} writes not flushed by prepareCommit`);
    if (changelogOffset !== undefined && changelogOffset < this.committedOffset) {
      throw new Error(`invariant: store "${this.name}" changelog offset moved back from ${this.committedOffset} to ${changelogOffset}`);
    }
    const dropping = this.droppingSegments;
    if (this.cache.size > 0 || dropping.size > 0) {
      for (const entry of this.cache.values()) {
        if (dropping.has(this.committed.segmentIdOf(entry.key.window.startMs))) continue;
        if (entry.flushed === null) this.committed.delete(entry.binaryKey);
        else this.committed.set(entry.binaryKey, entry.flushed!);
      }
      for (const id of dropping) this.committed.dropSegment(id);
      this.cache.clear();
      this.cacheSegments.clear();
      dropping.clear();
      this.committedVersion++;
    }
    this.committedStreamTimeMs = this.streamTimeMs;
    if (changelogOffset !== undefined) this.committedOffset = changelogOffset;
  }

  abort(): void {
    this.assertOpen();
    this.cache.clear();
    this.cacheSegments.clear();
    this.droppingSegments.clear();
    this.streamTimeMs = this.committedStreamTimeMs;
  }

  async loadSnapshot(snapshot: StoreSnapshot): Promise<void> {
    this.assertRestorable();
    this.loading = true;
    try {
      const { keys, values } = await arraysOf(snapshot);
      if (keys.length !== snapshot.entryCount) throw new Error(`invariant: snapshot of store "${this.name}" holds ${keys.length} entries, its header says ${snapshot.entryCount}`);
      await this.committed.load(keys, values);
      let streamTimeMs = -1;
      for (const key of keys) streamTimeMs = Math.max(streamTimeMs, startOfWindowKey(key));
      this.committedStreamTimeMs = this.streamTimeMs = streamTimeMs;
      this.committedOffset = snapshot.changelogOffset;
      this.committedVersion++;
    } finally {
      this.loading = false;
    }
  }

  /**
   * Applies changelog records as the key-value store does; the store's stream time becomes the
   * largest window start among them, and segments expired by it are dropped (their tombstones are
   * in the changelog already, written with the writes that expired them).
   */
  restore(records: Iterable<ChangelogRecord>, nextOffset: number): void {
    this.assertRestorable();
    let offset = this.committedOffset;
    let streamTimeMs = this.committedStreamTimeMs;
    for (const record of records) {
      if (record.offset < offset) continue;
      const windowKey = binaryOf(record.key);
      streamTimeMs = Math.max(streamTimeMs, startOfWindowKey(windowKey));
      if (record.value === null) this.committed.delete(windowKey);
      else this.committed.set(windowKey, binaryOf(record.value));
      offset = record.offset + 1;
    }
    this.committedStreamTimeMs = this.streamTimeMs = streamTimeMs;
    for (const id of this.committed.expiredSegmentIds(this.minLiveStartMs())) this.committed.dropSegment(id);
    this.committedOffset = Math.max(offset, nextOffset);
    this.committedVersion++;
  }

  snapshot(): StoreSnapshot | undefined {
    this.assertOpen();
    if (!this.spec.logged) return undefined;
    const { entryCount, entries } = this.committed.orderedSnapshot();
    return { changelogOffset: this.committedOffset, entryCount, entries };
  }

  close(): void {
    this.closed = true;
    this.cache.clear();
    this.committed.clear();
    this.committedVersion++;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`invariant: store "${this.name}" used after close`);
    if (this.loading) throw new Error(`invariant: store "${this.name}" used while a snapshot loads`);
  }

  private assertRestorable(): void {
    this.assertOpen();
    if (this.cache.size > 0) throw new Error(`invariant: store "${this.name}" restored with ${this.cache.size} uncommitted writes`);
  }
}

function* chain<T>(sources: Iterable<T>[]): Generator<T> {
  for (const source of sources) yield* source;
}

function* filtered(entries: Iterator<[BinaryString, BinaryString]>, keep: (windowKey: BinaryString) => boolean): Generator<[BinaryString, BinaryString]> {
  for (let next = entries.next(); next.done !== true; next = entries.next()) if (keep(next.value[0])) yield next.value;
}

function* startsOf<K, V>(entries: Iterator<[Windowed<K>, V]>): Generator<[number, V]> {
  for (let next = entries.next(); next.done !== true; next = entries.next()) yield [next.value[0].window.startMs, next.value[1]];
}
