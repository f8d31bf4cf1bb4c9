import { afterEach, expect, it } from 'vitest';
import { FaultInjectingFileSystem } from '../../../../broker/log/fault-injecting-file-system.ts';
import { nodeFileSystem } from '../../../../broker/log/file-system.ts';
import { problemOf, openTestApp, type TestApp } from './http-test-support.ts';

let t: TestApp;
afterEach(() => t.close());

const body = { records: [{ value: 'a', partition: 0 }, { value: 'b', partition: 1 }] };
const send = (key: string, json: unknown = body): Promise<Response> =>
  t.request('/v1/topics/orders/records', { json, headers: { 'idempotency-key': key } });
const endOffsets = (): number[] => t.broker.describeTopic('orders').partitions.map((p) => p.logEndOffset);

it('appends a retried request once and answers every retry with the original offsets, also after a restart', async () => {
  t = await openTestApp();
  await t.request('/v1/topics', { json: { name: 'orders', partitions: 2 } });
  await t.request('/v1/topics/orders/records', { json: { records: [{ value: 'before', partition: 1 }] } });
  const first = await send('order-17');
  expect(first.headers.get('idempotent-replayed')).toBe('false');
  const original = await first.json();
  expect(original).toEqual({ records: [{ partition: 0, offset: 0 }, { partition: 1, offset: 1 }] });
  const concurrent = await Promise.all([send('order-17'), send('order-17'), send('order-17')]);
  for (const retry of concurrent) {
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(await retry.json()).toEqual(original);
  }
  expect(endOffsets()).toEqual([1, 2]);

  await t.close(false);
  t = await openTestApp({}, t.dataDir);
  const afterRestart = await send('order-17');
  expect(afterRestart.headers.get('idempotent-replayed')).toBe('true');
  expect(await afterRestart.json()).toEqual(original);
  expect(endOffsets()).toEqual([1, 2]);
  expect((await send('order-18')).headers.get('idempotent-replayed')).toBe('false');
  expect(endOffsets()).toEqual([2, 3]);
});

it('appends once when the broker crashed after the records were fsynced and before the result was', async () => {
  const fs = new FaultInjectingFileSystem(nodeFileSystem);
  t = await openTestApp({}, undefined, { fs });
  await t.request('/v1/topics', { json: { name: 'orders', partitions: 3 } });
  expect((await send('warm-up', { records: [{ value: 'w', partition: 0 }] })).status).toBe(200);
  // The request's first fsync of __http_idempotency is its intent's; the second, its result's, fails.
  let idempotencyLogFsyncs = 0;
  fs.failNextFsync((path) => path.includes('__http_idempotency-0') && path.endsWith('.log') && ++idempotencyLogFsyncs === 2);
  const keyless = { records: [{ value: 'a' }, { value: 'b' }] };
  const first = await send('order-19', keyless);
  expect(first.status).toBe(200);
  const original = await first.json();
  const appended = endOffsets();
  expect(appended.reduce((sum, n) => sum + n, 0)).toBe(3);
  t.http.close();
  await t.broker.close().catch(() => undefined);
  fs.crash();

  t = await openTestApp({}, t.dataDir);
  expect(endOffsets()).toEqual(appended);
  const retry = await send('order-19', keyless);
  // Not replayed from a stored result (the crash lost it): resent under the intent's producer id.
  expect(retry.headers.get('idempotent-replayed')).toBe('false');
  expect(await retry.json()).toEqual(original);
  expect(endOffsets()).toEqual(appended);
  const again = await send('order-19', keyless);
  expect(again.headers.get('idempotent-replayed')).toBe('true');
  expect(await again.json()).toEqual(original);
  expect(endOffsets()).toEqual(appended);
});

it('runs two requests started together with one key once', async () => {
  t = await openTestApp();
  await t.request('/v1/topics', { json: { name: 'orders', partitions: 2 } });
  const results = await Promise.all(Array.from({ length: 5 }, () => send('together')));
  const bodies = await Promise.all(results.map((r) => r.json()));
  expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1);
  expect(results.filter((r) => r.headers.get('idempotent-replayed') === 'false')).toHaveLength(1);
  expect(endOffsets()).toEqual([1, 1]);
});

it('refuses a key reused for a different request with 409, appending nothing', async () => {
  t = await openTestApp();
  await t.request('/v1/topics', { json: { name: 'orders', partitions: 2 } });
  await send('k1');
  const problem = await problemOf(await send('k1', { records: [{ value: 'other' }] }));
  expect(problem.status).toBe(409);
  expect(endOffsets()).toEqual([1, 1]);
});

it('does not store a rejected request, so a corrected retry with the same key appends', async () => {
  t = await openTestApp();
  await t.request('/v1/topics', { json: { name: 'orders', partitions: 2 } });
  expect((await send('k2', { records: [{ value: 1, partition: 5 }] })).status).toBe(422);
  expect((await send('k2')).status).toBe(200);
  expect(endOffsets()).toEqual([1, 1]);
});

it('forgets a key after the window', async () => {
  let nowMs = 1_700_000_000_000;
  t = await openTestApp({ idempotencyWindowMs: 60_000, nowMs: () => nowMs });
  await t.request('/v1/topics', { json: { name: 'orders', partitions: 2 } });
  await send('k3');
  nowMs += 59_000;
  expect((await send('k3')).headers.get('idempotent-replayed')).toBe('true');
  nowMs += 2_000;
  expect((await send('k3')).headers.get('idempotent-replayed')).toBe('false');
  expect(endOffsets()).toEqual([2, 2]);
});

it('keeps at most idempotencyMaxKeys keys, forgetting the oldest first', async () => {
  t = await openTestApp({ idempotencyMaxKeys: 2 });
  await t.request('/v1/topics', { json: { name: 'orders', partitions: 2 } });
  for (const key of ['a', 'b', 'c']) await send(key);
  expect((await send('c')).headers.get('idempotent-replayed')).toBe('true');
  expect((await send('a')).headers.get('idempotent-replayed')).toBe('false');
  const metrics = await (await t.request('/metrics')).text();
  expect(metrics).toMatch(/^rill_http_idempotency_keys 2$/m);
  expect(metrics).toMatch(/^rill_http_idempotency_evicted_keys [1-9]/m);
});
