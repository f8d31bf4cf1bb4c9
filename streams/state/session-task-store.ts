import type { Serde } from '../../sdk/serde/serde.ts';
import { arraysOf } from './array-snapshot.ts';
import { type BinaryCodec, binaryCodec } from './binary-codec.ts';
import { type BinaryString, binaryOf, bytesOfBinary } from './binary-string.ts';
import type { FlushedChange, FlushListenable } from './key-value-store.ts';
import { type CachedItem, cachedItems, committedEntries, mergeScan, type ScanBounds } from './merged-range.ts';
import type { StoreEnvironment } from './open-task-store.ts';
import { endOfSessionKey, isSessionOf, keyOfSessionKey, sessionKeyOf, startOfSessionKey } from './session-key.ts';
import type { SessionStore } from './session-store.ts';
import type { SessionStoreSpec } from './store-spec.ts';
import type { ChangelogRecord, StoreSnapshot, TaskStore } from './task-store.ts';
import { mergeOrdered, WindowSegments } from './window-segments.ts';
import type { Windowed } from './windowed.ts';
import { byBinaryKey, type CacheEntry, currentValue, WriteCache } from './write-cache.ts';

const ALL: ScanBounds = { low: undefined, high: undefined, highInclusive: true, reverse: false };

/**
 * A session store as one task holds it, built as the window store is
 * (streams/state/window-task-store.ts, whose rules on the per-commit write cache, flushes,
 * iterators, retention and changelog tombstones hold here too), with sessions in place of windows:
 * entries keyed by (key, end, start) (streams/state/session-key.ts), committed state in segments
 * by session end (Kafka Streams segments session stores by end), and stream time the largest
 * session end written. A session ending at or before stream time - `retentionMs` is expired: reads
 * skip it at once, writes to it are dropped from the commit on (see `minLiveEndMs`); at each flush
 * the segments whose sessions all expired are dropped, a tombstone per session going to the
 * changelog.
 */
export class SessionTaskStore<K, V> implements SessionStore<K, V>, FlushListenable<Windowed<K>, V>, TaskStore {
  readonly name: string;
  private readonly retentionMs: number;
  private readonly keys: BinaryCodec<K>;
  private readonly values: BinaryCodec<V>;
  private readonly sessionKeys: BinaryCodec<Windowed<K>>;
  private readonly committed: WindowSegments;
  private readonly cache = new WriteCache<Windowed<K>, V>();
  private readonly cacheSegments = new Set<number>();
  private readonly droppingSegments = new Set<number>();
  private flushListener: ((change: FlushedChange<Windowed<K>, V>) => void) | undefined;
  /** The largest session end written, committed and as of now; -1 before any. */
  private committedStreamTimeMs = -1;
  private streamTimeMs = -1;
  private committedOffset = 0;
  private committedVersion = 0;
  private closed = false;
  private loading = false;

  constructor(
    private readonly spec: SessionStoreSpec,
    private readonly env: StoreEnvironment,
  ) {
    this.name = spec.name;
    this.retentionMs = spec.retentionMs;
    this.keys = binaryCodec(spec.keySerde as Serde<K>);
    this.values = binaryCodec(spec.valueSerde as Serde<V>);
    this.sessionKeys = {
      encode: ({ key, window }) => sessionKeyOf(this.keys.encode(key), window.startMs, window.endMs),
      decode: (sessionKey) => ({ key: this.keys.decode(keyOfSessionKey(sessionKey)), window: { startMs: startOfSessionKey(sessionKey), endMs: endOfSessionKey(sessionKey) } }),
    };
    this.committed = new WindowSegments(Math.max(1, Math.ceil(spec.retentionMs / 2)), endOfSessionKey);
  }

  get store(): SessionTaskStore<K, V> {
    return this;
  }

  get pendingWrites(): number {
    return this.cache.size;
  }

  get changelogOffset(): number {
    return this.committedOffset;
  }

