import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AclOperation, AclPermission, PatternType, ResourceType } from '../../../../broker/auth/acl.ts';
import { AUDIT_LOG_FILE } from '../../../../broker/auth/audit-log.ts';
import { openTestApp, problemOf, type TestApp } from './http-test-support.ts';

const tokens = [
  { name: 'writer', token: 'writer-token', acls: [{ topics: '*', operations: ['read' as const, 'write' as const] }] },
  { name: 'capped', token: 'capped-token', acls: [{ topics: 'other', operations: ['write' as const] }] },
  { name: 'root', token: 'root-token-1', acls: [{ topics: '*', operations: ['read' as const, 'write' as const, 'admin' as const] }] },
];
const as = (token: string): { authorization: string } => ({ authorization: `Bearer ${token}` });
const acl = (principal: string, resourceName: string, operation: (typeof AclOperation)[keyof typeof AclOperation], host = '*', resourceType: 2 | 3 | 4 = ResourceType.TOPIC) => ({
  resourceType,
  resourceName,
  patternType: PatternType.LITERAL,
  principal,
  host,
  operation,
  permissionType: AclPermission.ALLOW,
});

describe('HTTP tokens under the broker ACLs', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('checks User:<token name> against the same ACLs as the Kafka listener, on top of the token acls', async () => {
    t = await openTestApp({ tokens }, undefined, { authorizer: { superUsers: ['User:root'] } });
    const app = t;
    expect((await app.request('/v1/topics', { json: { name: 'orders' }, headers: as('root-token-1') })).status).toBe(201);
    expect((await app.request('/v1/topics', { json: { name: 'other' }, headers: as('root-token-1') })).status).toBe(201);
    await app.broker.authorizer!.createAcls([
      acl('User:writer', 'orders', AclOperation.WRITE, '10.0.0.1'),
      // Granted, but only from another address than the test client's 10.0.0.1.
      acl('User:writer', 'other', AclOperation.WRITE, '10.9.9.9'),
      acl('User:capped', 'orders', AclOperation.WRITE),
    ]);
    const produce = (topic: string, token: string) => app.request(`/v1/topics/${topic}/records`, { json: { records: [{ value: 1 }] }, headers: as(token) });
    expect((await produce('orders', 'writer-token')).status).toBe(200);
    expect((await problemOf(await produce('other', 'writer-token'))).status).toBe(403);
    // The broker ACL grants orders, but the token's own acls only allow "other".
    expect((await problemOf(await produce('orders', 'capped-token'))).status).toBe(403);
    // Write implies Describe, not Read: reading is refused.
    expect((await problemOf(await app.request('/v1/topics/orders/partitions/0/records', { headers: as('writer-token') }))).status).toBe(403);
    expect(app.broker.describeTopic('orders').partitions[0]!.logEndOffset).toBe(1);
    expect(app.broker.describeTopic('other').partitions[0]!.logEndOffset).toBe(0);
    expect(await (await app.request('/v1/topics', { headers: as('writer-token') })).json()).toEqual({ topics: ['orders'] });
    expect((await problemOf(await app.request('/v1/topics/orders', { method: 'DELETE', headers: as('writer-token') }))).status).toBe(403);
    expect(app.broker.hasTopic('orders')).toBe(true);

    await app.broker.authorizer!.createAcls([acl('User:writer', 'orders', AclOperation.READ)]);
    expect((await app.request('/v1/topics/orders/partitions/0/records', { headers: as('writer-token') })).status).toBe(200);

    const audit = readFileSync(join(app.dataDir, AUDIT_LOG_FILE), 'utf8');
    expect(audit).toContain('"principal":"User:writer","host":"10.0.0.1","apiKey":-1,"resourceType":2,"resourceName":"other"');
  });

  it('without tokens, requests are User:ANONYMOUS', async () => {
    t = await openTestApp({}, undefined, { authorizer: {} });
    const app = t;
    await app.broker.createTopic('orders');
    const produce = () => app.request('/v1/topics/orders/records', { json: { records: [{ value: 1 }] } });
    expect((await problemOf(await produce())).status).toBe(403);
    await app.broker.authorizer!.createAcls([acl('User:ANONYMOUS', 'orders', AclOperation.WRITE)]);
    expect((await produce()).status).toBe(200);
  });

  it('checks the group routes as the Kafka group APIs: Group Describe to list and describe, Group Read to commit and reset, Topic Describe for each offset shown', async () => {
    const reader = { name: 'reader', token: 'reader-token', acls: [{ topics: '*', operations: ['read' as const, 'admin' as const] }] };
    t = await openTestApp({ tokens: [...tokens, reader] }, undefined, { authorizer: { superUsers: ['User:root'] } });
    const app = t;
    const root = as('root-token-1');
    const asReader = as('reader-token');
    await app.broker.createTopic('orders');
    await app.broker.createTopic('other');
    const commit = (group: string, topic: string, offset: number, headers: { authorization: string }) =>
      app.request(`/v1/groups/${group}/offsets`, { json: { topic, partitions: [{ partition: 0, offset }] }, headers });
    for (const [group, topic] of [['billing', 'orders'], ['billing', 'other'], ['audit', 'orders']] as const) expect((await commit(group, topic, 1, root)).status).toBe(200);
    const committed = (group: string) => app.broker.groups.describeGroup(group).offsets.map((o) => [o.topic, o.committedOffset]);
    const forbidden = async (response: Awaited<ReturnType<typeof app.request>>) => {
      const problem = (await problemOf(response)) as { status: number; kafkaError?: string };
      return [problem.status, problem.kafkaError];
    };
    const groupDenied = [403, 'GROUP_AUTHORIZATION_FAILED'];

    // No ACL yet: nothing listed, describing, committing and resetting refused, nothing changed.
    expect(await (await app.request('/v1/groups', { headers: asReader })).json()).toEqual({ groups: [] });
    expect(await forbidden(await app.request('/v1/groups/billing', { headers: asReader }))).toEqual(groupDenied);
    expect(await forbidden(await commit('billing', 'orders', 5, asReader))).toEqual(groupDenied);
    expect(await forbidden(await app.request('/v1/groups/billing/reset', { json: { topic: 'orders', to: 'earliest' }, headers: asReader }))).toEqual(groupDenied);
    expect(committed('billing')).toEqual([['orders', 1], ['other', 1]]);

    await app.broker.authorizer!.createAcls([
      acl('User:reader', 'billing', AclOperation.DESCRIBE, '*', ResourceType.GROUP),
      acl('User:reader', 'orders', AclOperation.READ),
    ]);
    expect((await (await app.request('/v1/groups', { headers: asReader })).json()).groups.map((g: { groupId: string }) => g.groupId)).toEqual(['billing']);
    const described = await (await app.request('/v1/groups/billing', { headers: asReader })).json();
    // Only the offsets of topics the reader may Describe.
    expect(described.offsets.map((o: { topic: string }) => o.topic)).toEqual(['orders']);
    expect(await forbidden(await app.request('/v1/groups/audit', { headers: asReader }))).toEqual(groupDenied);
    // Describe is not Read: committing and resetting stay refused.
    expect(await forbidden(await commit('billing', 'orders', 5, asReader))).toEqual(groupDenied);
    expect(await forbidden(await app.request('/v1/groups/billing/reset', { json: { topic: 'orders', to: { offsets: { 0: 0 } } }, headers: asReader }))).toEqual(groupDenied);
    expect(committed('billing')).toEqual([['orders', 1], ['other', 1]]);

    await app.broker.authorizer!.createAcls([
      acl('User:reader', 'billing', AclOperation.READ, '*', ResourceType.GROUP),
      acl('User:reader', 'other', AclOperation.DESCRIBE),
    ]);
    expect((await commit('billing', 'orders', 5, asReader)).status).toBe(200);
    // Group Read, but the topic is only describable: the commit is refused by the topic check.
    expect((await problemOf(await commit('billing', 'other', 5, asReader))).status).toBe(403);
    expect((await (await app.request('/v1/groups/billing', { headers: asReader })).json()).offsets.map((o: { topic: string }) => o.topic)).toEqual(['orders', 'other']);
    expect(committed('billing')).toEqual([['orders', 5], ['other', 1]]);
    // Cluster Describe lists every group, as ListGroups does.
    await app.broker.authorizer!.createAcls([acl('User:reader', 'kafka-cluster', AclOperation.DESCRIBE, '*', ResourceType.CLUSTER)]);
    expect((await (await app.request('/v1/groups', { headers: asReader })).json()).groups.map((g: { groupId: string }) => g.groupId).sort()).toEqual(['audit', 'billing']);

    const audit = readFileSync(join(app.dataDir, AUDIT_LOG_FILE), 'utf8');
    expect(audit).toContain('"principal":"User:reader","host":"10.0.0.1","apiKey":-1,"resourceType":3,"resourceName":"audit"');
  });
});
