import { afterEach, describe, expect, it } from 'vitest';
import { ROUTE_DOCS } from '../../../../broker/http/openapi.ts';
import { parseHttpConfig, isLoopbackHost } from '../../../../broker/http/http-start-options.ts';
import { problemOf, openTestApp, type TestApp } from './http-test-support.ts';

let t: TestApp;
afterEach(() => t.close());

const tokens = [
  { name: 'writer', token: 'writer-token', acls: [{ topics: 'orders', operations: ['write' as const] }] },
  { name: 'reader', token: 'reader-token', acls: [{ topics: 'ord*', operations: ['read' as const] }] },
  { name: 'root', token: 'root-token-1', acls: [{ topics: '*', operations: ['read' as const, 'write' as const, 'admin' as const] }] },
];
const as = (token: string): { authorization: string } => ({ authorization: `Bearer ${token}` });

describe('authentication and ACLs', () => {
  it('needs a known bearer token and the right operation on the topic', async () => {
    t = await openTestApp({ tokens });
    expect((await t.request('/v1/topics', { json: { name: 'orders' }, headers: as('root-token-1') })).status).toBe(201);
    const missing = await t.request('/v1/topics');
    expect((await problemOf(missing)).status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="rill"');
    expect((await problemOf(await t.request('/v1/topics', { headers: as('wrong-token') }))).status).toBe(401);
    const produce = (token: string): Promise<Response> => t.request('/v1/topics/orders/records', { json: { records: [{ value: 1 }] }, headers: as(token) });
    expect((await produce('writer-token')).status).toBe(200);
    expect((await problemOf(await produce('reader-token'))).status).toBe(403);
    expect((await t.request('/v1/topics/orders/partitions/0/records', { headers: as('reader-token') })).status).toBe(200);
    expect((await problemOf(await t.request('/v1/topics/orders/partitions/0/records', { headers: as('writer-token') }))).status).toBe(403);
    expect((await problemOf(await t.request('/v1/topics', { json: { name: 'more' }, headers: as('writer-token') }))).status).toBe(403);
    expect((await problemOf(await t.request('/v1/topics/orders', { method: 'DELETE', headers: as('reader-token') }))).status).toBe(403);
    expect(await (await t.request('/v1/topics', { headers: as('reader-token') })).json()).toEqual({ topics: ['orders'] });
    expect(t.broker.describeTopic('orders').partitions[0]!.logEndOffset).toBe(1);
    expect((await t.request('/healthz')).status).toBe(200);
  });

  it('parses the config file and refuses bad entries', () => {
    const config = parseHttpConfig(JSON.stringify({ tokens, clientLimit: { ratePerSecond: 5, burst: 10 }, maxBodyBytes: 1000 }));
    expect(config.tokens?.map((x) => x.name)).toEqual(['writer', 'reader', 'root']);
    expect(config.clientLimit).toEqual({ ratePerSecond: 5, burst: 10 });
    expect(() => parseHttpConfig('{"tokens": [{"name": "x", "token": "short", "acls": []}]}')).toThrow(/at least 8/);
    expect(() => parseHttpConfig('{"tokens": [{"name": "x", "token": "long-enough", "acls": [{"topics": "*", "operations": ["delete"]}]}]}')).toThrow(/unknown operation/);
    expect(() => parseHttpConfig('{"tokenz": []}')).toThrow(/unknown field/);
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
    expect(isLoopbackHost('0.0.0.0')).toBe(false);
  });
});

describe('rate limits', () => {
  it('answers 429 with Retry-After past a client\'s bucket, and refills with time', async () => {
    let nowMs = 0;
    t = await openTestApp({ clientLimit: { ratePerSecond: 1, burst: 3 }, nowMs: () => nowMs });
    for (let i = 0; i < 3; i++) expect((await t.request('/v1/topics')).status).toBe(200);
    const limited = await t.request('/v1/topics');
    expect((await problemOf(limited)).status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    nowMs += 1000;
    expect((await t.request('/v1/topics')).status).toBe(200);
  });

  it('limits records per topic and appends nothing when over', async () => {
    t = await openTestApp({ topicLimit: { ratePerSecond: 0.5, burst: 4 }, nowMs: () => 0 });
    await t.request('/v1/topics', { json: { name: 'orders' } });
    const produce = (n: number): Promise<Response> => t.request('/v1/topics/orders/records', { json: { records: Array.from({ length: n }, () => ({ value: 1 })) } });
    expect((await produce(3)).status).toBe(200);
    const limited = await produce(2);
    expect((await problemOf(limited)).status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2');
    expect(t.broker.describeTopic('orders').partitions[0]!.logEndOffset).toBe(3);
  });
});

describe('operations', () => {
  it('serves healthz, readyz and Prometheus metrics with produce and fetch series', async () => {
    t = await openTestApp();
    expect(await (await t.request('/healthz')).json()).toEqual({ status: 'ok' });
    expect(await (await t.request('/readyz')).json()).toEqual({ status: 'ready' });
    await t.request('/v1/topics', { json: { name: 'orders' } });
    await t.request('/v1/topics/orders/records', { json: { records: [{ value: 1 }, { value: 2 }] } });
    await t.request('/v1/topics/orders/partitions/0/records');
    const response = await t.request('/metrics');
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    expect(text).toContain('rill_produce_records_total{topic="orders"} 2');
    expect(text).toContain('rill_fetch_records_total{topic="orders"} 2');
    expect(text).toMatch(/rill_produce_duration_seconds_count\{topic="orders"\} 1/);
    expect(text).toMatch(/rill_partition_size_bytes\{partition="0",topic="orders"\} [1-9]/);
    expect(text).toContain('rill_http_requests_total{method="POST",route="/v1/topics/:topic/records",status="200"} 1');
    t.http.close();
    expect((await problemOf(await t.request('/readyz'))).status).toBe(503);
  });

  it('counts transactions begun, committed, aborted and timed out on /metrics', async () => {
    let nowMs = Date.now();
    t = await openTestApp({}, undefined, { clock: { nowMs: () => nowMs } });
    await t.request('/v1/topics', { json: { name: 'orders' } });
    const txns = t.broker.transactions;
    const begin = async (id: string): Promise<{ producerId: number; producerEpoch: number }> => {
      const { errorCode, producerId, producerEpoch } = await txns.initProducerId(id, 60_000);
      expect(errorCode).toBe(0);
      expect(await txns.addPartitions(id, producerId, producerEpoch, [{ topic: 'orders', partition: 0 }])).toEqual([
        { topic: 'orders', partition: 0, errorCode: 0 },
      ]);
      return { producerId, producerEpoch };
    };
    const committed = await begin('committer');
    expect(await txns.endTxn('committer', committed.producerId, committed.producerEpoch, true)).toBe(0);
    const aborted = await begin('aborter');
    expect(await txns.endTxn('aborter', aborted.producerId, aborted.producerEpoch, false)).toBe(0);
    await begin('sleeper');
    nowMs += 60_001;
    await txns.runTimers();
    const text = await (await t.request('/metrics')).text();
    expect(text).toContain('rill_transactions_begun_total 3');
    expect(text).toContain('rill_transactions_committed_total 1');
    expect(text).toContain('rill_transactions_aborted_total 2');
    expect(text).toContain('rill_transactions_timed_out_total 1');
  });

  it('describes every registered route in the OpenAPI document, and nothing else', async () => {
    t = await openTestApp();
    const document = await (await t.request('/v1/openapi.json')).json();
    expect(document.openapi).toBe('3.1.0');
    const registered = new Set(
      t.http.app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, '{$1}')}`),
    );
    const documented = new Set(Object.entries(document.paths as Record<string, object>).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`)));
    expect([...documented].sort()).toEqual([...registered].sort());
    expect(ROUTE_DOCS.length).toBe(registered.size);
  });
});
