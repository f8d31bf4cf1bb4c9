import type { TopicPartition } from './consumer-types.ts';

/**
 * Called by a subscribed consumer as its assignment changes. Revoked partitions were given up in an
 * orderly rebalance (their positions can still be committed); lost partitions were taken away
 * because the member fell out of the group, so another member may already own them.
 */
export interface RebalanceListener {
  onPartitionsAssigned?(partitions: TopicPartition[]): void | Promise<void>;
  onPartitionsRevoked?(partitions: TopicPartition[]): void | Promise<void>;
  onPartitionsLost?(partitions: TopicPartition[]): void | Promise<void>;
}
