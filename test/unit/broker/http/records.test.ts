import { decode } from '@msgpack/msgpack';
import { Partitioners } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { problemOf, openTestApp, type TestApp } from './http-test-support.ts';

let t: TestApp;
afterEach(() => t.close());

async function setup(partitions = 3): Promise<void> {
  t = await openTestApp({ maxBodyBytes: 64 * 1024, maxRecordsPerRequest: 50 });
  expect((await t.request('/v1/topics', { json: { name: 'orders', partitions } })).status).toBe(201);
}

function endOffsets(topic = 'orders'): number[] {
  return t.broker.describeTopic(topic).partitions.map((p) => p.logEndOffset);
}

describe('POST /v1/topics/{topic}/records', () => {
  it('answers 422 for a record timestamp outside the topic\'s message.timestamp bounds, appending none of the request', async () => {
    t = await openTestApp();
    const created = await t.request('/v1/topics', { json: { name: 'bounded', partitions: 1, config: { 'message.timestamp.after.max.ms': '60000' } } });
    expect(created.status).toBe(201);
    const response = await t.request('/v1/topics/bounded/records', { json: { records: [{ value: 1 }, { value: 2, timestamp: Date.now() + 3_600_000 }] } });
    const problem = await problemOf(response);
    expect([problem.status, problem.detail]).toEqual([422, expect.stringMatching(/out of range.*message\.timestamp\.after\.max\.ms 60000/)]);
    expect(endOffsets('bounded')).toEqual([0]);
  });

  it('appends JSON records and returns partition and offset per record, in request order', async () => {
    await setup();
    const response = await t.request('/v1/topics/orders/records', {
      json: { records: [{ value: { n: 1 }, partition: 2 }, { value: 'two', partition: 2, headers: { a: 'b' } }, { value: null, partition: 0 }] },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ records: [{ partition: 2, offset: 0 }, { partition: 2, offset: 1 }, { partition: 0, offset: 0 }] });
    const read = await (await t.request('/v1/topics/orders/partitions/2/records')).json();
    expect(read.records.map((r: { value: unknown; headers: unknown }) => [r.value, r.headers])).toEqual([
      [{ n: 1 }, []],
      ['two', [{ key: 'a', value: 'b' }]],
    ]);
    expect(read).toMatchObject({ nextOffset: 2, highWatermark: 2 });
  });

  it('places keyed records on the partition Kafka\'s default (murmur2) partitioner picks', async () => {
    await setup(7);
    const keys = Array.from({ length: 40 }, (_, i) => `customer-${i}`);
    const response = await t.request('/v1/topics/orders/records', { json: { records: keys.map((key) => ({ key, value: 1 })) } });
    const { records } = (await response.json()) as { records: { partition: number }[] };
    const partitioner = Partitioners.DefaultPartitioner();
    const partitionMetadata = Array.from({ length: 7 }, (_, i) => ({ partitionId: i, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
    const expected = keys.map((key) => partitioner({ topic: 'orders', partitionMetadata, message: { key, value: '1' } }));
    expect(records.map((r) => r.partition)).toEqual(expected);
  });

  it('puts the keyless records of one request on one partition', async () => {
    await setup(5);
    const response = await t.request('/v1/topics/orders/records', { json: { records: [{ value: 1 }, { value: 2 }, { value: 3 }] } });
    const { records } = (await response.json()) as { records: { partition: number; offset: number }[] };
    expect(new Set(records.map((r) => r.partition)).size).toBe(1);
    expect(records.map((r) => r.offset)).toEqual([0, 1, 2]);
  });

  it('takes msgpack with binary values and keys and answers msgpack when asked', async () => {
    await setup(1);
    const value = new Uint8Array([0, 255, 1, 254]);
    const response = await t.request('/v1/topics/orders/records', {
      msgpack: { records: [{ key: new Uint8Array([255, 2]), value, headers: [{ key: 'h', value: new Uint8Array([9]) }] }, { key: 'k', value: { json: true } }] },
      headers: { accept: 'application/msgpack' },
    });
    expect(response.headers.get('content-type')).toBe('application/msgpack');
    expect(decode(new Uint8Array(await response.arrayBuffer()))).toEqual({ records: [{ partition: 0, offset: 0 }, { partition: 0, offset: 1 }] });
    const read = decode(new Uint8Array(await (await t.request('/v1/topics/orders/partitions/0/records', { headers: { accept: 'application/msgpack' } })).arrayBuffer())) as {
      records: { key: Uint8Array; value: Uint8Array; headers: { key: string; value: Uint8Array }[] }[];
    };
    expect(read.records[0]!.value).toEqual(value);
    expect(read.records[0]!.key).toEqual(new Uint8Array([255, 2]));
    expect(read.records[0]!.headers).toEqual([{ key: 'h', value: new Uint8Array([9]) }]);
    expect(new TextDecoder().decode(read.records[1]!.value)).toBe('{"json":true}');
    const json = await (await t.request('/v1/topics/orders/partitions/0/records')).json();
    expect(json.records[0]).toMatchObject({ key: '/wI=', keyEncoding: 'base64', value: 'AP8B/g==', valueEncoding: 'base64' });
  });

  it('honours the acks query parameter and rejects a bad one', async () => {
    await setup(1);
    for (const acks of ['all', '-1', '1', 'leader', '0', 'none']) {
      expect((await t.request(`/v1/topics/orders/records?acks=${acks}`, { json: { records: [{ value: acks }] } })).status).toBe(200);
    }
    const bad = await problemOf(await t.request('/v1/topics/orders/records?acks=2', { json: { records: [{ value: 1 }] } }));
    expect(bad.status).toBe(400);
    expect(endOffsets()).toEqual([6]);
  });

  const rejections: [string, () => Promise<Response>, number][] = [
    ['an unknown topic', () => t.request('/v1/topics/nope/records', { json: { records: [{ value: 1 }] } }), 404],
    ['an internal topic', () => t.request('/v1/topics/__http_schemas/records', { json: { records: [{ value: 1 }] } }), 404],
    ['a text/plain body', () => t.request('/v1/topics/orders/records', { body: '{"records":[]}', method: 'POST', headers: { 'content-type': 'text/plain' } }), 415],
    ['no content type', () => t.request('/v1/topics/orders/records', { body: new Uint8Array([1]), method: 'POST' }), 415],
    ['malformed JSON', () => t.request('/v1/topics/orders/records', { body: '{"records": [', method: 'POST', headers: { 'content-type': 'application/json' } }), 400],
    ['malformed msgpack', () => t.request('/v1/topics/orders/records', { body: new Uint8Array([0xc1]), method: 'POST', headers: { 'content-type': 'application/msgpack' } }), 400],
    ['a body that is not {records}', () => t.request('/v1/topics/orders/records', { json: [1, 2] }), 400],
    ['a record with a bad field', () => t.request('/v1/topics/orders/records', { json: { records: [{ value: 1 }, { value: 2, key: 5, partition: -1, extra: 1 }] } }), 400],
    ['too many records', () => t.request('/v1/topics/orders/records', { json: { records: Array.from({ length: 51 }, () => ({ value: 1 })) } }), 400],
    ['a body over the limit', () => t.request('/v1/topics/orders/records', { json: { records: [{ value: 'x'.repeat(70_000) }] } }), 413],
    ['a partition that does not exist', () => t.request('/v1/topics/orders/records', { json: { records: [{ value: 1, partition: 0 }, { value: 1, partition: 3 }] } }), 422],
    ['an empty Idempotency-Key', () => t.request('/v1/topics/orders/records', { json: { records: [{ value: 1 }] }, headers: { 'idempotency-key': '' } }), 400],
  ];
  it.each(rejections)('rejects %s as problem+json and appends nothing', async (_name, send, status) => {
    await setup();
    const problem = await problemOf(await send());
    expect(problem.status).toBe(status);
    expect(problem.type).toMatch(/^https:\/\/rill\.dev\/problems\//);
    expect(endOffsets()).toEqual([0, 0, 0]);
  });

  it('lists every field error of a malformed record', async () => {
    await setup();
    const problem = await problemOf(await t.request('/v1/topics/orders/records', { json: { records: [{ value: 1 }, { value: 2, key: 5, partition: -1, extra: 1 }] } }));
    expect(problem.errors?.map((e) => e.path).sort()).toEqual(['/records/1/extra', '/records/1/key', '/records/1/partition']);
  });

  it('rejects a streamed body over the limit without a Content-Length', async () => {
    await setup();
    const chunk = new Uint8Array(40 * 1024).fill(0x20);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(chunk);
        controller.enqueue(chunk);
        controller.close();
      },
    });
    const response = await t.request('/v1/topics/orders/records', { method: 'POST', body, headers: { 'content-type': 'application/json' }, duplex: 'half' } as RequestInit);
    expect((await problemOf(response)).status).toBe(413);
  });

  it('rejects a partition batch larger than max.message.bytes with 413, before appending any partition', async () => {
    t = await openTestApp();
    await t.request('/v1/topics', { json: { name: 'small', partitions: 2, config: { 'max.message.bytes': '2000' } } });
    const response = await t.request('/v1/topics/small/records', { json: { records: [{ value: 'ok', partition: 0 }, { value: 'y'.repeat(3000), partition: 1 }] } });
    expect((await problemOf(response)).status).toBe(413);
    expect(endOffsets('small')).toEqual([0, 0]);
  });
});

describe('GET /v1/topics/{topic}/partitions/{p}/records', () => {
  async function produce(count: number, timestampOf: (i: number) => number): Promise<void> {
    const records = Array.from({ length: count }, (_, i) => ({ value: i, partition: 0, timestamp: timestampOf(i) }));
    expect((await t.request('/v1/topics/orders/records', { json: { records } })).status).toBe(200);
  }

  it('reads from an offset with a limit, and from a timestamp', async () => {
    await setup(1);
    await produce(10, (i) => 1_000_000 + i * 10);
    await produce(5, (i) => 2_000_000 + i);
    const page = await (await t.request('/v1/topics/orders/partitions/0/records?offset=3&limit=4')).json();
    expect(page.records.map((r: { offset: number; value: number }) => [r.offset, r.value])).toEqual([[3, 3], [4, 4], [5, 5], [6, 6]]);
    expect(page.nextOffset).toBe(7);
    const next = await (await t.request(`/v1/topics/orders/partitions/0/records?offset=${page.nextOffset}&limit=100`)).json();
    expect(next.records.map((r: { offset: number }) => r.offset)).toEqual([7, 8, 9, 10, 11, 12, 13, 14]);
    const byTime = await (await t.request('/v1/topics/orders/partitions/0/records?timestamp=1000045&limit=2')).json();
    expect(byTime.records.map((r: { offset: number; timestamp: number }) => [r.offset, r.timestamp])).toEqual([[5, 1_000_050], [6, 1_000_060]]);
    const future = await (await t.request('/v1/topics/orders/partitions/0/records?timestamp=9000000')).json();
    expect(future).toEqual({ records: [], nextOffset: 15, highWatermark: 15 });
    const latest = await (await t.request('/v1/topics/orders/partitions/0/records?offset=latest&isolation=read_uncommitted')).json();
    expect(latest.records).toEqual([]);
  });

  it('waits up to maxWaitMs for a first record and returns it when it is appended', async () => {
    await setup(1);
    const pending = t.request('/v1/topics/orders/partitions/0/records?offset=0&maxWaitMs=30000');
    await t.request('/v1/topics/orders/records', { json: { records: [{ value: 'late' }] } });
    expect((await (await pending).json()).records.map((r: { value: string }) => r.value)).toEqual(['late']);
  });

  const rejections: [string, string, number][] = [
    ['an unknown topic', '/v1/topics/nope/partitions/0/records', 404],
    ['an unknown partition', '/v1/topics/orders/partitions/3/records', 404],
    ['a partition that is not a number', '/v1/topics/orders/partitions/x/records', 404],
    ['offset and timestamp together', '/v1/topics/orders/partitions/0/records?offset=0&timestamp=1', 400],
    ['a negative offset', '/v1/topics/orders/partitions/0/records?offset=-1', 400],
    ['a zero limit', '/v1/topics/orders/partitions/0/records?limit=0', 400],
    ['an unknown isolation', '/v1/topics/orders/partitions/0/records?isolation=dirty', 400],
    ['an unknown route', '/v1/nothing', 404],
  ];
  it.each(rejections)('rejects %s', async (_name, path, status) => {
    await setup();
    expect((await problemOf(await t.request(path))).status).toBe(status);
  });
});

describe('DELETE /v1/topics/{topic}/partitions/{p}/records', () => {
  it('deletes the records below an offset, durably, and refuses offsets past the high watermark', async () => {
    await setup(1);
    await t.request('/v1/topics/orders/records', { json: { records: Array.from({ length: 6 }, (_, n) => ({ value: n })) } });
    const deleted = await t.request('/v1/topics/orders/partitions/0/records?before=4', { method: 'DELETE' });
    expect(deleted.status).toBe(200);
    expect(await deleted.json()).toEqual({ partition: 0, logStartOffset: 4 });
    const read = await (await t.request('/v1/topics/orders/partitions/0/records')).json();
    expect(read.records.map((r: { offset: number; value: unknown }) => [r.offset, r.value])).toEqual([
      [4, 4],
      [5, 5],
    ]);

    const past = await t.request('/v1/topics/orders/partitions/0/records?before=7', { method: 'DELETE' });
    expect(await problemOf(past)).toMatchObject({ status: 400, detail: expect.stringMatching(/high watermark 6/) });
    expect((await problemOf(await t.request('/v1/topics/orders/partitions/0/records', { method: 'DELETE' }))).status).toBe(400);
    expect((await problemOf(await t.request('/v1/topics/orders/partitions/0/records?before=-1', { method: 'DELETE' }))).status).toBe(400);
    expect((await problemOf(await t.request('/v1/topics/orders/partitions/3/records?before=1', { method: 'DELETE' }))).status).toBe(404);

    const dataDir = t.dataDir;
    await t.close(false);
    t = await openTestApp({}, dataDir);
    expect(t.broker.describeTopic('orders').partitions[0]!.logStartOffset).toBe(4);
    const latest = await t.request('/v1/topics/orders/partitions/0/records?before=latest', { method: 'DELETE' });
    expect(await latest.json()).toEqual({ partition: 0, logStartOffset: 6 });
    expect(t.broker.describeTopic('orders').partitions[0]!.logStartOffset).toBe(6);
  });
});
