import { ErrorCode } from '../../sdk/protocol/error-codes.ts';
import { KafkaError } from '../../sdk/protocol/kafka-error.ts';
import { EMPTY_BYTES } from './classic-group.ts';
import type { TopicOffsetsView } from './group-host.ts';
import type { GroupRegistry } from './group-registry.ts';
import { GroupState, parseGroupState } from './group-state.ts';
import { memberAssignment } from './member-assignment.ts';
import type { DescribedGroup, GroupDescription, ListedGroup, PartitionLag } from './group-types.ts';

/** DescribeGroups: an unknown group is reported Dead with no error, as Kafka does before v6. */
export function describeGroups(registry: GroupRegistry, groupIds: readonly string[]): DescribedGroup[] {
  return groupIds.map((groupId) => {
    const group = registry.get(groupId);
    if (group === undefined) {
      const errorCode = groupId === '' ? ErrorCode.INVALID_GROUP_ID : ErrorCode.NONE;
      return { errorCode, groupId, groupState: GroupState.Dead, protocolType: '', protocolData: '', members: [] };
    }
    // Metadata and assignments are only meaningful once the generation is settled.
    const stable = group.is(GroupState.Stable);
    return {
      errorCode: ErrorCode.NONE,
      groupId,
      groupState: group.state,
      protocolType: group.protocolType ?? '',
      protocolData: stable ? (group.protocolName ?? '') : '',
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        memberMetadata: stable ? group.metadataFor(m, group.protocolName) : EMPTY_BYTES,
        memberAssignment: stable ? m.assignment : EMPTY_BYTES,
      })),
    };
  });
}

/** ListGroups, optionally filtered by state names (case-insensitive, ListGroups v4). */
export function listGroups(registry: GroupRegistry, statesFilter: readonly string[] = []): ListedGroup[] {
  const states = new Set(statesFilter.map((s) => parseGroupState(s)));
  return [...registry.values()]
    .filter((g) => statesFilter.length === 0 || states.has(g.state))
    .map((g) => ({ groupId: g.groupId, protocolType: g.protocolType ?? '', groupState: g.state }))
    .sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
}

/** A group with its committed offsets and their lag behind each partition's high watermark. */
export function describeGroupWithLag(registry: GroupRegistry, topics: TopicOffsetsView, groupId: string): GroupDescription {
  const group = registry.get(groupId);
  if (group === undefined) throw new KafkaError('GROUP_ID_NOT_FOUND', `group "${groupId}" does not exist`);
  const offsets: PartitionLag[] = [];
  for (const [topic, partitions] of group.offsets) {
    const described = topics.partitionCount(topic) === undefined ? [] : topics.partitionOffsets(topic);
    for (const [partition, c] of partitions) {
      const highWatermark = described[partition]?.highWatermark ?? -1;
      offsets.push({
        topic,
        partition,
        committedOffset: c.offset,
        metadata: c.metadata,
        highWatermark,
        lag: highWatermark >= 0 ? Math.max(0, highWatermark - c.offset) : 0,
      });
    }
  }
  offsets.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
  return {
    groupId,
    state: group.state,
    protocolType: group.protocolType ?? '',
    protocolName: group.protocolName ?? '',
    generationId: group.generationId,
    leaderId: group.leaderId ?? '',
    members: [...group.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      ...memberAssignment(group, m),
    })),
    offsets,
    totalLag: offsets.reduce((sum, o) => sum + o.lag, 0),
  };
}
