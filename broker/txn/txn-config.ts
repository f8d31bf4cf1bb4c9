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
  /** `transaction.check.max.attempts` (Rill's): checks of a transaction before the coordinator gives up and aborts it. */
  checkMaxAttempts: number;
  /** `transaction.check.interval.ms` (Rill's): how long each check waits for a decisive answer before the next one. */
  checkIntervalMs: number;
}

export const defaultTxnConfig: Readonly<TxnConfig> = Object.freeze({
  maxTimeoutMs: 15 * 60 * 1000,
  transactionalIdExpirationMs: 24 * 60 * 60 * 1000,
  producerIdExpirationMs: 24 * 60 * 60 * 1000,
  abortTimedOutIntervalMs: 1000,
  producerIdExpirationCheckIntervalMs: 10 * 60 * 1000,
  maxTransactionalIds: 100_000,
  maxPartitionsPerTxn: 10_000,
  checkMaxAttempts: 5,
  checkIntervalMs: 5_000,
});
