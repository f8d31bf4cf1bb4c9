import type { Serde } from '../../serde/serde.ts';
import type { BackoffOptions } from '../../transport/backoff.ts';
import type { Assignor } from './assignors/assignor.ts';
import type { AutoOffsetReset } from './consumer-types.ts';

export interface ConsumerOptions<K, V> {
  keySerde?: Serde<K>;
  valueSerde?: Serde<V>;
  /** 'read_committed' by default: only committed transactional data, never aborted data. */
  isolationLevel?: 'read_committed' | 'read_uncommitted';
  /** Where a partition without a committed offset or position starts; 'latest' by default. */
  autoOffsetReset?: AutoOffsetReset;
  /** Long-poll time the broker may hold a fetch waiting for `minBytes`. */
  maxWaitMs?: number;
  minBytes?: number;
  maxBytes?: number;
  maxPartitionBytes?: number;
  /** Bound on fetched and not yet consumed record bytes; fetching pauses above it. */
  maxPrefetchBytes?: number;
  requestTimeoutMs?: number;
  retryBackoff?: BackoffOptions;

  /** The consumer group `subscribe` joins; assign mode needs none. */
  groupId?: string;
  /** Static membership (KIP-345): a restart with the same id within the session timeout keeps the assignment without a rebalance. */
  groupInstanceId?: string;
  /** The coordinator drops a member it has not heard from for this long. */
  sessionTimeoutMs?: number;
  /** How long the coordinator waits for every member to rejoin in a rebalance. */
  rebalanceTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** Offered to the group in order of preference; [range] by default. All cooperative ones give the cooperative protocol. */
  assignors?: readonly Assignor[];
  /** Commit consumed positions every `autoCommitIntervalMs`, before revocation and on close; true by default. */
  enableAutoCommit?: boolean;
  autoCommitIntervalMs?: number;
}
