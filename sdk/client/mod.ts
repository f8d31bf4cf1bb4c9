export * from './producer/mod.ts';
export * from './consumer/mod.ts';
export * from './admin/mod.ts';
export { ClusterMetadata, CoordinatorType, type CoordinatorTypeValue, type TopicMetadata } from './cluster-metadata.ts';
export * from './share-consumer/mod.ts';
export * from './txn-check/mod.ts';
