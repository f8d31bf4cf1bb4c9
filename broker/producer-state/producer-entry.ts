/** How many appended batches per producer and partition are remembered to answer retries (Java's max in flight). */
export const RETAINED_BATCHES = 5;

/** One appended batch of an idempotent producer, kept to recognise its retries. */
export interface BatchMetadata {
  firstSeq: number;
  lastSeq: number;
  baseOffset: number;
  lastOffset: number;
}

/** What a partition knows about one producer id (Kafka's ProducerStateEntry). */
export interface ProducerEntry {
  producerId: number;
  producerEpoch: number;
  /** The last RETAINED_BATCHES batches of `producerEpoch`, oldest first. */
  batches: BatchMetadata[];
  /** First offset of the producer's open transaction on this partition, -1 when none. */
  currentTxnFirstOffset: number;
  coordinatorEpoch: number;
  /** maxTimestamp of the producer's last batch; expiry measures idleness from it. */
  lastTimestampMs: number;
}

/** Field by field rather than by spread: a spread copy on every append made V8 promote the copies. */
export function cloneEntry(entry: ProducerEntry): ProducerEntry {
  return {
    producerId: entry.producerId,
    producerEpoch: entry.producerEpoch,
    batches: entry.batches.slice(),
    currentTxnFirstOffset: entry.currentTxnFirstOffset,
    coordinatorEpoch: entry.coordinatorEpoch,
    lastTimestampMs: entry.lastTimestampMs,
  };
}

export function lastSequenceOf(entry: ProducerEntry): number {
  return entry.batches.at(-1)?.lastSeq ?? -1;
}
