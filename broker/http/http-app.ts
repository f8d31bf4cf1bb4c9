import { Hono } from 'hono';
import type { Broker } from '../broker.ts';
import { ANONYMOUS, Authenticator } from './http-auth.ts';
import { withKafkaAcls } from '../auth/http-acl-bridge.ts';
import type { HttpContext, HttpEnv } from './http-context.ts';
import { createHttpMetrics } from './http-metrics.ts';
import { defaultHttpApiOptions, type HttpApiOptions } from './http-options.ts';
import { IdempotencyStore } from './idempotency-store.ts';
import { openApiDocument } from './openapi.ts';
import { groupRoutes } from './group-routes.ts';
import { HttpProblem, problemResponse, toHttpProblem } from './problem.ts';
import { ProducerPool } from './producer-pool.ts';
import { RateLimiter } from './rate-limiter.ts';
import { recordRoutes } from './record-routes.ts';
import { requestPrincipal } from './request-principal.ts';
import { SchemaRegistry } from './schema-registry.ts';
import { shareRoutes } from './share-routes.ts';
import { streamsOpsRoutes } from './streams-ops-routes.ts';
import { topicRoutes } from './topic-routes.ts';
import { consoleRoutes, isConsoleAssetPath } from './console-routes.ts';
import { consoleSummaryRoutes } from './console-summary-routes.ts';
import { streamAppsRoutes } from './stream-apps-routes.ts';
import { shareConsoleRoutes } from './share-console-routes.ts';

export interface HttpApp {
  readonly app: Hono<HttpEnv>;
  /** Ends every live tail, so a server closing in front of the app is not held open by them. */
  close(): void;
}

/** Idle idempotent producers kept for reuse; beyond it the broker forgets them after `producer.id.expiration.ms`. */
const MAX_IDLE_PRODUCERS = 256;
/** initProducerId's transaction timeout, which it ignores for a producer without a transactional id. */
const IDLE_PRODUCER_TIMEOUT_MS = 60_000;

const UNAUTHENTICATED_PATHS = new Set(['/metrics', '/healthz', '/readyz', '/v1/openapi.json']);

/**
 * The HTTP API over a broker: one hono app, served on every runtime by `serve.ts`. Opening it
 * creates (or replays) its internal topics: `__http_schemas` and `__http_idempotency`.
 */
export async function createHttpApp(broker: Broker, overrides: Partial<HttpApiOptions> = {}): Promise<HttpApp> {
  const options: HttpApiOptions = { ...defaultHttpApiOptions, ...overrides };
  const ctx: HttpContext = {
    broker,
    options,
    schemas: await SchemaRegistry.open(broker),
    idempotency: await IdempotencyStore.open(broker, { windowMs: options.idempotencyWindowMs, maxKeys: options.idempotencyMaxKeys }, options.nowMs),
    producers: new ProducerPool(() => broker.transactions.initProducerId(null, IDLE_PRODUCER_TIMEOUT_MS), MAX_IDLE_PRODUCERS),
    metrics: createHttpMetrics(broker, options.kafkaTraffic),
    topicLimiter: options.topicLimit === undefined ? undefined : new RateLimiter(options.topicLimit, options.nowMs),
    streams: new Set(),
  };
  const authenticator = options.tokens === undefined ? undefined : new Authenticator(options.tokens);
  const clientLimiter = options.clientLimit === undefined ? undefined : new RateLimiter(options.clientLimit, options.nowMs);
  let open = true;
  ctx.metrics.registry.onCollect(() => {
    ctx.metrics.idempotencyKeys.set({}, ctx.idempotency.size);
    ctx.metrics.idempotencyEvicted.set({}, ctx.idempotency.evictedCount);
  });

  const app = new Hono<HttpEnv>();
  app.onError((error) => problemResponse(toHttpProblem(error)));
  app.notFound((c) => problemResponse(new HttpProblem('notFound', `no route for ${c.req.method} ${c.req.path}`)));

  app.use(async (c, next) => {
    const startMs = performance.now();
    try {
      if (!UNAUTHENTICATED_PATHS.has(c.req.path) && !isConsoleAssetPath(c.req.path)) {
        const principal = requestPrincipal(authenticator, c.req.header('authorization'), c.env?.certificatePrincipal);
        const authorizer = ctx.broker.authorizer;
        c.set('principal', authorizer === undefined ? principal : withKafkaAcls(principal, ANONYMOUS, authorizer, c.env?.remoteAddress));
        if (clientLimiter !== undefined) {
          const client = authenticator === undefined ? `addr:${c.env?.remoteAddress ?? 'unknown'}` : `token:${principal.name}`;
          clientLimiter.take(client, 1, `client ${client}`);
        }
      }
      await next();
    } finally {
      const route = c.req.routePath === '/*' ? 'unmatched' : c.req.routePath;
      ctx.metrics.requests.inc({ method: c.req.method, route, status: String(c.res.status) });
      ctx.metrics.requestSeconds.observe({ route }, (performance.now() - startMs) / 1000);
    }
  });

  recordRoutes(app, ctx);
  topicRoutes(app, ctx);
  groupRoutes(app, ctx);
  streamsOpsRoutes(app, ctx);
  shareRoutes(app, ctx);
  consoleSummaryRoutes(app, ctx);
  streamAppsRoutes(app, ctx);
  shareConsoleRoutes(app, ctx);
  consoleRoutes(app);

  app.get('/metrics', () => new Response(ctx.metrics.registry.render(), { headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' } }));
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', (c) => {
    const offline = broker.listTopics({ includeInternal: true }).flatMap((t) =>
      broker.describeTopic(t).partitions.filter((p) => p.offline).map((p) => `${t}-${p.partition}`),
    );
    if (!open) throw new HttpProblem('unavailable', 'the server is shutting down');
    if (offline.length > 0) throw new HttpProblem('unavailable', `partitions offline: ${offline.slice(0, 10).join(', ')}`);
    return c.json({ status: 'ready' });
  });
  const openApi = JSON.stringify(openApiDocument());
  app.get('/v1/openapi.json', () => new Response(openApi, { headers: { 'content-type': 'application/json' } }));

  return {
    app,
    close() {
      open = false;
      for (const closeStream of [...ctx.streams]) closeStream();
    },
  };
}