  /**
   * The earliest session end still live at `streamTimeMs` (Kafka Streams' `observedStreamTime -
   * retention + 1`). Reads go by the stream time as of now, as Kafka Streams' session stores do:
   * which sessions a record merges with must not depend on when the task last committed. Writes go
   * by the committed stream time, for the window store's reason: a record in flight (an asynchronous
   * step) may still write a session that a later record's write expired for reads.
   */
  private minLiveEndMs(streamTimeMs = this.streamTimeMs): number {
    return Math.max(0, streamTimeMs - this.retentionMs + 1);
  }

  fetchSession(key: K, startMs: number, endMs: number): V | undefined {
    if (endMs < this.minLiveEndMs() || !(startMs <= endMs) || startMs < 0) return undefined;
    const sessionKey = sessionKeyOf(this.keys.encode(key), startMs, endMs);
    const entry = this.cache.get(sessionKey);
    if (entry !== undefined) return currentValue(entry, this.values);
    const committed = this.committed.get(sessionKey);
    return committed === undefined ? undefined : this.values.decode(committed);
  }

  put(session: Windowed<K>, value: V | undefined): void {
    const { startMs, endMs } = session.window;
    if (!Number.isSafeInteger(startMs) || startMs < 0 || !Number.isSafeInteger(endMs) || endMs < startMs) {
      throw new RangeError(`store "${this.name}": a session must start and end at non-negative integers, the end no earlier than the start, got [${startMs}, ${endMs}]`);
    }
    if (endMs > this.streamTimeMs) this.streamTimeMs = endMs;
    if (endMs < this.minLiveEndMs(this.committedStreamTimeMs) || this.droppingSegments.has(this.committed.segmentIdOf(endMs))) return;
    const sessionKey = sessionKeyOf(this.keys.encode(session.key), startMs, endMs);
    this.cache.write(sessionKey, { key: session.key, window: { startMs, endMs } }, value ?? undefined);
    this.cacheSegments.add(this.committed.segmentIdOf(endMs));
  }

  remove(session: Windowed<K>): void {
    this.put(session, undefined);
  }

