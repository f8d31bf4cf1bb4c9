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
  /** What the member's assignor put in its subscription (`subscriptionUserData`), null when nothing. */
  userData: Uint8Array | null;
}

/** One member's share of an assignment, with bytes for that member's assignor (`onAssignment`). */
export interface MemberAssignment {
  partitions: TopicPartition[];
  userData: Uint8Array | null;
}

/**
 * `eager`: every member gives up all its partitions before each rebalance. `cooperative` (KIP-429):
 * members keep their partitions across a rebalance and revoke only those the new assignment moves,
 * which then reach their new owner in a follow-up rebalance.
 */
export type RebalanceProtocol = 'eager' | 'cooperative';

/**
 * A partition assignor run by the group leader: member id → assigned partitions, or partitions
 * with bytes for that member (`A`).
 */
export interface Assignor<A extends TopicPartition[] | MemberAssignment = TopicPartition[] | MemberAssignment> {
  /** The protocol name sent in JoinGroup ("range", "roundrobin", "cooperative-sticky"), as Kafka names it. */
  readonly name: string;
  readonly protocol: RebalanceProtocol;
  assign(members: readonly MemberSubscription[], partitionCounts: ReadonlyMap<string, number>): Map<string, A>;
  /** Bytes this member sends with its subscription (Kafka's subscription userData), for the leader's `assign`. */
  subscriptionUserData?(): Uint8Array | null;
  /** Called on every member with the assignment it received, before its new partitions are handed over. */
  onAssignment?(assignment: MemberAssignment, generationId: number): void;
}

/** Members by the order Kafka's assignors use: member id, so every leader computes the same result. */
export function sortedMembers(members: readonly MemberSubscription[]): MemberSubscription[] {
  return [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
}

/** An empty assignment entry for every member. */
export function emptyAssignment(members: readonly MemberSubscription[]): Map<string, TopicPartition[]> {
  return new Map(members.map((m) => [m.memberId, []]));
}
