export * from './record/mod.ts';
export { ErrorCode, errorName, isRetriable, type ErrorName, type ErrorCodeValue } from './protocol/error-codes.ts';
export { KafkaError, isKafkaError } from './protocol/kafka-error.ts';
export * from './transport/mod.ts';
export * from './client/mod.ts';
export * from './serde/mod.ts';