  findSessions(key: K, earliestSessionEndMs: number, latestSessionStartMs: number): IterableIterator<[Windowed<K>, V]> {
    const from = Math.max(Math.ceil(earliestSessionEndMs), this.minLiveEndMs());
    const latestStart = Math.floor(latestSessionStartMs);
    if (!(from <= Number.MAX_SAFE_INTEGER) || latestStart < 0) return [][Symbol.iterator]();
    const binaryKey = this.keys.encode(key);
    const bounds: ScanBounds = {
      low: sessionKeyOf(binaryKey, 0, from),
      high: sessionKeyOf(binaryKey, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
      highInclusive: true,
      reverse: false,
    };
    const wanted = (sessionKey: BinaryString): boolean => isSessionOf(sessionKey, binaryKey) && startOfSessionKey(sessionKey) <= latestStart;
    const cached = this.cache.size === 0 ? [] : cachedItems(this.cache.sorted(), bounds).filter((item) => wanted(item.binaryKey));
    // One key's sessions are in end order, and segments hold ascending ranges of ends: chaining them in order keeps the order.
    const segments = this.committed.segmentsFor(from, Number.MAX_SAFE_INTEGER);
    const committed = filtered(chain(segments.map((segment) => committedEntries(segment.ordered(), bounds))), wanted);
    return this.scan(cached, committed);
  }

  fetch(key: K): IterableIterator<[Windowed<K>, V]> {
    return this.findSessions(key, 0, Number.MAX_SAFE_INTEGER);
  }

  all(): IterableIterator<[Windowed<K>, V]> {
    const minLive = this.minLiveEndMs();
    const live = (sessionKey: BinaryString): boolean => endOfSessionKey(sessionKey) >= minLive;
    const cached = this.cache.size === 0 ? [] : cachedItems(this.cache.sorted(), ALL).filter((item) => live(item.binaryKey));
    const segments = this.committed.segmentsFor(minLive, Number.MAX_SAFE_INTEGER);
    const committed = filtered(mergeOrdered(segments.map((segment) => committedEntries(segment.ordered(), ALL))), live);
    return this.scan(cached, committed);
  }

  private scan(cached: readonly CachedItem<Windowed<K>, V>[], committed: Iterator<[BinaryString, BinaryString]>): Generator<[Windowed<K>, V]> {
    const version = this.committedVersion;
    const stillValid = (): void => {
      if (this.committedVersion !== version) {
        throw new Error(`store "${this.name}": an iterator was used after the store committed; iterate within the processing of one record`);
      }
    };
    return mergeScan(cached, committed, false, this.sessionKeys, this.values, stillValid);
  }

  /** As the key-value store's: a cached store tells `listener` each changed session once per flush, in store order (removals too). */
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

  /** One dirty session: a removal of a session that was never flushed nor committed writes and tells nothing. */
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

  /** As the window store's: tombstones for the sessions of the segments that expired, which the commit then drops. */
  private dropExpiredSegments(): void {
    const minLive = this.minLiveEndMs(this.streamTimeMs);
    const expired = new Set<number>();
    for (const id of this.committed.expiredSegmentIds(minLive)) if (!this.droppingSegments.has(id)) expired.add(id);
    for (const id of this.cacheSegments) if ((id + 1) * this.committed.segmentIntervalMs <= minLive && !this.droppingSegments.has(id)) expired.add(id);
    if (expired.size === 0) return;
    const timestamp = this.env.changelogTimestampMs();
    for (const id of expired) {
      for (const [sessionKey] of this.committed.segment(id)?.ordered().entries() ?? []) {
        if (this.cache.get(sessionKey)?.flushed === null) continue;
        this.log(sessionKey, null, timestamp);
      }
      this.droppingSegments.add(id);
    }
    if (this.cacheSegments.size === 0) return;
    for (const entry of this.cache.values()) {
      if (typeof entry.flushed !== 'string' || !expired.has(this.committed.segmentIdOf(entry.key.window.endMs)) || this.committed.has(entry.binaryKey)) continue;
      this.log(entry.binaryKey, null, timestamp);
    }
  }

  private log(sessionKey: BinaryString, value: BinaryString | null, timestamp: number): void {
    if (!this.spec.logged) return;
    this.env.writeChangelog({ key: bytesOfBinary(sessionKey), value: value === null ? null : bytesOfBinary(value), timestamp, headers: [] });
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
        if (dropping.has(this.committed.segmentIdOf(entry.key.window.endMs))) continue;
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
      for (const key of keys) streamTimeMs = Math.max(streamTimeMs, endOfSessionKey(key));
      this.committedStreamTimeMs = this.streamTimeMs = streamTimeMs;
      this.committedOffset = snapshot.changelogOffset;
      this.committedVersion++;
    } finally {
      this.loading = false;
    }
  }

  /** As the window store's restore: stream time becomes the largest session end among the records, and expired segments are dropped. */
  restore(records: Iterable<ChangelogRecord>, nextOffset: number): void {
    this.assertRestorable();
    let offset = this.committedOffset;
    let streamTimeMs = this.committedStreamTimeMs;
    for (const record of records) {
      if (record.offset < offset) continue;
      const sessionKey = binaryOf(record.key);
      streamTimeMs = Math.max(streamTimeMs, endOfSessionKey(sessionKey));
      if (record.value === null) this.committed.delete(sessionKey);
      else this.committed.set(sessionKey, binaryOf(record.value));
      offset = record.offset + 1;
    }
    this.committedStreamTimeMs = this.streamTimeMs = streamTimeMs;
    for (const id of this.committed.expiredSegmentIds(this.minLiveEndMs())) this.committed.dropSegment(id);
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

function* filtered(entries: Iterator<[BinaryString, BinaryString]>, keep: (sessionKey: BinaryString) => boolean): Generator<[BinaryString, BinaryString]> {
  for (let next = entries.next(); next.done !== true; next = entries.next()) if (keep(next.value[0])) yield next.value;
}
