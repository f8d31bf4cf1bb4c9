import type { FlushedChange, FlushListenable, KeyValueStore } from '../../../../streams/state/key-value-store.ts';
import type { StoreEnvironment } from '../../../../streams/state/open-task-store.ts';
import type { StoreSpec } from '../../../../streams/state/store-spec.ts';
import type { ChangelogRecord, StoreSnapshot, TaskStore } from '../../../../streams/state/task-store.ts';

/**
 * A minimal TaskStore for the DSL's tests while the state layer's own store is being written:
 * committed state as serialized bytes, a per-commit cache of typed values in front, flushed by
 * `prepareCommit` (one changelog record per key, the flush listener told in key order), applied by
 * `commit`, dropped by `abort`. Ordered scans sort on demand, which is fine at test sizes.
 */
export function openInMemoryTaskStore(spec: StoreSpec, env: StoreEnvironment): TaskStore {
  return new InMemoryTaskStore(spec, env);
}

/** Bytes as a binary string: compares like the bytes do (byte-lexicographic), usable as a Map key. */
function idOf(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return text;
}

function bytesOf(id: string): Uint8Array {
  return Uint8Array.from(id, (c) => c.charCodeAt(0));
}

class InMemoryTaskStore implements TaskStore, KeyValueStore<unknown, unknown>, FlushListenable<unknown, unknown> {
  readonly name: string;
  private committed = new Map<string, Uint8Array>();
  /** Written since the last prepareCommit: typed values, undefined for a delete. */
  private cache = new Map<string, { key: unknown; value: unknown }>();
  /** Flushed since the last commit: serialized values, null for a delete. */
  private flushed = new Map<string, Uint8Array | null>();
  private listener: ((change: FlushedChange<unknown, unknown>) => void) | undefined;
  private offset = 0;
  private pendingChangelogOffset = 0;

  constructor(
    private readonly spec: StoreSpec,
    private readonly env: StoreEnvironment,
  ) {
    this.name = spec.name;
  }

  get store(): KeyValueStore<unknown, unknown> {
    return this;
  }

  get pendingWrites(): number {
    return this.cache.size;
  }

  get changelogOffset(): number {
    return this.offset;
  }

  setFlushListener(listener: (change: FlushedChange<unknown, unknown>) => void): void {
    if (!this.spec.cached) throw new Error(`store "${this.name}" is not cached: it has no flushes to listen to`);
    this.listener = listener;
  }

  private idOfKey(key: unknown): string {
    return idOf(this.spec.keySerde.serialize(key));
  }

  /** The committed-and-flushed value of a key, deserialized (a copy), undefined when absent. */
  private stored(id: string): unknown {
    const bytes = this.flushed.has(id) ? this.flushed.get(id)! : this.committed.get(id);
    return bytes === null || bytes === undefined ? undefined : this.spec.valueSerde.deserialize(bytes);
  }

  get(key: unknown): unknown {
    const id = this.idOfKey(key);
    const cached = this.cache.get(id);
    return cached !== undefined ? cached.value : this.stored(id);
  }

  put(key: unknown, value: unknown): void {
    this.cache.set(this.idOfKey(key), { key, value });
  }

  putIfAbsent(key: unknown, value: unknown): unknown {
    const present = this.get(key);
    if (present === undefined) this.put(key, value);
    return present;
  }

  putAll(entries: Iterable<readonly [unknown, unknown]>): void {
    for (const [key, value] of entries) this.put(key, value);
  }

  delete(key: unknown): unknown {
    const present = this.get(key);
    this.cache.set(this.idOfKey(key), { key, value: undefined });
    return present;
  }

  /** The current view (committed, then flushed, then cached writes), in key order. */
  private entries(): [string, unknown, unknown][] {
    const ids = new Set([...this.committed.keys(), ...this.flushed.keys(), ...this.cache.keys()]);
    const result: [string, unknown, unknown][] = [];
    for (const id of [...ids].sort()) {
      const cached = this.cache.get(id);
      const value = cached !== undefined ? cached.value : this.stored(id);
      if (value === undefined) continue;
      result.push([id, cached !== undefined ? cached.key : this.spec.keySerde.deserialize(bytesOf(id)), value]);
    }
    return result;
  }

  *range(from?: unknown, to?: unknown): IterableIterator<[unknown, unknown]> {
    const low = from === undefined ? undefined : this.idOfKey(from);
    const high = to === undefined ? undefined : this.idOfKey(to);
    for (const [id, key, value] of this.entries()) {
      if ((low === undefined || id >= low) && (high === undefined || id <= high)) yield [key, value];
    }
  }

  *reverseRange(from?: unknown, to?: unknown): IterableIterator<[unknown, unknown]> {
    yield* [...this.range(from, to)].reverse();
  }

  *prefixScan(prefix: unknown): IterableIterator<[unknown, unknown]> {
    const start = this.idOfKey(prefix);
    for (const [id, key, value] of this.entries()) if (id.startsWith(start)) yield [key, value];
  }

  all(): IterableIterator<[unknown, unknown]> {
    return this.range();
  }

  approximateNumEntries(): number {
    return this.entries().length;
  }

  prepareCommit(): void {
    const writes = [...this.cache.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    this.cache = new Map();
    for (const [id, { key, value }] of writes) {
      const oldValue = this.stored(id);
      const bytes = value === undefined ? null : this.spec.valueSerde.serialize(value);
      this.flushed.set(id, bytes);
      if (this.spec.logged) {
        this.env.writeChangelog({ key: bytesOf(id), value: bytes, timestamp: 0, headers: [] });
        this.pendingChangelogOffset++;
      }
      this.listener?.({ key, newValue: value === undefined ? undefined : this.spec.valueSerde.deserialize(bytes!), oldValue });
    }
  }

  commit(changelogOffset?: number): void {
    for (const [id, bytes] of this.flushed) {
      if (bytes === null) this.committed.delete(id);
      else this.committed.set(id, bytes);
    }
    this.flushed = new Map();
    this.offset = changelogOffset ?? this.offset + this.pendingChangelogOffset;
    this.pendingChangelogOffset = 0;
  }

  abort(): void {
    this.cache = new Map();
    this.flushed = new Map();
    this.pendingChangelogOffset = 0;
  }

  loadSnapshot(snapshot: StoreSnapshot): void {
    this.committed = new Map([...snapshot.entries()].map(([key, value]) => [idOf(key), value]));
    this.offset = snapshot.changelogOffset;
  }

  restore(records: Iterable<ChangelogRecord>): void {
    for (const record of records) {
      if (record.value === null) this.committed.delete(idOf(record.key));
      else this.committed.set(idOf(record.key), record.value);
      this.offset = record.offset + 1;
    }
  }

  snapshot(): StoreSnapshot | undefined {
    if (!this.spec.logged) return undefined;
    const entries = [...this.committed.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([id, value]) => [bytesOf(id), value] as const);
    return { changelogOffset: this.offset, entryCount: entries.length, entries: () => entries[Symbol.iterator]() };
  }

  close(): void {
    this.listener = undefined;
  }
}
