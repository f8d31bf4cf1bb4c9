import { KafkaError } from '../../sdk/protocol/kafka-error.ts';
import { NO_ABORTED_TRANSACTIONS, type PartitionLog, type ReadResult } from '../log/partition-log.ts';
import type { HighWatermarkSource } from './fetch-parking.ts';
import { type FetchPartitionResult, type FetchRequest, IsolationLevel } from './fetch-types.ts';

const EMPTY = new Uint8Array(0);

export interface PartitionsRead {
  results: FetchPartitionResult[];
  bytes: number;
  sources: HighWatermarkSource[];
  seenHighWatermarks: number[];
}

/**
 * One pass over a fetch's partitions under Kafka's size rules (KIP-74): each partition gets at most
 * `partitionMaxBytes` and the response at most `maxBytes`, except that the first batch found is
 * returned whole even when larger, so a consumer can always make progress.
 */
export function readPartitions(
  request: FetchRequest,
  lookup: (topic: string, partition: number) => PartitionLog,
): PartitionsRead {
  const results: FetchPartitionResult[] = [];
  const sources: HighWatermarkSource[] = [];
  const seenHighWatermarks: number[] = [];
  let bytes = 0;
  for (const p of request.partitions) {
    const result: FetchPartitionResult = {
      topic: p.topic,
      partition: p.partition,
      error: undefined,
      highWatermark: -1,
      lastStableOffset: -1,
      logStartOffset: -1,
      records: EMPTY,
      abortedTransactions: NO_ABORTED_TRANSACTIONS,
    };
    results.push(result);
    try {
      const log = lookup(p.topic, p.partition);
      sources.push(log);
      seenHighWatermarks.push(log.highWatermark);
      const limit = Math.min(p.partitionMaxBytes, request.maxBytes - bytes);
      if (bytes > 0 && limit <= 0) {
        // The response is full: reading a batch would only drop it. An upper bound at the fetch
        // offset still checks the offset's range and reports the partition's offsets.
        const checked = log.read(p.fetchOffset, 0, p.fetchOffset);
        result.highWatermark = checked.highWatermark;
        result.lastStableOffset = log.lastStableOffset;
        result.logStartOffset = checked.logStartOffset;
        continue;
      }
      // read_committed stops at the last stable offset and leaves out aborted data (KIP-98).
      let read: ReadResult;
      if (request.isolationLevel === IsolationLevel.readCommitted) {
        const committed = log.readCommitted(p.fetchOffset, Math.max(limit, 1));
        result.lastStableOffset = committed.lastStableOffset;
        result.abortedTransactions = committed.abortedTransactions;
        read = committed;
      } else {
        read = log.read(p.fetchOffset, Math.max(limit, 1));
        result.lastStableOffset = log.lastStableOffset;
      }
      result.highWatermark = read.highWatermark;
      result.logStartOffset = read.logStartOffset;
      const oversized = read.records.byteLength > limit;
      if (!oversized || bytes === 0) {
        result.records = read.records;
        bytes += read.records.byteLength;
      }
    } catch (error) {
      if (!(error instanceof KafkaError)) throw error;
      result.error = error;
    }
  }
  return { results, bytes, sources, seenHighWatermarks };
}
