import type { Serde } from '../../sdk/serde/serde.ts';

/**
 * A global store (Kafka Streams' global state store): the latest value per key of every partition
 * of `topic`, kept whole by every process of the application. The topic is its changelog: there is
 * no other changelog topic, and the store is rebuilt by reading the topic.
 */
export interface GlobalStoreSpec {
  readonly name: string;
  readonly topic: string;
  readonly keySerde: Serde<unknown>;
  readonly valueSerde: Serde<unknown>;
}
