import type { CompressionName } from '../../record/compression.ts';
import type { Serde } from '../../serde/serde.ts';
import type { BackoffOptions } from '../../transport/backoff.ts';
import type { Partitioner } from './partitioner.ts';

export interface ProducerOptions<K, V> {
  keySerde?: Serde<K>;
  valueSerde?: Serde<V>;
  /** 'all' (-1, the default), 1 (leader) or 0 (no answer). */
  acks?: 'all' | -1 | 0 | 1;
  /**
   * On by default: the broker deduplicates retried batches and keeps their order (needs acks=all).
   * Against a broker without InitProducerId, sends fail until you pass `idempotent: false`.
   */
  idempotent?: boolean;
  /** Makes the producer transactional (implies idempotence). */
  transactionalId?: string;
  transactionTimeoutMs?: number;
  /** How long a batch waits for more records before it is sent. 0: sent once the current task yields. */
  lingerMs?: number;
  batchSizeBytes?: number;
  /** Bound on buffered record bytes; `send` waits for room once it is reached. */
  bufferMemoryBytes?: number;
  /** Codec for each batch: 'none' (the default), 'gzip', 'snappy', 'lz4' or 'zstd', framed as the Java client frames them. */
  compression?: CompressionName;
  partitioner?: Partitioner;
  retries?: number;
  retryBackoff?: BackoffOptions;
  requestTimeoutMs?: number;
  deliveryTimeoutMs?: number;
  /** Up to 5 when idempotent (the broker remembers 5 batches per partition). */
  maxInFlightPerPartition?: number;
  maxInFlightRequests?: number;
  /** Bound on distinct partitions with buffered batches. */
  maxPartitions?: number;
  /** Allow Metadata to create missing topics (when the broker allows it). */
  allowAutoTopicCreation?: boolean;
}
