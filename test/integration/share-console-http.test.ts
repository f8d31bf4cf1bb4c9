import { afterEach, describe, expect, it } from 'vitest';
import { AclOperation, AclPermission, PatternType, ResourceType } from '../../broker/auth/acl.ts';
import { openTestApp, problemOf, type TestApp } from '../unit/broker/http/http-test-support.ts';

const tokens = [
  { name: 'ops', token: 'ops-token', acls: [{ topics: '*', operations: ['read' as const, 'write' as const, 'admin' as const] }] },
  { name: 'watcher', token: 'watcher-token', acls: [{ topics: '*', operations: ['read' as const] }] },
];
const as = (token: string) => ({ authorization: `Bearer ${token}` });

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('GET /v1/share-groups and /v1/share-groups/{group}/partitions', () => {
  it("lists share groups and each share partition's window, showing a token only the groups it may describe and the topics it may see", async () => {
    t = await openTestApp({ tokens }, undefined, { authorizer: { superUsers: ['User:ops'] }, shareGroups: { defaults: { autoOffsetReset: 'earliest', deliveryCountLimit: 2 } } });
    const test = t;
    for (const topic of ['tasks', 'secret']) await test.broker.createTopic(topic, { partitions: 1 });
    for (const topic of ['tasks', 'secret']) {
      const produced = await test.request(`/v1/topics/${topic}/records`, { json: { records: Array.from({ length: 6 }, (_, i) => ({ value: `${topic}-${i}` })) }, headers: as('ops-token') });
      expect(produced.status).toBe(200);
    }
    const joined = await (await test.request('/v1/share-groups/workers/members', { json: { topics: ['tasks', 'secret'] }, headers: as('ops-token') })).json();
    const member = `/v1/share-groups/workers/members/${joined.memberId}`;
    const fetched = await (await test.request(`${member}/fetch`, { json: { maxRecords: 12 }, headers: as('ops-token') })).json();
    expect(fetched.records.filter((r: { topic: string }) => r.topic === 'tasks').map((r: { offset: number }) => r.offset)).toEqual([0, 1, 2, 3, 4, 5]);
    const acked = await test.request(`${member}/acknowledgements`, {
      json: {
        acknowledgements: [
          { topic: 'tasks', partition: 0, firstOffset: 0, lastOffset: 1, type: 'accept' },
          { topic: 'tasks', partition: 0, firstOffset: 5, lastOffset: 5, type: 'reject' },
          { topic: 'tasks', partition: 0, firstOffset: 3, lastOffset: 3, type: 'release' },
        ],
      },
      headers: as('ops-token'),
    });
    expect(acked.status).toBe(200);

    expect(await (await test.request('/v1/share-groups', { headers: as('ops-token') })).json()).toEqual({ groups: [{ groupId: 'workers', groupState: 'Stable', members: 1 }] });
    const seen = await (await test.request('/v1/share-groups/workers/partitions', { headers: as('ops-token') })).json();
    expect(seen.deadLetterTopic).toBe('workers-dlq');
    const tasks = seen.partitions.find((p: { topic: string }) => p.topic === 'tasks');
    // 0-1 accepted (the start moves past them), 5 rejected (archived, to the dead-letter topic), 3 released (available, delivered once), 2 and 4 still acquired.
    expect(tasks).toMatchObject({ partition: 0, startOffset: 2, endOffset: 6, highWatermark: 6, available: 1, acquired: 2, acknowledged: 0, archived: 1, lag: 3, deliveryCounts: { 1: 4 }, truncated: false });
    expect(seen.partitions.map((p: { topic: string }) => p.topic)).toEqual(['secret', 'tasks']);

    // The broker grants the watcher nothing on the group: it sees no share group.
    expect(await (await test.request('/v1/share-groups', { headers: as('watcher-token') })).json()).toEqual({ groups: [] });
    const denied = (await problemOf(await test.request('/v1/share-groups/workers/partitions', { headers: as('watcher-token') }))) as { status: number; kafkaError?: string };
    expect([denied.status, denied.kafkaError]).toEqual([403, 'GROUP_AUTHORIZATION_FAILED']);

    const allow = (resourceType: 2 | 3, resourceName: string) => ({ resourceType, resourceName, patternType: PatternType.LITERAL, principal: 'User:watcher', host: '*', operation: AclOperation.DESCRIBE, permissionType: AclPermission.ALLOW });
    await test.broker.authorizer!.createAcls([allow(ResourceType.GROUP, 'workers'), allow(ResourceType.TOPIC, 'tasks')]);
    expect((await (await test.request('/v1/share-groups', { headers: as('watcher-token') })).json()).groups.map((g: { groupId: string }) => g.groupId)).toEqual(['workers']);
    const watched = await (await test.request('/v1/share-groups/workers/partitions', { headers: as('watcher-token') })).json();
    expect(watched.partitions.map((p: { topic: string }) => p.topic)).toEqual(['tasks']);
    // It may not describe the dead-letter topic: no count.
    expect(watched.deadLettered).toBeNull();

    expect((await problemOf(await test.request('/v1/share-groups/nobody/partitions', { headers: as('ops-token') }))).status).toBe(404);
    expect((await problemOf(await test.request('/v1/share-groups/no%20body/partitions', { headers: as('ops-token') }))).status).toBe(400);
  });
});
