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
 * of the isolation level may see); else none, as Kafka answers then. A batch the cleaner emptied
 * keeps its maxTimestamp (as in Kafka) without a record holding it; when such a header holds the
 * largest timestamp the answer is its last offset, where Kafka's shallow offset of the maximum points.
 */
export function offsetOfMaxTimestamp(log: PartitionLog, upperBoundOffset: number): ListOffsetsResult {
  const maxTimestamp = log.maxTimestamp;
  if (maxTimestamp < 0) return NOT_FOUND;
  let emptyHolder: number | undefined;
  for (let from = 0; ; ) {
    const found = log.firstBatchAtOrAfterTimestamp(maxTimestamp, from);
    if (found === undefined) break;
    for (const batch of readRecordBatches(found.bytes)) {
      if (batch.recordsCount === 0) emptyHolder ??= found.lastOffset;
      for (const record of batch.records()) {
        if (record.timestamp === maxTimestamp) return record.offset < upperBoundOffset ? { offset: record.offset, timestamp: maxTimestamp } : NOT_FOUND;
      }
    }
    from = found.lastOffset + 1;
  }
  return emptyHolder !== undefined && emptyHolder < upperBoundOffset ? { offset: emptyHolder, timestamp: maxTimestamp } : NOT_FOUND;
}

/**
 * The first record whose timestamp is at or after `timestampMs`. The log narrows it to one batch
 * by its time index; only that batch's records are decoded to find the exact offset. A batch whose
 * maxTimestamp qualifies but none of whose data records do (a marker, a batch the cleaner emptied
 * or thinned) sends the search on from its end.
 */
export function offsetForTimestamp(log: PartitionLog, timestampMs: number): ListOffsetsResult {
  for (let from = 0; ; ) {
    const found = log.firstBatchAtOrAfterTimestamp(timestampMs, from);
    if (found === undefined) return NOT_FOUND;
    for (const batch of readRecordBatches(found.bytes)) {
      if (batch.isControl) continue;
      for (const record of batch.records()) {
        if (record.timestamp >= timestampMs) return { offset: record.offset, timestamp: record.timestamp };
      }
    }
    from = found.lastOffset + 1;
  }
}
