import type { StateStore } from './state-store.ts';

/** One changelog record read back during restore. */
export interface ChangelogRecord {
  readonly offset: number;
  readonly key: Uint8Array;
  /** null: the key was deleted (a tombstone). */
  readonly value: Uint8Array | null;
}

/** A consistent, immutable view of a store's committed state, for writing a snapshot in the background. */
export interface StoreSnapshot {
  /** The changelog offset the state covers: restore replays the changelog from here. */
  readonly changelogOffset: number;
  readonly entryCount: number;
  /** Entries in serialized-key order. */
  entries(): IterableIterator<readonly [Uint8Array, Uint8Array]>;
}

/**
 * A store as its task drives it. Between commits writes are held back (the per-commit cache);
 * `prepareCommit` writes each changed key once to the changelog and tells the store's flush
 * listeners (a cached KTable forwards its new values); `commit` makes the writes the store's
 * committed state once the transaction holding them committed; `abort` drops them, so the store is
 * back at its last committed state without a restore.
 *
 * Restore works on the committed state only: load a snapshot, then apply the changelog from the
 * snapshot's offset, as read with read_committed.
 */
export interface TaskStore {
  readonly store: StateStore;
  /** Writes held back, so the runtime can commit early when they pass its bound. */
  readonly pendingWrites: number;
  /** The changelog offset the committed state covers (the next offset to replay from), 0 when empty. */
  readonly changelogOffset: number;
  prepareCommit(): void;
  /** The held-back writes are committed; `changelogOffset` is the offset after the last changelog record they wrote, when they wrote any. */
  commit(changelogOffset?: number): void;
  abort(): void;
  /** Replaces the committed state with a snapshot's (entries in key order). */
  loadSnapshot(snapshot: StoreSnapshot): void;
  /**
   * Applies changelog records (read_committed, in offset order) to the committed state, which then
   * covers the changelog up to `nextOffset` (the reader's position: past markers and gaps too).
   */
  restore(records: Iterable<ChangelogRecord>, nextOffset: number): void;
  /** The committed state as of now, cheap to take (copy-on-write); undefined for a store that is not logged. */
  snapshot(): StoreSnapshot | undefined;
  close(): void;
}
