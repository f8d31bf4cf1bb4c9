import type { KafkaError } from '../../sdk/protocol/kafka-error.ts';

export const IsolationLevel = { readUncommitted: 0, readCommitted: 1 } as const;
export type IsolationLevelValue = (typeof IsolationLevel)[keyof typeof IsolationLevel];

export interface FetchPartition {
  topic: string;
  partition: number;
  fetchOffset: number;
  partitionMaxBytes: number;
}

export interface FetchRequest {
  partitions: readonly FetchPartition[];
  /** Longest time to park waiting for `minBytes`; 0 answers at once. */
  maxWaitMs: number;
  minBytes: number;
  /** Bound on the whole response, except that the first batch found is always returned whole. */
  maxBytes: number;
  isolationLevel?: IsolationLevelValue;
}

export interface FetchPartitionResult {
  topic: string;
  partition: number;
  error: KafkaError | undefined;
  highWatermark: number;
  lastStableOffset: number;
  logStartOffset: number;
  /** Stored RecordBatch v2 bytes, whole batches only; empty when there is nothing to return. */
  records: Uint8Array;
  /** read_committed only: aborted transactions overlapping `records` (their data batches are left out). */
  abortedTransactions: readonly { producerId: number; firstOffset: number }[];
}
