import { afterEach, expect, it } from 'vitest';
import { problemOf, openTestApp, type TestApp } from './http-test-support.ts';

let t: TestApp;
afterEach(() => t.close());

const tokens = [
  { name: 'root', token: 'root-token-1', acls: [{ topics: '*', operations: ['read' as const, 'write' as const, 'admin' as const] }] },
  { name: 'reader', token: 'reader-token', acls: [{ topics: 'public-*', operations: ['read' as const] }] },
];
const as = (token: string): { authorization: string } => ({ authorization: `Bearer ${token}` });

it('sums the running totals over the topics the token may read', async () => {
  let nowMs = 5_000;
  t = await openTestApp({ tokens, nowMs: () => nowMs });
  for (const name of ['orders', 'public-news']) {
    expect((await t.request('/v1/topics', { json: { name, partitions: 2 }, headers: as('root-token-1') })).status).toBe(201);
  }
  const produce = (topic: string, n: number) =>
    t.request(`/v1/topics/${topic}/records`, { json: { records: Array.from({ length: n }, (_, i) => ({ value: i })) }, headers: as('root-token-1') });
  expect((await produce('orders', 3)).status).toBe(200);
  expect((await produce('public-news', 4)).status).toBe(200);
  expect((await t.request('/v1/topics/public-news/partitions/0/records', { headers: as('reader-token') })).status).toBe(200);
  nowMs = 7_000;

  const all = await (await t.request('/v1/summary', { headers: as('root-token-1') })).json();
  expect(all).toMatchObject({ timeMs: 7_000, topics: 2, partitions: 4, offlinePartitions: 0, groups: 0, recordsAppended: 7, httpProducedRecords: 7 });
  const news = await (await t.request('/v1/summary', { headers: as('reader-token') })).json();
  const newsPartitions = t.broker.describeTopic('public-news').partitions;
  expect(news).toMatchObject({
    topics: 1,
    partitions: 2,
    recordsAppended: 4,
    httpProducedRecords: 4,
    sizeBytes: newsPartitions.reduce((sum, p) => sum + p.sizeBytes, 0),
    httpFetchedRecords: newsPartitions[0]!.highWatermark,
  });
  expect(news.httpProducedBytes).toBeGreaterThan(0);
  expect(news.httpProducedBytes).toBeLessThan(all.httpProducedBytes);
  expect((await problemOf(await t.request('/v1/summary'))).status).toBe(401);
});

it('previews a reset with dryRun, writing nothing, with the same checks as a reset', async () => {
  t = await openTestApp();
  await t.request('/v1/topics', { json: { name: 'orders', partitions: 2 } });
  await t.request('/v1/topics/orders/records', { json: { records: Array.from({ length: 6 }, (_, i) => ({ value: i, partition: i % 2 })) } });
  await t.request('/v1/groups/billing/offsets', { json: { topic: 'orders', partitions: [{ partition: 0, offset: 3 }, { partition: 1, offset: 1 }] } });
  const committed = async () => (await (await t.request('/v1/groups/billing')).json()).offsets.map((o: { committedOffset: number }) => o.committedOffset);

  const preview = await t.request('/v1/groups/billing/reset', { json: { topic: 'orders', to: { offsets: { '0': 1, '1': 99 } }, dryRun: true } });
  expect(await preview.json()).toEqual({ group: 'billing', topic: 'orders', partitions: [{ partition: 0, offset: 1 }, { partition: 1, offset: 3 }], dryRun: true });
  expect(await committed()).toEqual([3, 1]);
  expect((await problemOf(await t.request('/v1/groups/billing/reset', { json: { topic: 'orders', to: { offsets: { '5': 1 } }, dryRun: true } }))).status).toBe(404);
  expect((await problemOf(await t.request('/v1/groups/billing/reset', { json: { topic: 'orders', to: 'earliest', dryRun: 'yes' } }))).status).toBe(400);
  expect(await committed()).toEqual([3, 1]);

  const reset = await t.request('/v1/groups/billing/reset', { json: { topic: 'orders', to: 'earliest', dryRun: false } });
  expect(await reset.json()).toEqual({ group: 'billing', topic: 'orders', partitions: [{ partition: 0, offset: 0 }, { partition: 1, offset: 0 }] });
  expect(await committed()).toEqual([0, 0]);
});

it('serves the console without a token, and its API calls still need one', async () => {
  t = await openTestApp({ tokens });
  const index = await t.request('/');
  // Built (npm run build) or not, the answer is the console or a sentence saying how to build it, never a 401.
  expect([200, 503]).toContain(index.status);
  if (index.status === 503) expect((await problemOf(index)).detail).toMatch(/npm run build/);
  else expect(await index.text()).toContain('<div id="app">');
  const missing = await problemOf(await t.request('/console/not-there.js'));
  expect(missing.status).toBe(404);
  expect((await problemOf(await t.request('/v1/topics'))).status).toBe(401);
});
