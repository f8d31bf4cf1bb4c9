import type { KafkaTrafficTotals } from '../kafka/kafka-traffic.ts';
import type { TokenConfig } from './http-auth.ts';
import type { RateLimit } from './rate-limiter.ts';

export interface HttpApiOptions {
  /** Largest request body accepted; larger ones get 413. */
  maxBodyBytes: number;
  maxRecordsPerRequest: number;
  /** Upper bound of a read's `limit`. */
  maxReadRecords: number;
  /** How long an Idempotency-Key's result is replayed (default 24 h). */
  idempotencyWindowMs: number;
  idempotencyMaxKeys: number;
  /** Bearer tokens with ACLs; undefined serves every request as an all-powerful anonymous user. */
  tokens: readonly TokenConfig[] | undefined;
  /** Requests per client (bearer token, else remote address); undefined means unlimited. */
  clientLimit: RateLimit | undefined;
  /** Records produced (or read requests) per topic; undefined means unlimited. */
  topicLimit: RateLimit | undefined;
  /** Live tails open at once; more get 503. */
  maxStreams: number;
  /** A live tail with nothing new sends a comment this often, so proxies keep it open. */
  streamHeartbeatMs: number;
  nowMs: () => number;
  /**
   * The wire totals of a Kafka listener running in this process (`KafkaListener.traffic`), which
   * `/metrics` and `/v1/summary` report; undefined leaves them out.
   */
  kafkaTraffic: KafkaTrafficTotals | undefined;
}

export const defaultHttpApiOptions: Readonly<HttpApiOptions> = Object.freeze({
  maxBodyBytes: 8 * 1024 * 1024,
  maxRecordsPerRequest: 10_000,
  maxReadRecords: 10_000,
  idempotencyWindowMs: 24 * 60 * 60 * 1000,
  idempotencyMaxKeys: 1_000_000,
  tokens: undefined,
  clientLimit: undefined,
  topicLimit: undefined,
  maxStreams: 1000,
  streamHeartbeatMs: 15_000,
  nowMs: Date.now,
  kafkaTraffic: undefined,
});
