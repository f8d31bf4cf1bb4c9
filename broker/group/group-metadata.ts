import { type ClassicGroup, type GroupMember } from './classic-group.ts';
import type { GroupMetadataValue } from './group-metadata-record.ts';
import { GroupState } from './group-state.ts';

/** The group's metadata record as the group stands: generation, members and their assignments. */
export function groupMetadataOf(group: ClassicGroup): GroupMetadataValue {
  return {
    protocolType: group.protocolType,
    generationId: group.generationId,
    protocolName: group.protocolName,
    leaderId: group.leaderId,
    currentStateTimestampMs: group.stateSinceMs,
    members: [...group.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      rebalanceTimeoutMs: m.rebalanceTimeoutMs,
      sessionTimeoutMs: m.sessionTimeoutMs,
      protocols: [...m.protocols],
      assignment: m.assignment,
    })),
  };
}

/**
 * Gives a group rebuilt from `__consumer_offsets` its stored metadata. Loading is not a transition:
 * as in Kafka, a group stored with members comes back Stable in its generation, one stored without
 * comes back Empty. Returns the restored members, whose sessions the caller starts.
 */
export function restoreGroup(group: ClassicGroup, value: GroupMetadataValue): GroupMember[] {
  if (!group.is(GroupState.Empty) || group.members.size > 0 || group.generationId !== 0) {
    throw new Error(`invariant: group "${group.groupId}" is restored once, into a fresh group`);
  }
  group.protocolType = value.protocolType;
  group.generationId = value.generationId;
  group.protocolName = value.protocolName;
  group.leaderId = value.leaderId;
  group.stateSinceMs = value.currentStateTimestampMs;
  for (const m of value.members) {
    group.members.set(m.memberId, {
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      sessionTimeoutMs: m.sessionTimeoutMs,
      rebalanceTimeoutMs: m.rebalanceTimeoutMs,
      protocolType: value.protocolType ?? '',
      protocols: m.protocols,
      assignment: m.assignment,
      joinWaiter: undefined,
      syncWaiter: undefined,
      cancelSession: undefined,
    });
    if (m.groupInstanceId !== null) group.staticMembers.set(m.groupInstanceId, m.memberId);
  }
  if (group.members.size > 0) {
    if (value.leaderId === null || !group.members.has(value.leaderId)) {
      throw new Error(`invariant: stored group "${group.groupId}" has members but its leader ${value.leaderId} is not one`);
    }
    group.state = GroupState.Stable;
  }
  return [...group.members.values()];
}
