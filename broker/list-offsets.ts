import { readRecordBatches } from '../sdk/record/record-batch-reader.ts';
import type { PartitionLog } from './log/partition-log.ts';

/**
 * Kafka's special ListOffsets timestamps: the end, the start, the record with the largest
 * timestamp (v7+, KIP-734), the start of the local log (v8+, KIP-405: the start here, there is no
 * remote tier) and the last tiered offset (v9+, KIP-1005: none here).
 */
export const ListOffsetsTimestamp = { latest: -1, earliest: -2, maxTimestamp: -3, earliestLocal: -4, latestTiered: -5 } as const;

export interface ListOffsetsResult {
  offset: number;
  /** The found record's timestamp, or -1 for earliest/latest and when nothing matched. */
  timestamp: number;
}

const NOT_FOUND: ListOffsetsResult = { offset: -1, timestamp: -1 };

/**
 * The first record with the log's largest timestamp, control records included (their timestamps
 * count toward a segment's maximum, as in Kafka), if it is below `upperBoundOffset` (what readers
 * of the isolation level may see); else none, as Kafka answers then.
 */
export function offsetOfMaxTimestamp(log: PartitionLog, upperBoundOffset: number): ListOffsetsResult {
  const maxTimestamp = log.maxTimestamp;
  if (maxTimestamp < 0) return NOT_FOUND;
  const found = log.firstBatchAtOrAfterTimestamp(maxTimestamp);
  if (found === undefined) return NOT_FOUND;
  for (const batch of readRecordBatches(found.bytes)) {
    for (const record of batch.records()) {
      if (record.timestamp === maxTimestamp) return record.offset < upperBoundOffset ? { offset: record.offset, timestamp: maxTimestamp } : NOT_FOUND;
    }
  }
  return NOT_FOUND;
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
  return NOT_FOUND;
}
