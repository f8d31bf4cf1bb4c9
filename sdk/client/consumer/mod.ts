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
export type { RebalanceListener } from './rebalance-listener.ts';
export { type Assignor, cooperativeStickyAssignor, type MemberSubscription, rangeAssignor, type RebalanceProtocol, roundRobinAssignor } from './assignors/mod.ts';
