import { ApiKey } from '../../protocol/mod.ts';
import { KafkaError } from '../../protocol/kafka-error.ts';
import { type ClusterMetadata, CoordinatorType } from '../cluster-metadata.ts';
import { throwIfError } from '../error-from-code.ts';
import { decodeAssignment, decodeMemberAssignment, decodeSubscription } from '../consumer/consumer-protocol.ts';
import { type TopicPartition, tpKey } from '../consumer/consumer-types.ts';
import { listOffset } from '../consumer/fetcher.ts';
import { commitOffsets, fetchCommittedOffsets } from '../consumer/offset-committer.ts';

export interface GroupListing {
  groupId: string;
  protocolType: string;
  /** Empty when the broker's ListGroups version predates states (v4). */
  groupState: string;
}

export interface GroupMemberDescription {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  /** Decoded for `consumer` groups; empty when the member's metadata is not the consumer protocol. */
  subscribedTopics: string[];
  assignment: TopicPartition[];
  /** The assignor's own bytes in the member's subscription and in its assignment, with `{ userData: true }` (consumer groups; null when absent or undecodable). */
  subscriptionUserData?: Uint8Array | null;
  assignmentUserData?: Uint8Array | null;
}

export interface GroupDescription {
  groupId: string;
  groupState: string;
  protocolType: string;
  /** The assignor the group chose ("range", ...). */
  protocol: string;
  members: GroupMemberDescription[];
}

export interface PartitionLag extends TopicPartition {
  /** -1 when the group has no committed offset for the partition. */
  committedOffset: number;
  highWatermark: number;
  /** highWatermark - committedOffset; the whole log (highWatermark - logStartOffset) when nothing is committed. */
  lag: number;
}

/** Where `resetGroupOffsets` moves a group: log start, log end, first offset at a time, or given offsets. */
export type OffsetResetSpec =
  | { to: 'earliest' }
  | { to: 'latest' }
  | { to: 'timestamp'; timestampMs: number }
  | { to: 'offsets'; offsets: readonly (TopicPartition & { offset: number })[] };

async function coordinatorOf(metadata: ClusterMetadata, groupId: string): Promise<number> {
  return metadata.coordinator(CoordinatorType.group, groupId);
}

export async function listGroups(metadata: ClusterMetadata): Promise<GroupListing[]> {
  const transport = metadata.transport;
  const result: GroupListing[] = [];
  for (const node of transport.brokers()) {
    const nodeId = node.nodeId < 0 ? undefined : node.nodeId;
    const version = await transport.apiVersion(ApiKey.ListGroups, nodeId);
    const response = await transport.send(ApiKey.ListGroups, version, { statesFilter: [], typesFilter: [] }, { nodeId });
    throwIfError(response.errorCode, 'ListGroups');
    for (const g of response.groups) result.push({ groupId: g.groupId, protocolType: g.protocolType, groupState: g.groupState });
  }
  return result.sort((a, b) => (a.groupId < b.groupId ? -1 : 1));
}

function safely<T>(decode: () => T, fallback: T): T {
  try {
    return decode();
  } catch {
    return fallback;
  }
}

export async function describeGroups(metadata: ClusterMetadata, groupIds: readonly string[], options: { userData?: boolean } = {}): Promise<GroupDescription[]> {
  const transport = metadata.transport;
  return Promise.all(
    groupIds.map(async (groupId) => {
      const nodeId = await coordinatorOf(metadata, groupId);
      const version = await transport.apiVersion(ApiKey.DescribeGroups, nodeId);
      const response = await transport.send(ApiKey.DescribeGroups, version, { groups: [groupId], includeAuthorizedOperations: false }, { nodeId });
      const g = response.groups[0];
      if (g === undefined) throw new KafkaError('UNKNOWN_SERVER_ERROR', `DescribeGroups returned nothing for ${groupId}`);
      throwIfError(g.errorCode, `describe group ${groupId}`);
      const consumer = g.protocolType === 'consumer';
      return {
        groupId,
        groupState: g.groupState,
        protocolType: g.protocolType,
        protocol: g.protocolData,
        members: g.members.map((m) => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          subscribedTopics: consumer ? safely(() => decodeSubscription(m.memberMetadata).topics, []) : [],
          assignment: consumer ? safely(() => decodeAssignment(m.memberAssignment), []) : [],
          ...(options.userData === true
            ? {
                subscriptionUserData: consumer ? safely(() => decodeSubscription(m.memberMetadata).userData, null) : null,
                assignmentUserData: consumer ? safely(() => decodeMemberAssignment(m.memberAssignment).userData, null) : null,
              }
            : {}),
        })),
      };
    }),
  );
}

