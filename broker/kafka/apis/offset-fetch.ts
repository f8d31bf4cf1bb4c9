import { ApiKey, type OffsetFetchResponsePartition } from '../../../sdk/protocol/mod.ts';
import { ErrorCode } from '../../../sdk/protocol/error-codes.ts';
import type { Broker } from '../../broker.ts';
import type { ApiHandler } from '../api-handler.ts';

interface GroupOffsets {
  errorCode: number;
  topics: { name: string; partitions: OffsetFetchResponsePartition[] }[];
}

/**
 * One group's committed offsets as OffsetFetch answers them. With `requireStable` (v7+, KIP-447)
 * a partition that an open or committing transaction holds an offset for answers
 * UNSTABLE_OFFSET_COMMIT (retriable) instead of the offset that transaction is about to replace:
 * a consumer taking over the partition would otherwise reprocess records whose outputs commit.
 */
function fetchGroup(broker: Broker, groupId: string, topics: readonly { name: string; partitionIndexes: number[] }[] | null, requireStable: boolean): GroupOffsets {
  const result = broker.groups.fetchOffsets(groupId, topics?.map((t) => ({ name: t.name, partitionIndexes: t.partitionIndexes })) ?? null);
  const unstable = new Set<string>();
  if (requireStable && result.errorCode === ErrorCode.NONE) {
    for (const p of broker.transactions.pendingOffsetPartitions(groupId)) unstable.add(`${p.topic}\u0000${p.partition}`);
  }
  const answered = result.topics.map((t) => ({
    name: t.name,
    partitions: t.partitions.map((p) => ({
      partitionIndex: p.partitionIndex,
      committedOffset: BigInt(p.committedOffset),
      committedLeaderEpoch: -1,
      metadata: p.metadata,
      errorCode: p.errorCode !== ErrorCode.NONE ? p.errorCode : unstable.delete(`${t.name}\u0000${p.partitionIndex}`) ? ErrorCode.UNSTABLE_OFFSET_COMMIT : ErrorCode.NONE,
    })),
  }));
  // Fetching every partition: a partition with only a pending offset has no committed one to list.
  if (topics === null) {
    for (const key of unstable) {
      const [name, partition] = key.split('\u0000') as [string, string];
      let topic = answered.find((t) => t.name === name);
      if (topic === undefined) answered.push((topic = { name, partitions: [] }));
      topic.partitions.push({ partitionIndex: Number(partition), committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT });
    }
  }
  return { errorCode: result.errorCode, topics: answered };
}

/**
 * OffsetFetch v1-v8: v2+ null topics fetch every committed partition and carry a top-level error
 * code, v7 adds requireStable, v8 batches groups.
 */
export const offsetFetchHandler: ApiHandler<typeof ApiKey.OffsetFetch> = {
  apiKey: ApiKey.OffsetFetch,
  minVersion: 1,
  maxVersion: 8,
  async handle(request, { broker, apiVersion }) {
    if (apiVersion >= 8) {
      return {
        throttleTimeMs: 0,
        errorCode: 0,
        topics: [],
        groups: request.groups.map((g) => {
          const answered = fetchGroup(broker, g.groupId, g.topics, request.requireStable);
          return { groupId: g.groupId, errorCode: answered.errorCode, topics: answered.topics };
        }),
      };
    }
    const answered = fetchGroup(broker, request.groupId, request.topics, apiVersion >= 7 && request.requireStable);
    // v1 has no top-level error code, so a group-level error goes on every partition.
    const partitionError = apiVersion < 2 ? answered.errorCode : ErrorCode.NONE;
    return {
      throttleTimeMs: 0,
      errorCode: answered.errorCode,
      groups: [],
      topics: answered.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => (p.errorCode !== ErrorCode.NONE || partitionError === ErrorCode.NONE ? p : { ...p, errorCode: partitionError })),
      })),
    };
  },
};
