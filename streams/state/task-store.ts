import type { BinaryString } from './binary-string.ts';
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
  /**
   * Serialized keys and values as binary strings (one char per byte), in key order; each call
   * iterates anew. The pair may be reused from one step to the next: take its members, not it.
   */
  entries(): IterableIterator<readonly [BinaryString, BinaryString]>;
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
  /**
   * Flushes the writes since the last flush: one changelog record per changed key, and the flush
   * listener of a cached store. May run several times before `commit`/`abort` (what a flush's
   * listener writes goes with the next one). If it throws, the caller must `abort`.
   */
  prepareCommit(): void;
  /**
   * The flushed writes become committed state; `changelogOffset` is the offset after the last
   * changelog record they wrote, when known. Without it `changelogOffset` stays where it was, which
   * is safe (a restore replays from an earlier offset) but slower. Asserts that nothing is unflushed.
   */
  commit(changelogOffset?: number): void;
  abort(): void;
  /**
   * Replaces the committed state with a snapshot's (entries in key order), in slices with the event
   * loop running between them; the store must not be used until it resolves.
   */
  loadSnapshot(snapshot: StoreSnapshot): Promise<void>;
  /**
   * Applies changelog records (read_committed, in offset order) to the committed state, which then
   * covers the changelog up to `nextOffset` (the reader's position: past markers and gaps too);
   * records below `changelogOffset` are already in the state and skipped.
   */
  restore(records: Iterable<ChangelogRecord>, nextOffset: number): void;
  /** The committed state as of now, cheap to take (copy-on-write); undefined for a store that is not logged. */
  snapshot(): StoreSnapshot | undefined;
  close(): void;
}
