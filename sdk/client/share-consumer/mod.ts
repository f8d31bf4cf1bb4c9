export { ShareConsumer } from './share-consumer.ts';
export type { ShareConsumerOptions, ShareRecord } from './share-consumer-types.ts';
export { AcknowledgeType, type AcknowledgeTypeValue } from '../../protocol/acknowledge-type.ts';
