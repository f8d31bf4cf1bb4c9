export { Consumer } from './consumer.ts';
export type { ConsumerOptions } from './consumer-options.ts';
export {
  type AutoOffsetReset,
  type ConsumerBatch,
  type ConsumerRecord,
  IsolationLevel,
  type IsolationLevelValue,
  type TopicPartition,
} from './consumer-types.ts';
