export * from './record/mod.ts';
export { ErrorCode, errorName, isRetriable, type ErrorName, type ErrorCodeValue } from './protocol/error-codes.ts';
export { KafkaError, isKafkaError } from './protocol/kafka-error.ts';
