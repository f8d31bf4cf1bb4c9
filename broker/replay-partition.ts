import type { Record } from '../sdk/record/record.ts';
import { type RecordBatchView, readRecordBatches } from '../sdk/record/record-batch-reader.ts';
import type { FetchPartitionResult, FetchRequest } from './fetch/fetch-types.ts';
import { ListOffsetsTimestamp } from './list-offsets.ts';

const REPLAY_FETCH_BYTES = 1024 * 1024;

/** The reads a replay needs: the partition's bounds and fetches that answer at once. */
export interface ReplaySource {
  listOffsets(topic: string, partition: number, timestamp: number): { offset: number };
  fetch(request: FetchRequest): Promise<FetchPartitionResult[]>;
}

/**
 * Calls `visit` with every record of `topic`-`partition`, from its log start to the high watermark
 * it had when the replay began, in log order, with the batch holding it. The state stores of
 * internal topics (`__consumer_offsets`, `__transaction_state`, the HTTP layer's) rebuild from it.
 */
export async function replayPartition(
  source: ReplaySource,
  topic: string,
  partition: number,
  visit: (record: Record, batch: RecordBatchView) => void,
): Promise<void> {
  let fetchOffset = source.listOffsets(topic, partition, ListOffsetsTimestamp.earliest).offset;
  const end = source.listOffsets(topic, partition, ListOffsetsTimestamp.latest).offset;
  while (fetchOffset < end) {
    const [result] = await source.fetch({
      partitions: [{ topic, partition, fetchOffset, partitionMaxBytes: REPLAY_FETCH_BYTES }],
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: REPLAY_FETCH_BYTES,
    });
    if (result === undefined) throw new Error(`invariant broken: a fetch of ${topic}-${partition} returned no partition`);
    if (result.error !== undefined) throw result.error;
    const before = fetchOffset;
    for (const batch of readRecordBatches(result.records)) {
      if (batch.lastOffset < fetchOffset) continue;
      for (const record of batch.records()) if (record.offset >= fetchOffset) visit(record, batch);
      fetchOffset = batch.lastOffset + 1;
    }
    if (fetchOffset === before) throw new Error(`invariant broken: ${topic}-${partition} returned nothing at ${fetchOffset}, below its high watermark ${end}`);
  }
}
