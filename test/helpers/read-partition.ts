import { ApiKey } from '../../sdk/protocol/mod.ts';
import { readRecordBatches } from '../../sdk/record/mod.ts';
import type { RawKafkaClient } from './raw-kafka-client.ts';

const decoder = new TextDecoder();

/** One fetch (v11) of a partition from `offset`, waiting up to `maxWaitMs` for data. */
export async function fetchOnce(raw: RawKafkaClient, topic: string, partition: number, offset: bigint, isolationLevel: 0 | 1, maxWaitMs = 0) {
  const response = await raw.request(ApiKey.Fetch, 11, {
    clusterId: null,
    replicaId: -1,
    replicaState: { replicaId: -1, replicaEpoch: -1n },
    maxWaitMs,
    minBytes: 1,
    maxBytes: 1 << 20,
    isolationLevel,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic, topicId: '', partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: offset, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20, replicaDirectoryId: '' }] }],
    forgottenTopicsData: [],
    rackId: '',
  });
  return response.responses[0]!.partitions[0]!;
}

/** Every data record value from offset 0 up to where the broker stops serving (the LSO for read_committed). */
export async function readAllValues(raw: RawKafkaClient, topic: string, partition: number, isolationLevel: 0 | 1): Promise<string[]> {
  const values: string[] = [];
  let offset = 0n;
  for (;;) {
    const data = await fetchOnce(raw, topic, partition, offset, isolationLevel);
    if (data.errorCode !== 0) throw new Error(`fetch of ${topic}-${partition} at ${offset} failed with error ${data.errorCode}`);
    const before = offset;
    for (const batch of readRecordBatches(data.records!)) {
      if (!batch.isControl) for (const record of batch.records()) if (record.offset >= offset) values.push(decoder.decode(record.value!));
      offset = BigInt(batch.lastOffset) + 1n;
    }
    if (offset === before) return values;
  }
}
