import type { Context, Hono } from 'hono';
import { HttpProblem } from '../../broker/http/problem.ts';
import type { StreamsApp } from '../runtime/streams-app.ts';
import { AppState } from '../runtime/app-state.ts';
import { StreamsError, StreamsErrorCode } from '../runtime/streams-error.ts';
import type { QueryableStoreInfo, QueryOptions, ReadPlan } from '../query/interactive-queries.ts';
import { DEFAULT_QUERY_LIMIT } from '../query/store-queries.ts';
import type { StoreSpec } from '../state/store-spec.ts';
import { entryJson, keyFromText } from './text-codec.ts';

/** The most entries one HTTP range or fetch returns (`limit`); more are read page by page with `from`. */
export const MAX_HTTP_LIMIT = 10_000;
/** Set to `true` on an answer served from a task that is restoring or suspended, or while the application is not RUNNING (`?stale=true`). */
export const STALE_HEADER = 'Rill-Stale';

/**
 * The store routes. A key lookup goes to the instance whose task holds the key: another
 * instance's key is answered with a 307 redirect to the same path at its endpoint (not proxied:
 * the client sees where keys live, and no instance holds a request open for another). Ranges and
 * window fetches of all keys answer from this instance's partitions (listed in `partitions`): ask
 * each instance of `/instances` for the whole store.
 *
 * While the application is not RUNNING (rebalancing, starting) or the task restores, queries
 * answer 503 with Retry-After. `?stale=true` (KIP-535) serves what this instance holds anyway,
 * a restoring or suspended task included, and sets `Rill-Stale: true` when it did.
 */
export function storeRoutes(http: Hono, app: StreamsApp): void {
  const queries = app.interactiveQueries;

  http.get('/stores', (c) =>
    c.json({
      stores: queries.storeNames().map((name) => {
        const info = queries.store(name);
        return { name, kind: info.spec.kind, ...(info.global === true ? { global: true } : {}) };
      }),
    }),
  );

  http.get('/stores/:store/keys/:key/metadata', (c) => {
    const { info, key } = keyedStore(c, app, undefined);
    const metadata = queries.queryMetadataForKey(info.spec.name, key);
    return c.json({ ...metadata, activeHost: metadata.activeHost ?? null });
  });

  http.get('/stores/:store/keys/:key', (c) => {
    const { info, key } = keyedStore(c, app, 'keyValue');
    return keyed(c, app, info, key, (options, plan) => {
      const entry = app.keyValueStore(info.spec.name, options).entry(key);
      if (entry === undefined) throw new HttpProblem('notFound', `store "${info.spec.name}" has no key ${c.req.param('key')}`);
      return c.json({ ...entryJson(entry), partition: plan.stores[0]!.partition });
    });
  });

  http.get('/stores/:store/keys', (c) => {
    const info = storeOf(c, app, 'keyValue');
    const options = queryOptions(c);
    const limit = limitParam(c);
    const prefix = c.req.query('prefix');
    const from = c.req.query('from');
    const to = c.req.query('to');
    if (prefix !== undefined && (from !== undefined || to !== undefined)) throw new HttpProblem('badRequest', 'prefix cannot be combined with from or to');
    const store = app.keyValueStore(info.spec.name, options);
    const plan = queries.plan(info, undefined, options);
    const entries =
      prefix !== undefined
        ? store.prefixScan(keyFromText(info.spec.keySerde, prefix, info.spec.name, 'prefix'), limit + 1)
        : store.range(from === undefined ? undefined : keyFromText(info.spec.keySerde, from, info.spec.name, 'from key'), to === undefined ? undefined : keyFromText(info.spec.keySerde, to, info.spec.name, 'to key'), limit + 1);
    return page(c, plan, entries, limit);
  });

  http.get('/stores/:store/keys/:key/windows', (c) => {
    const { info, key } = keyedStore(c, app, 'window');
    const { fromMs, toMs } = timeRange(c);
    const limit = limitParam(c);
    return keyed(c, app, info, key, (options, plan) => {
      const entries = app.windowStore(info.spec.name, options).fetch(key, fromMs, toMs, limit + 1);
      return page(c, plan, entries, limit);
    });
  });

  http.get('/stores/:store/windows', (c) => {
    const info = storeOf(c, app, 'window');
    const { fromMs, toMs } = timeRange(c);
    const limit = limitParam(c);
    const options = queryOptions(c);
    const plan = queries.plan(info, undefined, options);
    return page(c, plan, app.windowStore(info.spec.name, options).fetchAll(fromMs, toMs, limit + 1), limit);
  });

  http.get('/stores/:store/keys/:key/sessions', (c) => {
    const { info, key } = keyedStore(c, app, 'session');
    const limit = limitParam(c);
    const earliestEnd = c.req.query('earliestEnd');
    const latestStart = c.req.query('latestStart');
    return keyed(c, app, info, key, (options, plan) => {
      const store = app.sessionStore(info.spec.name, options);
      const entries =
        earliestEnd === undefined && latestStart === undefined
          ? store.fetch(key, limit + 1)
          : store.findSessions(key, msParam('earliestEnd', earliestEnd, 0), msParam('latestStart', latestStart, Number.MAX_SAFE_INTEGER), limit + 1);
      return page(c, plan, entries, limit);
    });
  });
}

