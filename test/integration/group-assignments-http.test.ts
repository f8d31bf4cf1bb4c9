import { type Consumer, Kafka, logLevel } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { KafkaListener } from '../../broker/kafka/kafka-listener.ts';
import { encodeSubscription } from '../../sdk/client/consumer/consumer-protocol.ts';
import { ErrorCode } from '../../sdk/protocol/error-codes.ts';
import { ApiKey } from '../../sdk/protocol/mod.ts';
import { eventually } from '../helpers/eventually.ts';
import { RawKafkaClient } from '../helpers/raw-kafka-client.ts';
import { openTestApp, type TestApp } from '../unit/broker/http/http-test-support.ts';

const OPS = { authorization: 'Bearer ops-token' };
const ORDERS_ONLY = { authorization: 'Bearer orders-token' };

interface DescribedMember {
  memberId: string;
  clientId: string;
  subscribedTopics: string[] | null;
  assignment: { topic: string; partitions: number[] }[] | null;
  assignmentError: string | null;
}

interface Described {
  state: string;
  members: DescribedMember[];
}

let t: TestApp | undefined;
let listener: KafkaListener | undefined;
const consumers: Consumer[] = [];
const raws: RawKafkaClient[] = [];
afterEach(async () => {
  for (const consumer of consumers.splice(0)) await consumer.disconnect();
  for (const raw of raws.splice(0)) raw.close();
  await listener?.close();
  await t?.close();
  listener = undefined;
  t = undefined;
});

/** A broker with its Kafka listener on 127.0.0.1 and its HTTP app; `ops` reads every topic, `orders` only `orders`. */
async function start(): Promise<{ app: TestApp; port: number }> {
  const tokens = [
    { name: 'ops', token: 'ops-token', acls: [{ topics: '*', operations: ['read' as const, 'admin' as const] }] },
    { name: 'orders', token: 'orders-token', acls: [{ topics: 'orders', operations: ['read' as const] }] },
  ];
  t = await openTestApp({ tokens }, undefined, { groups: { initialRebalanceDelayMs: 0 } });
  listener = await KafkaListener.start(t.broker, { host: '127.0.0.1', port: 0 });
  return { app: t, port: listener.port };
}

async function describeGroup(app: TestApp, group: string, headers = OPS): Promise<Described> {
  const response = await app.request(`/v1/groups/${group}`, { headers });
  expect(response.status).toBe(200);
  return (await response.json()) as Described;
}

/** Joins `group` as one member with the raw protocol (answering MEMBER_ID_REQUIRED) and, given an `assignment`, syncs it as its leader. */
async function joinAlone(port: number, group: string, protocolType: string, metadata: Uint8Array, assignment?: Uint8Array): Promise<void> {
  const raw = await RawKafkaClient.connect(port, '127.0.0.1', `${protocolType}-worker`);
  raws.push(raw);
  const join = (memberId: string) =>
    raw.request(ApiKey.JoinGroup, 5, {
      groupId: group, sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 30_000, memberId, groupInstanceId: null, protocolType, protocols: [{ name: 'range', metadata }], reason: null,
    });
  let joined = await join('');
  if (joined.errorCode === ErrorCode.MEMBER_ID_REQUIRED) joined = await join(joined.memberId);
  expect(joined.errorCode).toBe(ErrorCode.NONE);
  if (assignment === undefined) return;
  const synced = await raw.request(ApiKey.SyncGroup, 3, {
    groupId: group, generationId: joined.generationId, memberId: joined.memberId, groupInstanceId: null, protocolType: null, protocolName: null,
    assignments: [{ memberId: joined.memberId, assignment }],
  });
  expect(synced.errorCode).toBe(ErrorCode.NONE);
}

