/**
 * The OpenAPI 3.1 description of the application server's routes, built from one table. A test
 * checks that the table and the server's registered routes are the same set.
 */
interface RouteDoc {
  path: string;
  summary: string;
  query?: Record<string, string>;
  ok: { status: number; description: string; schema: object; contentType?: string };
  errors: number[];
}

const obj = (properties: Record<string, object>, required: string[] = []): object => ({ type: 'object', properties, required });
const ref = (name: string): object => ({ $ref: `#/components/schemas/${name}` });
const STALE = { stale: 'true: also serve a task that restores or was suspended by a rebalance (KIP-535); the answer then carries Rill-Stale: true' };
const LIMIT = { limit: 'entries to return, 1 to 10000 (default 1000); truncated says when more matched' };

export const APP_ROUTE_DOCS: readonly RouteDoc[] = [
  { path: '/stores', summary: 'The queryable stores (those the topology names) and their kinds.', ok: { status: 200, description: 'stores', schema: obj({ stores: { type: 'array', items: obj({ name: { type: 'string' }, kind: { enum: ['keyValue', 'window', 'session'] } }) } }) }, errors: [] },
  {
    path: '/stores/{store}/keys/{key}', summary: "A key's value in a key-value store; another instance's key is redirected (307) to its endpoint.", query: STALE,
    ok: { status: 200, description: 'the entry', schema: ref('Entry') }, errors: [307, 400, 404, 503],
  },
  {
    path: '/stores/{store}/keys', summary: "Entries of a key-value store in this instance's partitions: a key range (from, to, inclusive) or a prefix, in serialized key order.",
    query: { from: 'lowest key (inclusive)', to: 'highest key (inclusive)', prefix: 'keys whose serialized form starts with this key\'s', ...LIMIT, ...STALE },
    ok: { status: 200, description: 'a page of entries', schema: ref('Page') }, errors: [400, 404, 503],
  },
  {
    path: '/stores/{store}/keys/{key}/windows', summary: "A key's windows in a window store, by start; another instance's key is redirected (307).",
    query: { from: 'earliest window start, ms (default 0)', to: 'latest window start, ms (default: no bound)', ...LIMIT, ...STALE },
    ok: { status: 200, description: 'a page of windows', schema: ref('Page') }, errors: [307, 400, 404, 503],
  },
  {
    path: '/stores/{store}/windows', summary: "Every key's windows starting in a time range, of this instance's partitions.",
    query: { from: 'earliest window start, ms (default 0)', to: 'latest window start, ms (default: no bound)', ...LIMIT, ...STALE },
    ok: { status: 200, description: 'a page of windows', schema: ref('Page') }, errors: [400, 404, 503],
  },
  {
    path: '/stores/{store}/keys/{key}/sessions', summary: "A key's sessions in a session store, by end then start; another instance's key is redirected (307).",
    query: { earliestEnd: 'sessions ending at or after this, ms', latestStart: 'sessions starting at or before this, ms', ...LIMIT, ...STALE },
    ok: { status: 200, description: 'a page of sessions', schema: ref('Page') }, errors: [307, 400, 404, 503],
  },
  { path: '/stores/{store}/keys/{key}/metadata', summary: 'Which instance holds the key (KeyQueryMetadata): its partition and the active host.', ok: { status: 200, description: 'the key\'s metadata', schema: obj({ activeHost: { type: ['object', 'null'] }, standbyHosts: { type: 'array' }, partition: { type: 'integer' } }) }, errors: [400, 404, 503] },
  { path: '/instances', summary: 'Every instance advertising an endpoint, with its stores, partitions and tasks (StreamsMetadata), as of the last rebalance.', ok: { status: 200, description: 'instances', schema: obj({ self: { type: ['string', 'null'] }, state: { type: 'string' }, instances: { type: 'array' } }) }, errors: [] },
  { path: '/health', summary: 'The application state: 200 when RUNNING or REBALANCING (with rebalancing: true), 503 otherwise.', ok: { status: 200, description: 'state', schema: obj({ state: { type: 'string' }, rebalancing: { type: 'boolean' } }) }, errors: [503] },
  { path: '/metrics', summary: "The application's metrics in the Prometheus text format.", ok: { status: 200, description: 'Prometheus text', schema: { type: 'string' }, contentType: 'text/plain' }, errors: [] },
  { path: '/openapi.json', summary: 'This document.', ok: { status: 200, description: 'OpenAPI 3.1', schema: { type: 'object' } }, errors: [] },
];

const errorText: Record<number, string> = {
  307: "another instance holds the key: Location is the same request at its endpoint",
  400: 'malformed key, bound or parameter, or a query the store kind does not answer (wrong-store-type)',
  404: 'no such queryable store (the detail lists them), or no such key',
  503: 'rebalancing, starting, or the task restores: retry after Retry-After, or ask with stale=true',
};

export function appServerOpenApi(): object {
  const paths: Record<string, Record<string, object>> = {};
  for (const route of APP_ROUTE_DOCS) {
    const params: object[] = [];
    if (route.path.includes('{store}')) params.push({ name: 'store', in: 'path', required: true, schema: { type: 'string' } });
    if (route.path.includes('{key}')) params.push({ name: 'key', in: 'path', required: true, description: "the key as text: a string key as it is, a JSON key as JSON, a long as decimal (percent-encoded)", schema: { type: 'string' } });
    for (const [name, description] of Object.entries(route.query ?? {})) params.push({ name, in: 'query', required: false, description, schema: { type: 'string' } });
    const responses: Record<string, object> = { [route.ok.status]: { description: route.ok.description, content: { [route.ok.contentType ?? 'application/json']: { schema: route.ok.schema } } } };
    for (const status of route.errors) {
      responses[status] = status === 307 ? { description: errorText[status] } : { description: errorText[status], content: { 'application/problem+json': { schema: ref('Problem') } } };
    }
    paths[route.path] = { get: { summary: route.summary, parameters: params, responses } };
  }
  const entry = obj({ key: {}, value: {}, timestamp: { type: 'integer' }, startMs: { type: 'integer' }, endMs: { type: 'integer' }, keyEncoding: { enum: ['base64'] }, valueEncoding: { enum: ['base64'] } }, ['key', 'value']);
  return {
    openapi: '3.1.0',
    info: { title: 'Rill streams application server', version: '1', description: "Interactive queries of a running streams application's stores, its metrics and health. Keys in paths are text read by the store's key serde; errors are RFC 9457 problem details." },
    paths,
    components: {
      schemas: {
        Problem: obj({ type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, detail: { type: 'string' }, errors: { type: 'array' } }, ['type', 'title', 'status', 'detail']),
        Entry: entry,
        Page: obj({ entries: { type: 'array', items: entry }, partitions: { type: 'array', items: { type: 'integer' } }, truncated: { type: 'boolean' } }, ['entries', 'partitions', 'truncated']),
      },
    },
  };
}
