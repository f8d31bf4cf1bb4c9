import type { TopicPartition } from '../consumer-types.ts';

/** One member's JoinGroup subscription as the group leader sees it. */
export interface MemberSubscription {
  memberId: string;
  groupInstanceId: string | null;
  topics: readonly string[];
  /** Partitions the member holds now (cooperative protocol; empty under eager, which revokes before joining). */
  ownedPartitions: readonly TopicPartition[];
  /** The generation `ownedPartitions` were assigned in (-1 when unknown). */
  generationId: number;
}

/**
 * `eager`: every member gives up all its partitions before each rebalance. `cooperative` (KIP-429):
 * members keep their partitions across a rebalance and revoke only those the new assignment moves,
 * which then reach their new owner in a follow-up rebalance.
 */
export type RebalanceProtocol = 'eager' | 'cooperative';

/** A partition assignor run by the group leader: member id → assigned partitions. */
export interface Assignor {
  /** The protocol name sent in JoinGroup ("range", "roundrobin", "cooperative-sticky"), as Kafka names it. */
  readonly name: string;
  readonly protocol: RebalanceProtocol;
  assign(members: readonly MemberSubscription[], partitionCounts: ReadonlyMap<string, number>): Map<string, TopicPartition[]>;
}

/** Members by the order Kafka's assignors use: member id, so every leader computes the same result. */
export function sortedMembers(members: readonly MemberSubscription[]): MemberSubscription[] {
  return [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
}

/** An empty assignment entry for every member. */
export function emptyAssignment(members: readonly MemberSubscription[]): Map<string, TopicPartition[]> {
  return new Map(members.map((m) => [m.memberId, []]));
}