/** Committed offset, high watermark and lag of every partition the group has committed (or of `topics`' partitions). */
export async function groupLag(metadata: ClusterMetadata, groupId: string, topics?: readonly string[]): Promise<PartitionLag[]> {
  let partitions: TopicPartition[] | null = null;
  if (topics !== undefined) {
    partitions = [];
    for (const topic of topics) {
      const t = await metadata.topic(topic);
      for (let partition = 0; partition < t.leaders.length; partition++) partitions.push({ topic, partition });
    }
  }
  const committed = await fetchCommittedOffsets(metadata, groupId, partitions);
  const list = partitions ?? [...committed.values()].map((c) => ({ topic: c.topic, partition: c.partition }));
  const lags = await Promise.all(
    list.map(async (tp) => {
      const committedOffset = committed.get(tpKey(tp.topic, tp.partition))?.offset ?? -1;
      const highWatermark = await listOffset(metadata, tp.topic, tp.partition, -1, 0);
      const from = committedOffset >= 0 ? committedOffset : await listOffset(metadata, tp.topic, tp.partition, -2, 0);
      return { topic: tp.topic, partition: tp.partition, committedOffset, highWatermark, lag: Math.max(0, highWatermark - from) };
    }),
  );
  return lags.sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
}

/**
 * Commits new offsets for a group with no active members (generation -1, no member id: the
 * coordinator accepts it only for an empty group and answers UNKNOWN_MEMBER_ID otherwise, which
 * is surfaced). Returns the offsets written.
 */
export async function resetGroupOffsets(
  metadata: ClusterMetadata,
  groupId: string,
  topic: string,
  spec: OffsetResetSpec,
): Promise<(TopicPartition & { offset: number })[]> {
  let offsets: (TopicPartition & { offset: number })[];
  if (spec.to === 'offsets') {
    offsets = spec.offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset }));
  } else {
    const t = await metadata.topic(topic);
    offsets = await Promise.all(
      t.leaders.map(async (_leader, partition) => {
        const at = spec.to === 'earliest' ? -2 : spec.to === 'latest' ? -1 : spec.timestampMs;
        let offset = await listOffset(metadata, topic, partition, at, 0);
        // No record at or after the time: the end of the partition.
        if (offset < 0) offset = await listOffset(metadata, topic, partition, -1, 0);
        return { topic, partition, offset };
      }),
    );
  }
  await commitOffsets(metadata, { groupId, generationId: -1, memberId: '', groupInstanceId: null }, offsets);
  return offsets;
}

/** Deletes groups (with their committed offsets); a group with members fails with NON_EMPTY_GROUP. */
export async function deleteGroups(metadata: ClusterMetadata, groupIds: readonly string[]): Promise<void> {
  const transport = metadata.transport;
  for (const groupId of groupIds) {
    const nodeId = await coordinatorOf(metadata, groupId);
    const version = await transport.apiVersion(ApiKey.DeleteGroups, nodeId);
    const response = await transport.send(ApiKey.DeleteGroups, version, { groupsNames: [groupId] }, { nodeId });
    for (const r of response.results) throwIfError(r.errorCode, `delete group ${r.groupId}`);
  }
}

/**
 * Removes a group's committed offsets for some partitions (Kafka's OffsetDelete). The coordinator
 * refuses (GROUP_SUBSCRIBED_TO_TOPIC) for topics the group's members consume; a partition without
 * a committed offset is no error.
 */
export async function deleteGroupOffsets(metadata: ClusterMetadata, groupId: string, partitions: readonly TopicPartition[]): Promise<void> {
  if (partitions.length === 0) return;
  const transport = metadata.transport;
  const topics = new Map<string, number[]>();
  for (const p of partitions) topics.set(p.topic, [...(topics.get(p.topic) ?? []), p.partition]);
  const nodeId = await coordinatorOf(metadata, groupId);
  const version = await transport.apiVersion(ApiKey.OffsetDelete, nodeId);
  const response = await transport.send(
    ApiKey.OffsetDelete,
    version,
    { groupId, topics: [...topics].map(([name, list]) => ({ name, partitions: list.map((partitionIndex) => ({ partitionIndex })) })) },
    { nodeId },
  );
  throwIfError(response.errorCode, `delete offsets of group ${groupId}`);
  for (const t of response.topics) for (const p of t.partitions) throwIfError(p.errorCode, `delete offset of ${t.name}-${p.partitionIndex} in group ${groupId}`);
}
