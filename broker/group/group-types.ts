import type { GroupStateValue } from './group-state.ts';

/**
 * Inputs and results of the coordinator's group operations. They mirror the Kafka requests and
 * responses without version details; error codes are Kafka's (`ErrorCode`).
 */
export interface ProtocolMetadata {
  name: string;
  metadata: Uint8Array;
}

/** What a member states about itself when it joins, and the group keeps. */
export interface MemberSettings {
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: readonly ProtocolMetadata[];
}

export interface JoinGroupInput extends MemberSettings {
  groupId: string;
  /** Empty on a member's first join. */
  memberId: string;
  /** JoinGroup v4+: a dynamic member's first join gets MEMBER_ID_REQUIRED and its id, and must rejoin with it. */
  requireKnownMemberId: boolean;
}

export interface JoinGroupMember {
  memberId: string;
  groupInstanceId: string | null;
  metadata: Uint8Array;
}

export interface JoinGroupResult {
  errorCode: number;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  memberId: string;
  /** The members and their metadata for the chosen protocol; only the leader gets them. */
  members: JoinGroupMember[];
}

export interface SyncGroupInput {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  /** SyncGroup v5+ only; null when not sent. */
  protocolType: string | null;
  protocolName: string | null;
  assignments: readonly { memberId: string; assignment: Uint8Array }[];
}

export interface SyncGroupResult {
  errorCode: number;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Uint8Array;
}

export interface HeartbeatInput {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
}

export interface MemberIdentity {
  memberId: string;
  groupInstanceId: string | null;
}

export interface LeaveGroupResult {
  errorCode: number;
  members: (MemberIdentity & { errorCode: number })[];
}

export interface TopicPartitions {
  name: string;
  partitionIndexes: readonly number[];
}

export interface OffsetCommitInput {
  groupId: string;
  /** -1 for a commit from outside the group protocol (a standalone consumer or admin). */
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  /** OffsetCommit v2-v4's retention_time_ms; -1 means the broker's retention. */
  retentionTimeMs: number;
  topics: readonly {
    name: string;
    partitions: readonly { partitionIndex: number; committedOffset: number; committedMetadata: string | null }[];
  }[];
}

export interface PartitionError {
  partitionIndex: number;
  errorCode: number;
}

export interface TopicPartitionErrors {
  name: string;
  partitions: PartitionError[];
}

export interface FetchedOffset {
  partitionIndex: number;
  /** -1 when the group has no committed offset for the partition. */
  committedOffset: number;
  metadata: string;
  errorCode: number;
}

export interface OffsetFetchResult {
  errorCode: number;
  topics: { name: string; partitions: FetchedOffset[] }[];
}

export interface OffsetDeleteResult {
  errorCode: number;
  topics: TopicPartitionErrors[];
}

export interface DescribedMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  /** The member's metadata for the chosen protocol, and its assignment; empty unless Stable. */
  memberMetadata: Uint8Array;
  memberAssignment: Uint8Array;
}

export interface DescribedGroup {
  errorCode: number;
  groupId: string;
  groupState: GroupStateValue;
  protocolType: string;
  /** The chosen protocol's name when Stable, else empty (as Kafka reports it). */
  protocolData: string;
  members: DescribedMember[];
}

export interface ListedGroup {
  groupId: string;
  protocolType: string;
  groupState: GroupStateValue;
}

/** Where an admin reset moves a group's offsets for one topic. */
export type OffsetResetTarget =
  | 'earliest'
  | 'latest'
  | { timestamp: number }
  /** Partition → offset; other partitions keep their committed offsets. */
  | { offsets: ReadonlyMap<number, number> };

export interface PartitionLag {
  topic: string;
  partition: number;
  committedOffset: number;
  metadata: string;
  highWatermark: number;
  /** highWatermark - committedOffset, never negative. */
  lag: number;
}

/** One topic's partitions in a member's assignment, ascending. */
export interface AssignedTopic {
  topic: string;
  partitions: number[];
}

export interface GroupMemberDescription {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  /** From the member's ConsumerProtocolSubscription, sorted; null unless a `consumer` group's member sent a readable one. */
  subscribedTopics: string[] | null;
  /** The leader's ConsumerProtocolAssignment for the member, by topic; null when it cannot be shown, with `assignmentError` saying why. */
  assignment: AssignedTopic[] | null;
  assignmentError: string | null;
}

/** A group as the CLI and HTTP API show it: members, and committed offsets with lag. */
export interface GroupDescription {
  groupId: string;
  state: GroupStateValue;
  protocolType: string;
  protocolName: string;
  generationId: number;
  leaderId: string;
  members: GroupMemberDescription[];
  offsets: PartitionLag[];
  totalLag: number;
}
