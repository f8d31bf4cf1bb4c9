import type { Serde } from '../../sdk/serde/serde.ts';

/**
 * A table replicated whole to every process of the application (Kafka Streams' GlobalKTable),
 * built by `builder.globalTable(topic, ...)`: each process reads every partition of the topic into
 * its own copy of the table, with no consumer group and no co-partitioning, so a stream of any
 * partitioning joins it (`KStream.join(globalTable, keySelector, joiner)`) without repartitioning.
 *
 * - Restored before processing: a starting process reads the topic (read_committed) to the end it
 *   has when the process starts, with the application in REBALANCING, before any task takes a
 *   record; then it keeps applying new records as they arrive, independently of the tasks.
 * - The topic is the table's changelog: no changelog topic is created, and nothing is written back.
 *   Use a compacted topic. A record with a null value deletes its key; one with a null key is skipped.
 *   A local snapshot with the positions it covers spares a restart most of the reading (see
 *   streams/README.md, "Global tables").
 * - No time synchronization: a stream record joins the table as this process has read it when the
 *   record is processed (Kafka Streams' semantics), so which version of a row a join sees depends
 *   on how far the table's reader has come; exactly-once covers the stream side, not this timing.
 */
export class GlobalKTable<K, V> {
  /** @internal */
  constructor(
    /** The global store holding the table, readable from any processor by this name. */
    readonly queryableStoreName: string,
    /** @internal */
    readonly keySerde: Serde<K>,
    /** @internal */
    readonly valueSerde: Serde<V>,
  ) {}
}