type RouteContext = Context;

function storeOf(c: RouteContext, app: StreamsApp, kind: StoreSpec['kind'] | undefined): QueryableStoreInfo {
  return app.interactiveQueries.store(c.req.param('store') ?? '', kind);
}

function keyedStore(c: RouteContext, app: StreamsApp, kind: StoreSpec['kind'] | undefined): { info: QueryableStoreInfo; key: unknown } {
  const info = storeOf(c, app, kind);
  return { info, key: keyFromText(info.spec.keySerde, c.req.param('key') ?? '', info.spec.name) };
}

/**
 * Answers a query of one key here, or redirects it to the instance holding the key. With
 * `?stale=true` a copy this instance holds is read first, whatever its task's state.
 */
function keyed(c: RouteContext, app: StreamsApp, info: QueryableStoreInfo, key: unknown, answer: (options: QueryOptions, plan: ReadPlan) => Response): Response {
  const options = queryOptions(c);
  const queries = app.interactiveQueries;
  if (options.stale === true) {
    const local = tryPlan(() => queries.plan(info, { key }, options));
    if (local !== undefined) return stale(answer(options, local), local);
  } else if (app.state !== AppState.running) {
    throw new StreamsError(StreamsErrorCode.storeUnavailable, `store "${info.spec.name}" cannot be read while the application is ${app.state}; retry once it is RUNNING (or ask with stale=true)`);
  }
  const owner = queries.queryMetadataForKey(info.spec.name, key).activeHost?.endpoint;
  if (owner !== undefined && owner !== app.endpoint) {
    const url = new URL(c.req.url);
    return new Response(null, { status: 307, headers: { location: `http://${owner}${url.pathname}${url.search}` } });
  }
  const plan = queries.plan(info, { key }, options);
  return stale(answer(options, plan), plan);
}

/** The plan, or undefined when this instance holds no copy of the key (the caller redirects). */
function tryPlan(plan: () => ReadPlan): ReadPlan | undefined {
  try {
    return plan();
  } catch {
    return undefined;
  }
}

function stale(response: Response, plan: ReadPlan): Response {
  if (plan.stale) response.headers.set(STALE_HEADER, 'true');
  return response;
}

function page<E extends { readonly key: unknown; readonly value: unknown }>(c: RouteContext, plan: ReadPlan, entries: readonly E[], limit: number): Response {
  const response = c.json({
    entries: entries.slice(0, limit).map(entryJson),
    partitions: plan.stores.map((s) => s.partition),
    truncated: entries.length > limit,
  });
  return stale(response, plan);
}

function queryOptions(c: RouteContext): QueryOptions {
  const value = c.req.query('stale');
  if (value === undefined || value === 'false') return {};
  if (value === 'true') return { stale: true };
  throw new HttpProblem('badRequest', `stale must be true or false, got "${value}"`);
}

function limitParam(c: RouteContext): number {
  const raw = c.req.query('limit');
  if (raw === undefined) return DEFAULT_QUERY_LIMIT;
  const limit = /^\d{1,6}$/.test(raw) ? Number(raw) : NaN;
  if (!(limit >= 1 && limit <= MAX_HTTP_LIMIT)) throw new HttpProblem('badRequest', `limit must be an integer from 1 to ${MAX_HTTP_LIMIT}, got "${raw}"`);
  return limit;
}

function msParam(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const ms = /^\d{1,16}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(ms)) throw new HttpProblem('badRequest', `${name} must be a non-negative integer of ms since the epoch, got "${raw}"`);
  return ms;
}

function timeRange(c: RouteContext): { fromMs: number; toMs: number } {
  const fromMs = msParam('from', c.req.query('from'), 0);
  const toMs = msParam('to', c.req.query('to'), Number.MAX_SAFE_INTEGER);
  if (fromMs > toMs) throw new HttpProblem('badRequest', `from (${fromMs}) is after to (${toMs})`);
  return { fromMs, toMs };
}
