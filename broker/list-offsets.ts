import { readRecordBatches } from '../sdk/record/record-batch-reader.ts';
import type { PartitionLog } from './log/partition-log.ts';

/** Kafka's special ListOffsets timestamps. */
export const ListOffsetsTimestamp = { latest: -1, earliest: -2 } as const;

export interface ListOffsetsResult {
  offset: number;
  /** The found record's timestamp, or -1 for earliest/latest and when nothing matched. */
  timestamp: number;
}

/**
 * The first record whose timestamp is at or after `timestampMs`. The log narrows it to one batch
 * by its time index; only that batch's records are decoded to find the exact offset.
 */
export function offsetForTimestamp(log: PartitionLog, timestampMs: number): ListOffsetsResult {
  const found = log.firstBatchAtOrAfterTimestamp(timestampMs);
  if (found !== undefined) {
    for (const batch of readRecordBatches(found.bytes)) {
      if (batch.isControl) continue;
      for (const record of batch.records()) {
        if (record.timestamp >= timestampMs) return { offset: record.offset, timestamp: record.timestamp };
      }
    }
  }
  return { offset: -1, timestamp: -1 };
}
