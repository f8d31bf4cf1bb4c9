import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AclOperation, AclPermission, PatternType, ResourceType } from '../../../broker/auth/acl.ts';
import { Broker, type BrokerOptions } from '../../../broker/broker.ts';
import { createHttpApp, type HttpApp } from '../../../broker/http/http-app.ts';
import type { HttpApiOptions } from '../../../broker/http/http-options.ts';
import { type HttpServer, serveHttp } from '../../../broker/http/serve.ts';
import { ShareDeadLetterHeader } from '../../../broker/share/share-dead-letter.ts';
import { headerMap, readTopic, text } from '../../helpers/share-fixtures.ts';
import { eventually } from '../../helpers/eventually.ts';

interface Served {
  broker: Broker;
  http: HttpApp;
  server: HttpServer;
  dir: string;
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; type: string; body: any }>;
}

let served: Served | undefined;
afterEach(async () => {
  if (served === undefined) return;
  served.http.close();
  await served.server.close();
  await served.broker.close();
  rmSync(served.dir, { recursive: true, force: true });
  served = undefined;
});

async function serve(brokerOptions: Omit<BrokerOptions, 'config'> = {}, httpOptions: Partial<HttpApiOptions> = {}): Promise<Served> {
  const dir = mkdtempSync(join(tmpdir(), 'rill-share-http-'));
  const broker = await Broker.open({ shareGroups: { defaults: { autoOffsetReset: 'earliest' }, sweepIntervalMs: 20 }, ...brokerOptions, config: { dataDir: dir } });
  const http = await createHttpApp(broker, httpOptions);
  const server = await serveHttp((request, env) => http.app.fetch(request, env), { host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${server.port}`;
  served = {
    broker,
    http,
    server,
    dir,
    async call(method, path, body, headers = {}) {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      const raw = await response.text();
      return { status: response.status, type: response.headers.get('content-type') ?? '', body: raw === '' ? null : JSON.parse(raw) };
    },
  };
  return served;
}

async function produce(s: Served, topic: string, count: number, headers: Record<string, string> = {}): Promise<void> {
  const answer = await s.call('POST', `/v1/topics/${topic}/records`, { records: Array.from({ length: count }, (_, i) => ({ value: `v${i}` })) }, headers);
  expect(answer.status).toBe(200);
}

async function join_(s: Served, group: string, topics: string[], headers?: Record<string, string>): Promise<string> {
  const answer = await s.call('POST', `/v1/share-groups/${group}/members`, { topics }, headers);
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  return answer.body.memberId as string;
}

interface Fetched {
  topic: string;
  partition: number;
  offset: number;
  deliveryCount: number;
  value: string;
}

async function fetchRecords(s: Served, group: string, member: string, body: unknown = { maxRecords: 5 }): Promise<Fetched[]> {
  const answer = await s.call('POST', `/v1/share-groups/${group}/members/${member}/fetch`, body);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body.records as Fetched[];
}

function ack(s: Served, group: string, member: string, acknowledgements: unknown[]) {
  return s.call('POST', `/v1/share-groups/${group}/members/${member}/acknowledgements`, { acknowledgements });
}

describe('share groups over HTTP', () => {
  it('two members share one partition: accept, release (redelivered with its count raised), reject and the delivery limit into the dead-letter topic', async () => {
    const s = await serve({ shareGroups: { defaults: { autoOffsetReset: 'earliest', deliveryCountLimit: 2 }, sweepIntervalMs: 20 } });
    await s.broker.createTopic('jobs', { partitions: 1 });
    await produce(s, 'jobs', 10);
    const a = await join_(s, 'workers', ['jobs']);
    const b = await join_(s, 'workers', ['jobs']);

    const first = await fetchRecords(s, 'workers', a);
    expect(first.map((r) => [r.offset, r.deliveryCount, r.value, r.topic, r.partition])).toEqual([0, 1, 2, 3, 4].map((o) => [o, 1, `v${o}`, 'jobs', 0]));
    // B gets the next records, not A's: each record is handed to one member at a time.
    const second = await fetchRecords(s, 'workers', b);
    expect(second.map((r) => r.offset)).toEqual([5, 6, 7, 8, 9]);

    // A: accepts 0-1 as a range, releases 2, rejects 3, releases 4.
    const acked = await ack(s, 'workers', a, [
      { topic: 'jobs', partition: 0, firstOffset: 0, lastOffset: 1, type: 'accept' },
      { topic: 'jobs', partition: 0, offset: 2, type: 'release' },
      { topic: 'jobs', partition: 0, offset: 3, type: 'reject' },
      { topic: 'jobs', partition: 0, offset: 4, type: 'release' },
    ]);
    expect(acked.status, JSON.stringify(acked.body)).toBe(200);
    expect(acked.body).toEqual({ acknowledged: [{ topic: 'jobs', partition: 0, records: 5 }] });
    // The reject is answered after its dead-letter copy is durable.
    const dead = await readTopic(s.broker, 'workers-dlq');
    expect(dead.map((r) => [text(r.value), headerMap(r)[ShareDeadLetterHeader.errorKind], headerMap(r)[ShareDeadLetterHeader.offset]])).toEqual([['"v3"', 'rejected', '3']]);

    // Accepting again, or acknowledging another member's record, is a 409 that changes nothing.
    const again = await ack(s, 'workers', a, [{ topic: 'jobs', partition: 0, offset: 0, type: 'accept' }]);
    expect(again.status).toBe(409);
    expect(again.type).toBe('application/problem+json');
    expect(again.body.errors).toEqual([expect.objectContaining({ topic: 'jobs', partition: 0, kafkaError: 'INVALID_RECORD_STATE' })]);
    const stolen = await ack(s, 'workers', a, [{ topic: 'jobs', partition: 0, offset: 5, type: 'accept' }]);
    expect(stolen.status).toBe(409);
    expect(stolen.body.errors[0].message).toContain('another member');

    // B finishes its own and gets the released records with delivery count 2.
    expect((await ack(s, 'workers', b, [{ topic: 'jobs', partition: 0, firstOffset: 5, lastOffset: 9, type: 'accept' }])).status).toBe(200);
    const redelivered = await fetchRecords(s, 'workers', b);
    expect(redelivered.map((r) => [r.offset, r.deliveryCount])).toEqual([[2, 2], [4, 2]]);
    // 2 is accepted; 4 released again at the limit (2) goes to the dead-letter topic.
    expect((await ack(s, 'workers', b, [{ topic: 'jobs', partition: 0, offset: 2, type: 'accept' }, { topic: 'jobs', partition: 0, offset: 4, type: 'release' }])).status).toBe(200);
    const deadAfter = await readTopic(s.broker, 'workers-dlq');
    expect(deadAfter.map((r) => [text(r.value), headerMap(r)[ShareDeadLetterHeader.errorKind], headerMap(r)[ShareDeadLetterHeader.deliveryCount]])).toEqual([
      ['"v3"', 'rejected', '1'],
      ['"v4"', 'delivery-limit', '2'],
    ]);
    expect(s.broker.shareGroups.sharePartition('workers', 'jobs', 0)!.startOffset).toBe(10);

    const described = await s.call('GET', '/v1/share-groups/workers');
    expect(described.status).toBe(200);
    expect(described.body).toMatchObject({ groupId: 'workers', groupState: 'Stable', config: { deliveryCountLimit: 2, deadLetterTopic: 'workers-dlq' } });
    expect(described.body.members.map((m: { memberId: string }) => m.memberId).sort()).toEqual([a, b].sort());
  });

  it('a long poll answers when records arrive; leaving releases what a member holds; an expired member is a 404 and its records go to others', async () => {
    const s = await serve({ shareGroups: { defaults: { autoOffsetReset: 'earliest' }, groups: { pool: { sessionTimeoutMs: 1000 } }, sweepIntervalMs: 20 } });
    await s.broker.createTopic('tasks', { partitions: 1 });
    // A long poll (of a group with the default 45 s session timeout, so it may wait 22.5 s) answers
    // once records arrive.
    const waiter = await join_(s, 'waiting', ['tasks']);
    const polling = fetchRecords(s, 'waiting', waiter, { maxRecords: 2, maxWaitMs: 20_000 });
    await produce(s, 'tasks', 4);
    expect((await polling).map((r) => r.offset)).toEqual([0, 1]);

    const a = await join_(s, 'pool', ['tasks']);
    const b = await join_(s, 'pool', ['tasks']);
    const held = await fetchRecords(s, 'pool', a, { maxRecords: 2 });
    expect(held.map((r) => r.offset)).toEqual([0, 1]);

    expect((await s.call('DELETE', `/v1/share-groups/pool/members/${a}`)).status).toBe(204);
    expect((await s.call('POST', `/v1/share-groups/pool/members/${a}/fetch`, {})).status).toBe(404);
    const taken = await fetchRecords(s, 'pool', b, { maxRecords: 10 });
    expect(taken.map((r) => [r.offset, r.deliveryCount])).toEqual([[0, 2], [1, 2], [2, 1], [3, 1]]);

    // B stops making requests: the coordinator expires it after the session timeout and releases its records.
    const c = await join_(s, 'pool', ['tasks']);
    await eventually(async () => {
      expect((await s.call('POST', `/v1/share-groups/pool/members/${c}/heartbeat`)).status).toBe(200);
      return s.broker.shareGroups.describe('pool').members.some((m) => m.memberId === b) ? undefined : true;
    }, 'b to expire');
    const expired = await s.call('POST', `/v1/share-groups/pool/members/${b}/fetch`, {});
    expect(expired.status).toBe(404);
    expect(expired.body.detail).toContain('expired');
    const toC = await fetchRecords(s, 'pool', c, { maxRecords: 10 });
    expect(toC.map((r) => [r.offset, r.deliveryCount])).toEqual([[0, 3], [1, 3], [2, 2], [3, 2]]);
  });

  it('answers bad input with a 4xx problem and a message', async () => {
    const s = await serve();
    await s.broker.createTopic('jobs', { partitions: 2 });
    const m = await join_(s, 'g', ['jobs']);
    const cases: [string, string, unknown, number, string][] = [
      ['POST', '/v1/share-groups/bad%20group/members', { topics: ['jobs'] }, 400, 'share group id'],
      ['POST', '/v1/share-groups/g/members', { topics: [] }, 400, '"topics"'],
      ['POST', '/v1/share-groups/g/members', { topics: ['nope'] }, 404, 'topic "nope" does not exist'],
      ['POST', '/v1/share-groups/g/members', { topics: ['__share_group_state'] }, 404, 'does not exist'],
      ['POST', '/v1/share-groups/g/members', '{"topics": [', 400, 'not valid JSON'],
      ['POST', `/v1/share-groups/g/members/${m}/fetch`, { maxRecords: 0 }, 400, '"maxRecords" must be an integer from 1'],
      ['POST', `/v1/share-groups/g/members/${m}/fetch`, { maxWaitMs: 'soon' }, 400, '"maxWaitMs"'],
      ['POST', '/v1/share-groups/g/members/no-such-member/fetch', {}, 404, 'no HTTP member'],
      ['POST', `/v1/share-groups/other/members/${m}/fetch`, {}, 404, 'no HTTP member'],
      ['POST', `/v1/share-groups/g/members/${m}/acknowledgements`, { acknowledgements: [] }, 400, '"acknowledgements"'],
      ['POST', `/v1/share-groups/g/members/${m}/acknowledgements`, { acknowledgements: [{ topic: 'jobs', partition: 0, offset: 0, type: 'ok' }] }, 400, '.type must be "accept", "release" or "reject"'],
      ['POST', `/v1/share-groups/g/members/${m}/acknowledgements`, { acknowledgements: [{ topic: 'jobs', partition: 7, offset: 0, type: 'accept' }] }, 400, '.partition must be a partition of "jobs"'],
      ['POST', `/v1/share-groups/g/members/${m}/acknowledgements`, { acknowledgements: [{ topic: 'jobs', partition: 0, firstOffset: 5, lastOffset: 2, type: 'accept' }] }, 400, 'firstOffset <= lastOffset'],
      ['POST', `/v1/share-groups/g/members/${m}/acknowledgements`, { acknowledgements: [{ topic: 'jobs', partition: 0, type: 'accept' }] }, 400, 'needs "offset"'],
      ['POST', `/v1/share-groups/g/members/${m}/acknowledgements`, { acknowledgements: [{ topic: 'jobs', partition: 0, offset: 0, type: 'accept' }] }, 409, 'refused'],
      ['GET', '/v1/share-groups/never-used', undefined, 404, 'does not exist'],
    ];
    for (const [method, path, body, status, detail] of cases) {
      const answer = await s.call(method, path, body);
      expect(answer.status, `${method} ${path} ${JSON.stringify(body)}: ${JSON.stringify(answer.body)}`).toBe(status);
      expect(answer.type).toBe('application/problem+json');
      expect(answer.body.detail).toContain(detail);
    }
  });

  it('checks Group Read and Topic Read as the Kafka share APIs do: 403 with the Kafka error, and a member is private to its principal', async () => {
    const tokens = [
      { name: 'root', token: 'root-token-1', acls: [{ topics: '*', operations: ['read' as const, 'write' as const, 'admin' as const] }] },
      { name: 'worker', token: 'worker-token', acls: [{ topics: '*', operations: ['read' as const] }] },
      { name: 'other', token: 'other-token', acls: [{ topics: '*', operations: ['read' as const] }] },
    ];
    const s = await serve({ authorizer: { superUsers: ['User:root'] }, shareGroups: { defaults: { autoOffsetReset: 'earliest' } } }, { tokens });
    const as = (token: string) => ({ authorization: `Bearer ${token}` });
    const allow = (principal: string, resourceType: 2 | 3, resourceName: string, operation: (typeof AclOperation)[keyof typeof AclOperation]) => ({
      resourceType, resourceName, patternType: PatternType.LITERAL, principal, host: '*', operation, permissionType: AclPermission.ALLOW,
    });
    await s.broker.createTopic('jobs', { partitions: 1 });
    await s.broker.createTopic('secret', { partitions: 1 });
    await produce(s, 'jobs', 3, as('root-token-1'));

    const noGroup = await s.call('POST', '/v1/share-groups/team/members', { topics: ['jobs'] }, as('worker-token'));
    expect(noGroup.status).toBe(403);
    expect(noGroup.body).toMatchObject({ kafkaError: 'GROUP_AUTHORIZATION_FAILED' });

    await s.broker.authorizer!.createAcls([allow('User:worker', ResourceType.GROUP, 'team', AclOperation.READ), allow('User:other', ResourceType.GROUP, 'team', AclOperation.READ)]);
    const noTopic = await s.call('POST', '/v1/share-groups/team/members', { topics: ['jobs'] }, as('worker-token'));
    expect(noTopic.status).toBe(403);
    expect(noTopic.body.detail).toContain('jobs');

    await s.broker.authorizer!.createAcls([allow('User:worker', ResourceType.TOPIC, 'jobs', AclOperation.READ), allow('User:other', ResourceType.TOPIC, 'jobs', AclOperation.READ)]);
    const member = await join_(s, 'team', ['jobs'], as('worker-token'));
    expect((await s.call('POST', `/v1/share-groups/team/members/${member}/fetch`, {}, as('worker-token'))).body.records).toHaveLength(3);
    // Another principal, even one allowed on the group, cannot drive this member.
    expect((await s.call('POST', `/v1/share-groups/team/members/${member}/fetch`, {}, as('other-token'))).status).toBe(404);
    // Acknowledging a topic the member does not read: 403 before anything else.
    const secret = await ack(s, 'team', member, [{ topic: 'secret', partition: 0, offset: 0, type: 'accept' }]);
    expect(secret.status).toBe(401);
    const secretAsWorker = await s.call('POST', `/v1/share-groups/team/members/${member}/acknowledgements`, { acknowledgements: [{ topic: 'secret', partition: 0, offset: 0, type: 'accept' }] }, as('worker-token'));
    expect(secretAsWorker.status).toBe(403);
    // Describing needs Group Describe, which Read implies; a group without any grant is 403.
    expect((await s.call('GET', '/v1/share-groups/team', undefined, as('worker-token'))).status).toBe(200);
    expect((await s.call('GET', '/v1/share-groups/elsewhere', undefined, as('worker-token'))).status).toBe(403);
    // Losing Topic Read stops the member's fetches.
    await s.broker.authorizer!.deleteAcls([{ resourceType: ResourceType.TOPIC, resourceName: 'jobs', patternType: PatternType.LITERAL, principal: 'User:worker', host: '*', operation: AclOperation.READ, permissionType: AclPermission.ALLOW }]);
    const revoked = await s.call('POST', `/v1/share-groups/team/members/${member}/fetch`, {}, as('worker-token'));
    expect(revoked.status).toBe(403);
    expect(revoked.body.detail).toContain('may not read topic "jobs"');
  });
});
