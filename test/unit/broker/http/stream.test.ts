import { afterEach, expect, it } from 'vitest';
import { problemOf, openTestApp, type TestApp } from './http-test-support.ts';
import { SseReader } from './sse-reader.ts';

let t: TestApp;
afterEach(() => t.close());

async function setup(options = {}): Promise<void> {
  t = await openTestApp(options);
  await t.request('/v1/topics', { json: { name: 'orders', partitions: 2 } });
  await t.request('/v1/topics/orders/records', { json: { records: [{ value: 'a', partition: 1 }, { value: 'b', partition: 1 }] } });
}

const produce = (value: string): Promise<Response> => t.request('/v1/topics/orders/records', { json: { records: [{ value, partition: 1 }] } });

it('tails a partition from an offset, delivers new appends, and resumes after Last-Event-ID without gaps or duplicates', async () => {
  await setup();
  const response = await t.request('/v1/topics/orders/partitions/1/stream?offset=0');
  expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
  const events = new SseReader(response.body!);
  expect(await events.next()).toMatchObject({ event: 'record', id: '1:0', data: { offset: 0, value: 'a' } });
  expect(await events.next()).toMatchObject({ id: '1:1', data: { value: 'b' } });
  await produce('c');
  const live = await events.next();
  expect(live).toMatchObject({ id: '1:2', data: { value: 'c' } });
  await events.cancel();

  await produce('d');
  await produce('e');
  const resumed = await t.request('/v1/topics/orders/partitions/1/stream?offset=0', { headers: { 'last-event-id': live.id } });
  const again = new SseReader(resumed.body!);
  expect((await again.next()).id).toBe('1:3');
  expect((await again.next()).id).toBe('1:4');
  await again.cancel();
});

it('starts at the latest offset by default and at a timestamp when asked', async () => {
  await setup();
  const latest = new SseReader((await t.request('/v1/topics/orders/partitions/1/stream')).body!);
  await produce('new');
  expect(await latest.next()).toMatchObject({ id: '1:2', data: { value: 'new' } });
  await latest.cancel();
  const ts = Date.now() + 60_000;
  await t.request('/v1/topics/orders/records', { json: { records: [{ value: 'future', partition: 1, timestamp: ts }] } });
  const byTime = new SseReader((await t.request(`/v1/topics/orders/partitions/1/stream?timestamp=${ts}`)).body!);
  expect(await byTime.next()).toMatchObject({ id: '1:3', data: { value: 'future' } });
  await byTime.cancel();
});

it('rejects a Last-Event-ID of another partition, an unknown partition, and streams past the bound', async () => {
  await setup({ maxStreams: 1 });
  expect((await problemOf(await t.request('/v1/topics/orders/partitions/1/stream', { headers: { 'last-event-id': '0:5' } }))).status).toBe(400);
  expect((await problemOf(await t.request('/v1/topics/orders/partitions/9/stream'))).status).toBe(404);
  const open = new SseReader((await t.request('/v1/topics/orders/partitions/1/stream?offset=0')).body!);
  await open.next();
  const refused = await t.request('/v1/topics/orders/partitions/0/stream');
  expect((await problemOf(refused)).status).toBe(503);
  expect(refused.headers.get('retry-after')).toBe('5');
  await open.cancel();
  const metrics = await (await t.request('/metrics')).text();
  expect(metrics).toMatch(/^rill_http_sse_streams 0$/m);
});

it('ends open tails when the app closes', async () => {
  await setup();
  const response = await t.request('/v1/topics/orders/partitions/1/stream');
  const reader = response.body!.getReader();
  await reader.read();
  t.http.close();
  for (;;) if ((await reader.read()).done) break;
});
