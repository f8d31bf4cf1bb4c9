import { afterEach, expect, it } from 'vitest';
import { problemOf, openTestApp, type TestApp } from './http-test-support.ts';

let t: TestApp;
afterEach(() => t.close());

async function setup(): Promise<void> {
  t = await openTestApp();
  await t.request('/v1/topics', { json: { name: 'orders', partitions: 2 } });
  const records = Array.from({ length: 10 }, (_, i) => ({ value: i, partition: i % 2, timestamp: 1_000_000 + i }));
  await t.request('/v1/topics/orders/records', { json: { records } });
}

it('commits offsets, lists and describes the group with lag, and resets it for replay', async () => {
  await setup();
  const committed = await t.request('/v1/groups/billing/offsets', { json: { topic: 'orders', partitions: [{ partition: 0, offset: 2 }, { partition: 1, offset: 5, metadata: 'm' }] } });
  expect(committed.status).toBe(200);
  expect((await (await t.request('/v1/groups')).json()).groups.map((g: { groupId: string }) => g.groupId)).toEqual(['billing']);
  const described = await (await t.request('/v1/groups/billing')).json();
  expect(described.offsets.map((o: { partition: number; committedOffset: number; lag: number }) => [o.partition, o.committedOffset, o.lag])).toEqual([
    [0, 2, 3],
    [1, 5, 0],
  ]);
  expect(described.totalLag).toBe(3);
  const metrics = await (await t.request('/metrics')).text();
  expect(metrics).toContain('rill_group_lag{group="billing",partition="0",topic="orders"} 3');

  const resets: [unknown, number[]][] = [
    ['earliest', [0, 0]],
    ['latest', [5, 5]],
    [{ timestamp: 1_000_004 }, [2, 2]],
    [{ offsets: { '1': 1 } }, [2, 1]],
  ];
  for (const [to, expected] of resets) {
    const reset = await t.request('/v1/groups/billing/reset', { json: { topic: 'orders', to } });
    expect(reset.status).toBe(200);
    const offsets = (await (await t.request('/v1/groups/billing')).json()).offsets.map((o: { committedOffset: number }) => o.committedOffset);
    expect(offsets).toEqual(expected);
  }
});

const rejections: [string, string, unknown, number][] = [
  ['a commit without partitions', '/v1/groups/g/offsets', { topic: 'orders' }, 400],
  ['a commit with a negative offset', '/v1/groups/g/offsets', { topic: 'orders', partitions: [{ partition: 0, offset: -3 }] }, 400],
  ['a commit to an unknown topic', '/v1/groups/g/offsets', { topic: 'nope', partitions: [{ partition: 0, offset: 1 }] }, 404],
  ['a commit to an unknown partition', '/v1/groups/g/offsets', { topic: 'orders', partitions: [{ partition: 7, offset: 1 }] }, 404],
  ['a reset to nowhere', '/v1/groups/g/reset', { topic: 'orders', to: 'middle' }, 400],
  ['a reset of an unknown topic', '/v1/groups/g/reset', { topic: 'nope', to: 'earliest' }, 404],
  ['a bad group id', '/v1/groups/a%20b/reset', { topic: 'orders', to: 'earliest' }, 400],
];
it.each(rejections)('rejects %s', async (_name, path, json, status) => {
  await setup();
  expect((await problemOf(await t.request(path, { json }))).status).toBe(status);
});

it('answers 404 for an unknown group', async () => {
  await setup();
  expect((await problemOf(await t.request('/v1/groups/ghost'))).status).toBe(404);
});
