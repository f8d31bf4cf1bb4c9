import type { Serde } from '../../serde/serde.ts';
import type { BackoffOptions } from '../../transport/backoff.ts';
import type { AutoOffsetReset } from './consumer-types.ts';

export interface ConsumerOptions<K, V> {
  keySerde?: Serde<K>;
  valueSerde?: Serde<V>;
  /** 'read_committed' by default: only committed transactional data, never aborted data. */
  isolationLevel?: 'read_committed' | 'read_uncommitted';
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
}
