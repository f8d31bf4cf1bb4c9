/**
 * What the share coordinator needs of the broker's topics: names and ids, offsets, whole-batch
 * reads, high-watermark notifications and dead-letter appends. `broker.ts` implements it over its
 * partition logs, so nothing here imports the Broker.
 */
export interface ShareLogHost {
  topicIdOf(topic: string): string | undefined;
  topicNameOf(topicId: string): string | undefined;
  partitionCount(topic: string): number | undefined;
  logOffsets(topic: string, partition: number): { logStartOffset: number; highWatermark: number; lastStableOffset: number };
  /** The offset of the first record whose timestamp is at or after `timestampMs`, -1 when none is. */
  offsetForTimestamp(topic: string, partition: number, timestampMs: number): number;
  /** Whole batches from the one holding `offset`, up to `maxBytes` (at least one batch), below the high watermark. */
  read(topic: string, partition: number, offset: number, maxBytes: number): Uint8Array;
  /** As `read`, below the last stable offset and without the data batches of aborted transactions (their markers stay). */
  readCommitted(topic: string, partition: number, offset: number, maxBytes: number): Uint8Array;
  onHighWatermark(topic: string, partition: number, listener: () => void): () => void;
  /**
   * Appends a sealed batch to the dead-letter topic, creating it (one partition) on first use, to
   * partition `sourcePartition` modulo its partition count; resolves once fsynced.
   */
  appendDeadLetters(topic: string, sourcePartition: number, batch: Uint8Array): Promise<void>;
}
