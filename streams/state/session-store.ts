import type { StateStore } from './state-store.ts';
import type { Windowed } from './windowed.ts';

/**
 * Reads of a session store: one value per (key, session), a session being the window from its
 * first record's timestamp to its last's, both inclusive (`window.startMs`, `window.endMs`).
 * Entries are ordered by the serialized key, then the session's end, then its start
 * (streams/state/session-key.ts). A session is kept until stream time (the largest session end
 * written) passes its end by the store's retention (the inactivity gap plus the grace for a
 * session aggregation); from the write that made it pass, reads never return it (as in Kafka
 * Streams, so the sessions a record merges with do not depend on commit timing). Values and
 * iterators follow the key-value store's rules (streams/state/key-value-store.ts).
 */
export interface ReadOnlySessionStore<K, V> extends StateStore {
  /**
   * `key`'s sessions that end at or after `earliestSessionEndMs` and start at or before
   * `latestSessionStartMs`, by end then start: the sessions a record at t merges with are those of
   * `findSessions(key, t - gap, t + gap)` (Kafka Streams' `findSessions`).
   */
  findSessions(key: K, earliestSessionEndMs: number, latestSessionStartMs: number): IterableIterator<[Windowed<K>, V]>;
  /** The value of `key`'s session from `startMs` to `endMs`. */
  fetchSession(key: K, startMs: number, endMs: number): V | undefined;
  /** Every session of `key`, by end then start. */
  fetch(key: K): IterableIterator<[Windowed<K>, V]>;
  /** Every session, in store order. */
  all(): IterableIterator<[Windowed<K>, V]>;
}

/** A session store a processor writes; writes become durable with the task's next commit. */
export interface SessionStore<K, V> extends ReadOnlySessionStore<K, V> {
  /**
   * Sets the session's value; undefined or null removes it. A write to a session past retention as
   * of the last commit is dropped, as Kafka Streams' session stores drop it.
   */
  put(session: Windowed<K>, value: V | undefined): void;
  /** Removes the session (a tombstone in the changelog at the next commit when it was committed). */
  remove(session: Windowed<K>): void;
}
