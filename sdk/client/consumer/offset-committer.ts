import { ApiKey } from '../../protocol/mod.ts';
import { isKafkaError, KafkaError } from '../../protocol/kafka-error.ts';
import { type ClusterMetadata, CoordinatorType } from '../cluster-metadata.ts';
import { throwIfError } from '../error-from-code.ts';
import { retrying, type RetryOptions } from '../retry.ts';
import type { ConsumerGroupMetadata, OffsetToCommit } from '../producer/producer-types.ts';
import { type TopicPartition, tpKey } from './consumer-types.ts';

const COMMIT_RETRY: RetryOptions = { retries: 20, backoff: { initialMs: 50, maxMs: 1_000 } };

/** Errors that mean "ask FindCoordinator again" rather than "this request is wrong". */
function coordinatorMoved(error: unknown): boolean {
  return isKafkaError(error, 'NOT_COORDINATOR') || isKafkaError(error, 'COORDINATOR_NOT_AVAILABLE') || isKafkaError(error, 'NETWORK_EXCEPTION');
}

function byTopic<T extends TopicPartition>(items: readonly T[]): Map<string, T[]> {
  const topics = new Map<string, T[]>();
  for (const item of items) {
    const list = topics.get(item.topic) ?? [];
    list.push(item);
    topics.set(item.topic, list);
  }
  return topics;
}

/**
 * OffsetCommit and OffsetFetch at a group's coordinator, retried across coordinator moves. A commit
 * carries the member's generation, so one from a member the group has moved past fails with
 * ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID / REBALANCE_IN_PROGRESS instead of overwriting the new
 * owner's progress; `group` with generation -1 and member id '' commits as an admin (empty group only).
 */
export async function commitOffsets(metadata: ClusterMetadata, group: ConsumerGroupMetadata, offsets: readonly OffsetToCommit[]): Promise<void> {
  if (offsets.length === 0) return;
  const transport = metadata.transport;
  const topics = [...byTopic(offsets)].map(([name, list]) => ({
    name,
    partitions: list.map((o) => ({
      partitionIndex: o.partition,
      committedOffset: BigInt(o.offset),
      committedLeaderEpoch: -1,
      commitTimestamp: -1n,
      committedMetadata: o.metadata ?? null,
    })),
  }));
  await retrying(
    async () => {
      const nodeId = await metadata.coordinator(CoordinatorType.group, group.groupId);
      const version = await transport.apiVersion(ApiKey.OffsetCommit, nodeId);
      const response = await transport.send(
        ApiKey.OffsetCommit,
        version,
        {
          groupId: group.groupId,
          generationIdOrMemberEpoch: group.generationId,
          memberId: group.memberId,
          // Before v7 the coordinator identifies a static member by its member id alone.
          groupInstanceId: version >= 7 ? group.groupInstanceId : null,
          retentionTimeMs: -1n,
          topics,
        },
        { nodeId },
      );
      for (const t of response.topics) for (const p of t.partitions) throwIfError(p.errorCode, `OffsetCommit ${t.name}-${p.partitionIndex} for group ${group.groupId}`);
    },
    { ...COMMIT_RETRY, onRetry: (e) => (coordinatorMoved(e) ? metadata.invalidateCoordinator(CoordinatorType.group, group.groupId) : undefined) },
  );
}

/** The group's committed offset per partition (tpKey → offset; -1 when none), or for every committed partition when `partitions` is null. */
export async function fetchCommittedOffsets(metadata: ClusterMetadata, groupId: string, partitions: readonly TopicPartition[] | null): Promise<Map<string, { topic: string; partition: number; offset: number; metadata: string | null }>> {
  const transport = metadata.transport;
  return retrying(
    async () => {
      const nodeId = await metadata.coordinator(CoordinatorType.group, groupId);
      const version = await transport.apiVersion(ApiKey.OffsetFetch, nodeId);
      const topics = partitions === null ? null : [...byTopic(partitions)].map(([name, list]) => ({ name, partitionIndexes: list.map((tp) => tp.partition) }));
      if (topics === null && version < 2) throw new KafkaError('UNSUPPORTED_VERSION', 'OffsetFetch of every partition needs version 2');
      // requireStable (v7+) makes the coordinator answer UNSTABLE_OFFSET_COMMIT (retriable) while a
      // transaction holding offsets for these partitions is still open, instead of an older offset.
      const response = await transport.send(ApiKey.OffsetFetch, version, { groupId, topics, groups: [], requireStable: version >= 7 }, { nodeId });
      throwIfError(response.errorCode, `OffsetFetch for group ${groupId}`);
      const result = new Map<string, { topic: string; partition: number; offset: number; metadata: string | null }>();
      for (const t of response.topics) {
        for (const p of t.partitions) {
          throwIfError(p.errorCode, `OffsetFetch ${t.name}-${p.partitionIndex} for group ${groupId}`);
          result.set(tpKey(t.name, p.partitionIndex), { topic: t.name, partition: p.partitionIndex, offset: Number(p.committedOffset), metadata: p.metadata });
        }
      }
      return result;
    },
    { ...COMMIT_RETRY, onRetry: (e) => (coordinatorMoved(e) ? metadata.invalidateCoordinator(CoordinatorType.group, groupId) : undefined) },
  );
}
