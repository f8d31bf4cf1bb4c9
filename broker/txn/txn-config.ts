/** Transaction coordinator settings, Kafka's names in comments. */
export interface TxnConfig {
  /** `transaction.max.timeout.ms`: the longest transaction timeout a producer may ask for. */
  maxTimeoutMs: number;
  /** `transactional.id.expiration.ms`: an idle transactional id without an open transaction is forgotten. */
  transactionalIdExpirationMs: number;
  /** `producer.id.expiration.ms`: partitions forget idle producers without an open transaction. */
  producerIdExpirationMs: number;
  /** `transaction.abort.timed.out.transaction.cleanup.interval.ms`: how often timeouts are checked. */
  abortTimedOutIntervalMs: number;
  /** `producer.id.expiration.check.interval.ms`. */
  producerIdExpirationCheckIntervalMs: number;
  /** Transactional ids held at once; InitProducerId for a new id beyond it is refused. */
  maxTransactionalIds: number;
  /** Partitions plus groups one transaction may span. */
  maxPartitionsPerTxn: number;
}

export const defaultTxnConfig: Readonly<TxnConfig> = Object.freeze({
  maxTimeoutMs: 15 * 60 * 1000,
  transactionalIdExpirationMs: 24 * 60 * 60 * 1000,
  producerIdExpirationMs: 24 * 60 * 60 * 1000,
  abortTimedOutIntervalMs: 1000,
  producerIdExpirationCheckIntervalMs: 10 * 60 * 1000,
  maxTransactionalIds: 100_000,
  maxPartitionsPerTxn: 10_000,
});
