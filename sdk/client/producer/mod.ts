export { Producer, type Transaction } from './producer.ts';
export type { PartitionEndOffsets } from './producer-batch.ts';
export type { ProducerOptions } from './producer-options.ts';
export {
  Acks,
  type AcksValue,
  type ConsumerGroupMetadata,
  type HeaderInput,
  type OffsetToCommit,
  type ProducerRecord,
  type RecordMetadata,
} from './producer-types.ts';
export { jumpConsistentHash, jumpHashPartitioner, murmur2, murmur2Partitioner, type Partitioner } from './partitioner.ts';