describe('GET /v1/groups/:group shows what each member is assigned', () => {
  it('decodes the assignments of two kafkajs consumers: disjoint, covering every partition, only of topics the caller may read', async () => {
    const { app, port } = await start();
    await app.broker.createTopic('orders', { partitions: 4 });
    await app.broker.createTopic('audit', { partitions: 1 });
    for (const clientId of ['reader-a', 'reader-b']) {
      const consumer = new Kafka({ clientId, brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING }).consumer({ groupId: 'order-readers', heartbeatInterval: 300 });
      consumers.push(consumer);
      await consumer.connect();
      await consumer.subscribe({ topics: ['orders', 'audit'] });
      await consumer.run({ eachMessage: async () => {} });
    }

    const settled = await eventually(async () => {
      const group = await describeGroup(app, 'order-readers');
      return group.state === 'Stable' && group.members.length === 2 && group.members.every((m) => m.assignment !== null && m.assignment.length > 0) ? group : undefined;
    }, 'both consumers assigned in a Stable group', 6000);

    expect(settled.members.map((m) => m.clientId).sort()).toEqual(['reader-a', 'reader-b']);
    for (const member of settled.members) {
      expect(member.subscribedTopics).toEqual(['audit', 'orders']);
      expect(member.assignmentError).toBeNull();
    }
    const ordersOf = (m: DescribedMember) => m.assignment!.find((a) => a.topic === 'orders')?.partitions ?? [];
    const [first, second] = settled.members.map(ordersOf);
    expect(first!.filter((p) => second!.includes(p))).toEqual([]);
    expect([...first!, ...second!].sort()).toEqual([0, 1, 2, 3]);
    expect(settled.members.flatMap((m) => m.assignment!.filter((a) => a.topic === 'audit').map((a) => a.partitions))).toEqual([[0]]);

    // A caller who may read only `orders` sees the members' other topics no more than their offsets.
    const narrow = await describeGroup(app, 'order-readers', ORDERS_ONLY);
    for (const member of narrow.members) {
      expect(member.subscribedTopics).toEqual(['orders']);
      expect(member.assignment!.map((a) => a.topic)).toEqual(['orders']);
    }
    expect(narrow.members.flatMap((m) => m.assignment!.flatMap((a) => a.partitions)).sort()).toEqual([0, 1, 2, 3]);
  });

  it('answers a null assignment with the reason for a non-consumer protocol type, unreadable consumer bytes and a group not yet Stable', async () => {
    const { app, port } = await start();
    const opaque = new TextEncoder().encode('{"version":1,"tasks":["sink-0"]}');
    await joinAlone(port, 'connect-workers', 'connect', opaque, opaque);
    const garbage = Uint8Array.from([0, 0, 0x7f, 0xff]);
    await joinAlone(port, 'broken-consumers', 'consumer', garbage, garbage);

    const connect = await describeGroup(app, 'connect-workers');
    expect(connect.state).toBe('Stable');
    expect(connect.members).toEqual([
      expect.objectContaining({ clientId: 'connect-worker', subscribedTopics: null, assignment: null, assignmentError: 'protocol type "connect" is not "consumer": its assignments are opaque' }),
    ]);

    const broken = await describeGroup(app, 'broken-consumers');
    expect(broken.state).toBe('Stable');
    expect(broken.members).toHaveLength(1);
    expect(broken.members[0]).toMatchObject({ clientId: 'consumer-worker', subscribedTopics: null, assignment: null });
    expect(broken.members[0]!.assignmentError).toMatch(/^INCONSISTENT_GROUP_PROTOCOL: unreadable consumer protocol assignment: /);

    // Joined but not synced: the subscription is known, the assignment not yet.
    await joinAlone(port, 'syncing-consumers', 'consumer', encodeSubscription({ topics: ['orders', 'audit'], ownedPartitions: [], generationId: -1 }));
    const syncing = await describeGroup(app, 'syncing-consumers');
    expect(syncing.state).toBe('CompletingRebalance');
    expect(syncing.members).toEqual([
      expect.objectContaining({ subscribedTopics: ['audit', 'orders'], assignment: null, assignmentError: 'the group is CompletingRebalance: assignments are settled once it is Stable' }),
    ]);
  });
});
