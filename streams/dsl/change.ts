/**
 * How a KTable's updates travel between table operators (Kafka Streams' `Change<V>`): the record's
 * key is the table's key, its value says what the key's value became and what it was.
 *
 * - A table that owns a store (a `builder.table(...)` or an aggregation) forwards one change per
 *   update: with caching (the default) once per changed key when the store flushes at commit
 *   (`FlushListenable`), with the latest value and the record timestamp of the update that made
 *   it; without caching on every update, derived from the record that caused it.
 * - `newValue` undefined: the key was deleted. `oldValue` is the value before the change; only
 *   operators that asked for old values (a filter, through every table operator above it) get it
 *   from a `mapValues`, so a mapper runs once per update unless a filter below needs the old value.
 * - `filter` forwards a change only when the key matched before or matches now: a key that stops
 *   matching becomes a delete, a key that never matched forwards nothing.
 * - `toStream()` turns changes into plain records: the new value, or null for a delete (a tombstone).
 *
 * A change whose new and old values are both absent (a delete of an absent key) is never forwarded.
 */
export interface Change<V> {
  readonly newValue: V | undefined;
  readonly oldValue: V | undefined;
}
