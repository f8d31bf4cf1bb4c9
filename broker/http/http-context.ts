import type { Broker } from '../broker.ts';
import type { KafkaPrincipal } from '../security/kafka-principal.ts';
import type { Principal } from './http-auth.ts';
import type { HttpMetrics } from './http-metrics.ts';
import type { HttpApiOptions } from './http-options.ts';
import type { IdempotencyStore } from './idempotency-store.ts';
import type { ProducerPool } from './producer-pool.ts';
import type { RateLimiter } from './rate-limiter.ts';
import type { SchemaRegistry } from './schema-registry.ts';

/** What every route handler shares. */
export interface HttpContext {
  readonly broker: Broker;
  readonly options: HttpApiOptions;
  readonly schemas: SchemaRegistry;
  readonly idempotency: IdempotencyStore;
  /** Producer ids for requests with an Idempotency-Key. */
  readonly producers: ProducerPool;
  readonly metrics: HttpMetrics;
  readonly topicLimiter: RateLimiter | undefined;
  /** Closers of the live tails open now, bounded by `options.maxStreams`; shutdown ends them all. */
  readonly streams: Set<() => void>;
}

/**
 * Hono environment: `remoteAddress` and `certificatePrincipal` (a verified TLS client certificate's
 * `User:<subject DN>`) come from the server adapter, `principal` from authentication.
 */
export interface HttpEnv {
  Bindings: { remoteAddress?: string; certificatePrincipal?: KafkaPrincipal };
  Variables: { principal: Principal };
}
