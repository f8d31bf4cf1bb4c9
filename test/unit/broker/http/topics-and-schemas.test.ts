import { afterEach, describe, expect, it } from 'vitest';
import { backwardCompatibilityErrors } from '../../../../broker/http/schema-compatibility.ts';
import { problemOf, openTestApp, type TestApp } from './http-test-support.ts';

let t: TestApp;
afterEach(() => t?.close());

describe('topic administration', () => {
  it('creates, lists, describes, grows, reconfigures and deletes a topic', async () => {
    t = await openTestApp();
    const created = await t.request('/v1/topics', { json: { name: 'events', partitions: 2, config: { 'retention.ms': 60000 } } });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/v1/topics/events');
    expect(await (await t.request('/v1/topics')).json()).toEqual({ topics: ['events'] });
    const described = await (await t.request('/v1/topics/events')).json();
    expect(described.partitions).toHaveLength(2);
    expect(described.configs).toContainEqual({ name: 'retention.ms', value: '60000', isDefault: false });
    expect((await (await t.request('/v1/topics/events/partitions', { json: { count: 4 } })).json()).partitions).toHaveLength(4);
    const patched = await (await t.request('/v1/topics/events/config', { method: 'PATCH', json: { 'retention.ms': null, 'segment.ms': '1000' } })).json();
    expect(patched.configs).toContainEqual({ name: 'retention.ms', value: '604800000', isDefault: true });
    expect(patched.configs).toContainEqual({ name: 'segment.ms', value: '1000', isDefault: false });
    expect((await t.request('/v1/topics/events', { method: 'DELETE' })).status).toBe(204);
    expect(t.broker.hasTopic('events')).toBe(false);
    expect((await problemOf(await t.request('/v1/topics/events'))).status).toBe(404);
  });

  const rejections: [string, string, RequestInit & { json?: unknown }, number][] = [
    ['a create without a name', '/v1/topics', { json: { partitions: 1 } }, 400],
    ['a create of an existing topic', '/v1/topics', { json: { name: 'base' } }, 409],
    ['a create with an illegal name', '/v1/topics', { json: { name: 'a/b' } }, 400],
    ['a create of an internal name', '/v1/topics', { json: { name: '__mine' } }, 403],
    ['a create with an unknown config', '/v1/topics', { json: { name: 'x', config: { 'no.such': '1' } } }, 400],
    ['a create with zero partitions', '/v1/topics', { json: { name: 'x', partitions: 0 } }, 400],
    ['a create with a non-integer partition count', '/v1/topics', { json: { name: 'x', partitions: 'two' } }, 400],
    ["a create past the broker's partition limit", '/v1/topics', { json: { name: 'x', partitions: 3999 } }, 409],
    ["growing past the broker's partition limit", '/v1/topics/base/partitions', { json: { count: 4001 } }, 409],
    ['a create as text', '/v1/topics', { method: 'POST', body: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415],
    ['shrinking partitions', '/v1/topics/base/partitions', { json: { count: 1 } }, 400],
    ['a partitions body without count', '/v1/topics/base/partitions', { json: {} }, 400],
    ['growing an unknown topic', '/v1/topics/nope/partitions', { json: { count: 3 } }, 404],
    ['a config value that is not a string', '/v1/topics/base/config', { method: 'PATCH', json: { 'retention.ms': true } }, 400],
    ['an invalid config value', '/v1/topics/base/config', { method: 'PATCH', json: { 'retention.ms': 'soon' } }, 400],
    ['deleting an unknown topic', '/v1/topics/nope', { method: 'DELETE' }, 404],
  ];
  it.each(rejections)('rejects %s', async (_name, path, init, status) => {
    t = await openTestApp();
    await t.request('/v1/topics', { json: { name: 'base', partitions: 2 } });
    expect((await problemOf(await t.request(path, init))).status).toBe(status);
    expect(t.broker.listTopics()).toEqual(['base']);
    expect(t.broker.describeTopic('base').partitions).toHaveLength(2);
  });
});

const v1 = {
  type: 'object',
  properties: { id: { type: 'integer' }, status: { enum: ['new', 'paid'] }, note: { type: 'string', maxLength: 10 } },
  required: ['id'],
};

describe('schemas', () => {
  it('rejects records that do not validate with 422 and every error, appending none of the request', async () => {
    t = await openTestApp();
    await t.request('/v1/topics', { json: { name: 'orders' } });
    const registered = await t.request('/v1/topics/orders/schemas', { json: { schema: v1 } });
    expect(registered.status).toBe(201);
    expect(await registered.json()).toMatchObject({ version: 1, schema: v1 });
    expect((await t.request('/v1/topics/orders/records', { json: { records: [{ value: { id: 1, status: 'new' } }] } })).status).toBe(200);
    const bad = await problemOf(
      await t.request('/v1/topics/orders/records', {
        json: { records: [{ value: { id: 2 } }, { value: { id: 'x', status: 'lost', note: 'far too long a note' } }, { value: { status: 'new' } }] },
      }),
    );
    expect(bad.status).toBe(422);
    expect(bad.errors?.map((e) => e.path).sort()).toEqual(['/records/1/value/id', '/records/1/value/note', '/records/1/value/status', '/records/2/value']);
    expect(t.broker.describeTopic('orders').partitions[0]!.logEndOffset).toBe(1);
    const binary = await problemOf(await t.request('/v1/topics/orders/records', { msgpack: { records: [{ value: new Uint8Array([0xff]) }] } }));
    expect(binary.status).toBe(422);
  });

  it('keeps versions, accepts a backward-compatible one and refuses an incompatible one', async () => {
    t = await openTestApp();
    await t.request('/v1/topics', { json: { name: 'orders' } });
    await t.request('/v1/topics/orders/schemas', { json: { schema: v1 } });
    const v2 = { ...v1, properties: { ...v1.properties, status: { enum: ['new', 'paid', 'shipped'] }, extra: { type: 'string' } } };
    expect((await t.request('/v1/topics/orders/schemas', { json: { schema: v2 } })).status).toBe(201);
    const incompatible = await problemOf(await t.request('/v1/topics/orders/schemas', { json: { schema: { ...v2, required: ['id', 'extra'] } } }));
    expect(incompatible.status).toBe(409);
    expect(incompatible.errors).toEqual([{ message: '/required: "extra" is newly required' }]);
    expect((await (await t.request('/v1/topics/orders/schemas')).json()).versions.map((v: { version: number }) => v.version)).toEqual([1, 2]);
    expect((await (await t.request('/v1/topics/orders/schemas/latest')).json()).version).toBe(2);
    expect((await (await t.request('/v1/topics/orders/schemas/1')).json()).schema).toEqual(v1);
    expect((await problemOf(await t.request('/v1/topics/orders/schemas/9'))).status).toBe(404);
    expect((await problemOf(await t.request('/v1/topics/orders/schemas', { json: { schema: { type: 'nonsense' } } }))).status).toBe(422);
    expect((await problemOf(await t.request('/v1/topics/orders/schemas', { json: { nope: 1 } }))).status).toBe(400);
    expect((await problemOf(await t.request('/v1/topics/nope/schemas', { json: { schema: v1 } }))).status).toBe(404);
  });

  it('survives a restart: schemas replay from __http_schemas', async () => {
    t = await openTestApp();
    await t.request('/v1/topics', { json: { name: 'orders' } });
    await t.request('/v1/topics/orders/schemas', { json: { schema: v1 } });
    await t.close(false);
    t = await openTestApp({}, t.dataDir);
    expect((await (await t.request('/v1/topics/orders/schemas/latest')).json()).schema).toEqual(v1);
    expect((await problemOf(await t.request('/v1/topics/orders/records', { json: { records: [{ value: {} }] } }))).status).toBe(422);
    expect((await t.request('/v1/topics/orders', { method: 'DELETE' })).status).toBe(204);
    await t.request('/v1/topics', { json: { name: 'orders' } });
    expect((await (await t.request('/v1/topics/orders/schemas')).json()).versions).toEqual([]);
  });
});

describe('backwardCompatibilityErrors', () => {
  const cases: [string, unknown, unknown, number][] = [
    ['identical', v1, v1, 0],
    ['widened type', { type: 'integer' }, { type: ['number', 'null'] }, 0],
    ['narrowed type', { type: ['string', 'null'] }, { type: 'string' }, 1],
    ['added type', {}, { type: 'string' }, 1],
    ['extended enum', { enum: [1, 2] }, { enum: [1, 2, 3] }, 0],
    ['shrunk enum', { enum: [1, 2] }, { enum: [1] }, 1],
    ['removed property', v1, { ...v1, properties: { id: { type: 'integer' } } }, 2],
    ['new required', v1, { ...v1, required: ['id', 'status'] }, 1],
    ['dropped required', v1, { ...v1, required: [] }, 0],
    ['tighter maxLength', { maxLength: 10 }, { maxLength: 5 }, 1],
    ['looser minimum', { minimum: 5 }, { minimum: 1 }, 0],
    ['additionalProperties false', { type: 'object' }, { type: 'object', additionalProperties: false }, 1],
    ['changed pattern', { pattern: 'a' }, { pattern: 'b' }, 1],
    ['items narrowed', { type: 'array', items: { type: ['string', 'integer'] } }, { type: 'array', items: { type: 'string' } }, 1],
    ['to true', v1, true, 0],
    ['to false', v1, false, 1],
  ];
  it.each(cases)('%s', (_name, before, after, count) => {
    expect(backwardCompatibilityErrors(before, after)).toHaveLength(count);
  });
});
