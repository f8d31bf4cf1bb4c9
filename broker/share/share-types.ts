import type { AcknowledgementBatch, AcquiredRange } from './share-partition.ts';

/** The share coordinator's requests and answers, in domain types (numbers, not the wire's bigints). */
export interface ShareHeartbeatOutput {
  errorCode: number;
  errorMessage: string | null;
  memberId: string | null;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  /** Partitions by topic id; null when unchanged. */
  assignment: { topicId: string; partitions: number[] }[] | null;
}

export interface ShareGroupDescription {
  errorCode: number;
  errorMessage: string | null;
  groupId: string;
  /** Kafka's share group states: Empty (state, no members), Stable, Dead (unknown). */
  groupState: 'Empty' | 'Stable' | 'Dead';
  groupEpoch: number;
  members: {
    memberId: string;
    rackId: string | null;
    memberEpoch: number;
    clientId: string;
    clientHost: string;
    subscribedTopicNames: string[];
    assignment: { topicId: string; topicName: string; partitions: number[] }[];
  }[];
}

export interface SharePartitionRequest {
  topicId: string;
  partition: number;
  partitionMaxBytes: number;
  acknowledgementBatches: readonly AcknowledgementBatch[];
}

export interface ShareFetchInput {
  groupId: string | null;
  memberId: string | null;
  shareSessionEpoch: number;
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  partitions: readonly SharePartitionRequest[];
  forgotten: readonly { topicId: string; partition: number }[];
  /**
   * Records to acquire over all partitions at most (ShareFetch v1's MaxRecords; v0 has none, so
   * the group's `maxRecordsPerFetch` per partition bounds it alone). The HTTP fetch sets it.
   */
  maxRecords?: number;
  /**
   * Not on the wire. Where a share partition this fetch initializes starts when the group's
   * `share.auto.offset.reset` is latest: at the first record at or after this time (the high
   * watermark when none is), rather than the high watermark. An MQTT shared subscription passes
   * the time it was made, so the messages published after it reach the group, also on a topic
   * created after it (whose partitions the group first fetches once messages are in them).
   */
  startAtMs?: number;
}

export interface SharePartitionResult {
  topicId: string;
  partition: number;
  errorCode: number;
  errorMessage: string | null;
  acknowledgeErrorCode: number;
  acknowledgeErrorMessage: string | null;
  records: Uint8Array | null;
  acquiredRecords: AcquiredRange[];
}

export interface ShareFetchOutput {
  errorCode: number;
  errorMessage: string | null;
  partitions: SharePartitionResult[];
}

export interface ShareAcknowledgeInput {
  groupId: string | null;
  memberId: string | null;
  shareSessionEpoch: number;
  partitions: readonly { topicId: string; partition: number; acknowledgementBatches: readonly AcknowledgementBatch[] }[];
}
