import { Hono } from 'hono';
import { HttpProblem, problemResponse, toHttpProblem } from '../../broker/http/problem.ts';
import { serveHttp } from '../../broker/http/serve.ts';
import { AppState, type AppStateValue } from '../runtime/app-state.ts';
import type { StreamsApp } from '../runtime/streams-app.ts';
import { StreamsError, type StreamsErrorCodeValue } from '../runtime/streams-error.ts';
import { appServerOpenApi } from './openapi.ts';
import { storeRoutes } from './store-routes.ts';

/** Seconds a 503 asks the client to wait: a rebalance or a restore usually ends within a few. */
export const RETRY_AFTER_SECONDS = 1;

export interface AppServerOptions {
  /** Default 0: any free port. */
  readonly port?: number;
  /** The address to listen on; default 127.0.0.1. */
  readonly hostname?: string;
  /**
   * The host other instances and clients reach this one at, when the application has no
   * `applicationServer` yet: it advertises `<advertisedHost>:<port>`. Default: `hostname`.
   */
  readonly advertisedHost?: string;
}

export interface AppServer {
  readonly host: string;
  readonly port: number;
  /** `http://host:port`. */
  readonly url: string;
  /** Stops accepting connections; resolves once in-flight requests are answered. Does not close the application. */
  close(): Promise<void>;
}

const problemKinds: Readonly<Record<StreamsErrorCodeValue, 'notFound' | 'badRequest' | 'unavailable' | 'internal'>> = {
  UNKNOWN_STATE_STORE: 'notFound',
  WRONG_STORE_TYPE: 'badRequest',
  INVALID_QUERY: 'badRequest',
  STORE_UNAVAILABLE: 'unavailable',
  // Reached only when no instance advertises the key's partition yet (mid-rebalance): retry.
  KEY_NOT_LOCAL: 'unavailable',
  INVALID_CONFIG: 'internal',
  TOPIC_MISMATCH: 'internal',
  STATE_DIR_LOCKED: 'internal',
  RECORD_FAILED: 'internal',
  FATAL: 'internal',
  SUPPRESSION_BUFFER_FULL: 'internal',
  APPLICATION_ACTIVE: 'internal',
  UNKNOWN_APPLICATION: 'internal',
};

function toProblem(error: unknown): HttpProblem {
  if (error instanceof StreamsError) {
    const kind = problemKinds[error.code];
    return new HttpProblem(kind, error.message, { errors: [{ code: error.code }], ...(kind === 'unavailable' ? { headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) } } : {}) });
  }
  return toHttpProblem(error);
}

/** States in which /health answers 200: RUNNING, and REBALANCING, a normal pause every member goes through at once. */
const HEALTHY: ReadonlySet<AppStateValue> = new Set([AppState.running, AppState.rebalancing]);

/**
 * The application's HTTP API (hono): interactive queries of its stores (streams/server/store-routes.ts),
 * `/instances`, `/metrics` (Prometheus text), `/health` and `/openapi.json`. Errors are RFC 9457
 * problem details, as the broker's API sends them. Serve it with `startAppServer`, or mount its
 * `fetch` in a server of your own.
 */
export function createAppServer(app: StreamsApp): Hono {
  const http = new Hono();
  http.onError((error) => problemResponse(toProblem(error)));
  http.notFound((c) => problemResponse(new HttpProblem('notFound', `no route for ${c.req.method} ${c.req.path}`)));

  storeRoutes(http, app);

  http.get('/instances', (c) => c.json({ self: app.endpoint ?? null, state: app.state, instances: app.allMetadata() }));

  // REBALANCING answers 200 with rebalancing: true: every member rebalances at once, so a 503 would
  // take every instance out of a load balancer together; the queries themselves answer 503 meanwhile.
  http.get('/health', (c) => {
    const state = app.state;
    return c.json({ state, applicationId: app.applicationId, rebalancing: state === AppState.rebalancing }, HEALTHY.has(state) ? 200 : 503);
  });

  http.get('/metrics', () => new Response(app.metricsText() + stateMetric(app), { headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' } }));

  const openApi = JSON.stringify(appServerOpenApi());
  http.get('/openapi.json', () => new Response(openApi, { headers: { 'content-type': 'application/json' } }));
  return http;
}

/** Kafka Streams' state metric: one sample per state, 1 for the current one. */
function stateMetric(app: StreamsApp): string {
  const lines = ['# HELP rill_streams_state The application state (1 for the current one).', '# TYPE rill_streams_state gauge'];
  for (const state of Object.values(AppState)) lines.push(`rill_streams_state{application_id="${app.applicationId}",state="${state}"} ${state === app.state ? 1 : 0}`);
  return `${lines.join('\n')}\n`;
}

/**
 * Serves the application's HTTP API (`createAppServer`) on Node, Bun or Deno. Call it before
 * `app.start()` when the application has no `applicationServer`: it then advertises
 * `<advertisedHost or hostname>:<port>`, so a port of 0 works across processes.
 *
 * ```ts
 * const server = await startAppServer(app, { port: 8080, hostname: '127.0.0.1' });
 * await app.start();
 * ...
 * await server.close();
 * await app.close();
 * ```
 */
export async function startAppServer(app: StreamsApp, options: AppServerOptions = {}): Promise<AppServer> {
  const hostname = options.hostname ?? '127.0.0.1';
  const http = createAppServer(app);
  const server = await serveHttp((request) => http.fetch(request), { host: hostname, port: options.port ?? 0 });
  if (app.endpoint === undefined && app.state === AppState.created) {
    try {
      app.setApplicationServer(`${options.advertisedHost ?? hostname}:${server.port}`);
    } catch (error) {
      await server.close();
      throw error;
    }
  }
  const urlHost = hostname.includes(':') ? `[${hostname}]` : hostname;
  return { host: hostname, port: server.port, url: `http://${urlHost}:${server.port}`, close: () => server.close() };
}
