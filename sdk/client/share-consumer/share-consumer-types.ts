import type { Serde } from '../../serde/serde.ts';
import type { ConsumerRecord } from '../consumer/consumer-types.ts';
import type { KafkaError } from '../../protocol/kafka-error.ts';

export interface ShareConsumerOptions<K, V> {
  /** The share group to join (KIP-932). */
  groupId: string;
  /** Topics to consume; the broker assigns their partitions, shared with the group's other members. */
  topics: readonly string[];
  keySerde?: Serde<K>;
  valueSerde?: Serde<V>;
  /**
   * 'implicit' (the default): a record the loop body did not acknowledge is accepted when the
   * iterator moves on to the next one. 'explicit': it stays acquired until its lock expires and
   * the broker delivers it again.
   */
  acknowledgementMode?: 'implicit' | 'explicit';
  /** Long-poll time of each ShareFetch; 500 ms by default. */
  maxWaitMs?: number;
  maxBytes?: number;
  maxPartitionBytes?: number;
  requestTimeoutMs?: number;
  /** Called for each partition whose acknowledgements the broker refused (INVALID_RECORD_STATE after a lock expired, say). */
  onAcknowledgementError?: (topic: string, partition: number, error: KafkaError) => void;
}

/** A record from a share group, acquired by this consumer under a lock until acknowledged. */
export interface ShareRecord<K, V> extends ConsumerRecord<K, V> {
  /** How many times the broker has handed this record out, this time included. */
  deliveryCount: number;
  /** Processed: never delivered again. */
  accept(): void;
  /** Not processed: delivered again (to any member), unless the delivery limit is reached. */
  release(): void;
  /** Unprocessable: moved to the group's dead-letter topic, never delivered again. */
  reject(): void;
  /** Whether accept, release or reject was called. */
  readonly acknowledged: boolean;
}
