import { isTextSerde } from '../../sdk/serde/serde.ts';
import type { Processor } from '../topology/processor.ts';
import type { StreamRecord } from '../topology/stream-record.ts';
import type { SinkNode, TopicRef } from '../topology/topology-nodes.ts';
import { Job } from './job.ts';
import type { RecordCollector } from './record-collector.ts';

/**
 * The key's bytes: the input record's own when the key is the input's (a primitive, so equal means
 * unchanged; an object could have been changed in place) and the serde is the input's; else serialized.
 */
function keyBytes(node: SinkNode, record: StreamRecord<unknown, unknown>): Uint8Array | null {
  const key = record.key;
  if (key === null || key === undefined) return null;
  const origin = record.metadata;
  if (typeof key !== 'object' && origin instanceof Job && origin.keySerde === node.keySerde && origin.key === key) return origin.rawKey;
  return node.keySerde.serialize(key);
}

/** Serializes records and hands them to the collector, to a fixed topic or one chosen per record. */
export function sinkProcessor(node: SinkNode, collector: RecordCollector, topicName: (ref: TopicRef) => string): Processor<unknown, unknown> {
  const fixedTopic = typeof node.topic === 'function' ? undefined : topicName(node.topic);
  const valueSerde = node.valueSerde;
  // Text goes to the producer as text: it is encoded once, into the batch.
  const wireValue = isTextSerde(valueSerde) ? (value: unknown) => valueSerde.toText(value) : (value: unknown) => valueSerde.serialize(value);
  return {
    process(record: StreamRecord<unknown, unknown>): void {
      const topic = fixedTopic ?? (node.topic as (r: StreamRecord<unknown, unknown>) => string)(record);
      let partition: number | undefined;
      if (node.partitioner !== undefined) {
        const count = collector.partitionCount(topic);
        if (count === undefined) throw new Error(`sink "${node.name}" has a partitioner but the partition count of "${topic}" is unknown`);
        partition = node.partitioner(record, count);
        if (partition !== undefined && (!Number.isInteger(partition) || partition < 0 || partition >= count)) {
          throw new Error(`sink "${node.name}": the partitioner chose partition ${partition} of "${topic}", which has ${count}`);
        }
      }
      collector.send({
        topic,
        partition,
        key: keyBytes(node, record),
        value: record.value === null || record.value === undefined ? null : wireValue(record.value),
        timestamp: record.timestamp,
        headers: record.headers,
      });
    },
  };
}
