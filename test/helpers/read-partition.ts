import { ApiKey, type FetchRequest, ZERO_UUID } from '../../sdk/protocol/mod.ts';
import { readRecordBatches } from '../../sdk/record/mod.ts';
import type { RawKafkaClient } from './raw-kafka-client.ts';

const decoder = new TextDecoder();

type FetchOptions = Partial<Pick<FetchRequest, 'maxWaitMs' | 'minBytes' | 'maxBytes' | 'isolationLevel' | 'sessionId' | 'sessionEpoch'>> & { partitionMaxBytes?: number };

/** A consumer's Fetch request body for one partition, with the fields tests vary as options. */
export function fetchRequest(topic: string, partition: number, fetchOffset: bigint, options: FetchOptions = {}): FetchRequest {
  return fetchPartitionsRequest(topic, [{ partition, fetchOffset }], options);
}

/** A consumer's Fetch request body for several partitions of one topic. */
export function fetchPartitionsRequest(topic: string, partitions: readonly { partition: number; fetchOffset: bigint }[], options: FetchOptions = {}): FetchRequest {
  const { partitionMaxBytes = 1 << 20, ...rest } = options;
  return {
    clusterId: null,
    replicaId: -1,
    replicaState: { replicaId: -1, replicaEpoch: -1n },
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        topic,
        topicId: '',
        partitions: partitions.map(({ partition, fetchOffset }) => ({
          partition,
          currentLeaderEpoch: -1,
          fetchOffset,
          lastFetchedEpoch: -1,
          logStartOffset: -1n,
          partitionMaxBytes,
          replicaDirectoryId: ZERO_UUID,
        })),
      },
    ],
    forgottenTopicsData: [],
    rackId: '',
    ...rest,
  };
}

/** One fetch (v11) of a partition from `offset`, waiting up to `maxWaitMs` for data. */
export async function fetchOnce(raw: RawKafkaClient, topic: string, partition: number, offset: bigint, isolationLevel: 0 | 1, maxWaitMs = 0) {
  const response = await raw.request(ApiKey.Fetch, 11, fetchRequest(topic, partition, offset, { isolationLevel, maxWaitMs, minBytes: 1 }));
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
