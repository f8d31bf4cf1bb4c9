/** Why a streams application refused to start or stopped. */
export const StreamsErrorCode = {
  /** A configuration value is out of range or malformed. */
  invalidConfig: 'INVALID_CONFIG',
  /** An internal topic exists with the wrong partition count or configs, or a source topic is missing. */
  topicMismatch: 'TOPIC_MISMATCH',
  /** Another process holds the state directory. */
  stateDirLocked: 'STATE_DIR_LOCKED',
  /** A record failed and the failure policy says stop. */
  recordFailed: 'RECORD_FAILED',
  /** The broker or the group failed in a way the runtime cannot recover from. */
  fatal: 'FATAL',
  /** A `suppress(...)` buffer set to `shutDownWhenFull()` outgrew its bounds. */
  suppressionBufferFull: 'SUPPRESSION_BUFFER_FULL',
  /** An interactive query named a store the topology does not make queryable. */
  unknownStateStore: 'UNKNOWN_STATE_STORE',
  /** An interactive query asked a store for what its kind does not hold (a window fetch of a key-value store). */
  wrongStoreType: 'WRONG_STORE_TYPE',
  /** The store cannot answer now: the application is rebalancing or starting, or the task holding the key restores. Retry. */
  storeUnavailable: 'STORE_UNAVAILABLE',
  /** The key (or its partition) belongs to another instance: `queryMetadataForKey` names it. */
  keyNotLocal: 'KEY_NOT_LOCAL',
  /** An interactive query's key or bounds cannot be read with the store's serdes, or a bound is out of range. */
  invalidQuery: 'INVALID_QUERY',
  /** A reset (streams/ops/application-reset.ts) found the application's group with active members. */
  applicationActive: 'APPLICATION_ACTIVE',
  /** An operation named an application with no consumer group, committed offsets or internal topics. */
  unknownApplication: 'UNKNOWN_APPLICATION',
} as const;
export type StreamsErrorCodeValue = (typeof StreamsErrorCode)[keyof typeof StreamsErrorCode];

export class StreamsError extends Error {
  override readonly name = 'StreamsError';

  constructor(
    readonly code: StreamsErrorCodeValue,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
