import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AclOperation, AclPermission, PatternType, ResourceType } from '../../../broker/auth/acl.ts';
import { mqttShareGroupId } from '../../../broker/mqtt/mqtt-share-subscription.ts';
import { type MqttPacket, PacketType, type PublishPacket } from '../../../broker/mqtt/mqtt-packet.ts';
import { MqttTestBroker } from '../../helpers/mqtt-broker.ts';
import { MqttRawClient } from '../../helpers/mqtt-raw-client.ts';

let broker: MqttTestBroker;
const clients: MqttClient[] = [];

beforeAll(async () => {
  // Locks and member sessions outlast every test: a record a member held comes back only because its connection closed.
  broker = await MqttTestBroker.open({}, { shareGroups: { defaults: { recordLockDurationMs: 600_000, sessionTimeoutMs: 600_000 } } });
});

afterAll(async () => {
  for (const client of clients) await client.endAsync(true).catch(() => undefined);
  await broker.close();
});

async function client(protocolVersion: 4 | 5): Promise<MqttClient> {
  const c = await connectAsync(broker.url, { protocolVersion, reconnectPeriod: 0, connectTimeout: 10_000 });
  clients.push(c);
  return c;
}

/** How long `collect` waits for the next message before it fails, naming what is missing. */
const QUIET_MS = 15_000;

/**
 * Payloads each client receives, and a promise that resolves once all of them together have
 * `total`; it rejects when no message came for QUIET_MS, so a lost message fails the test with the
 * count instead of at the test's timeout.
 */
function collect(members: readonly MqttClient[], total: number): { got: string[][]; all: Promise<void> } {
  const got = members.map(() => [] as string[]);
  let count = 0;
  const all = new Promise<void>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => reject(new Error(`${count} of ${total} messages arrived, then none for ${QUIET_MS} ms`)), QUIET_MS);
    };
    arm();
    members.forEach((m, i) =>
      m.on('message', (_topic, payload) => {
        got[i]!.push(payload.toString());
        if (++count < total) return arm();
        clearTimeout(timer);
        resolve();
      }),
    );
  });
  // Awaited later by the test; a rejection before that is not an unhandled one.
  all.catch(() => undefined);
  return { got, all };
}

async function publishAll(topicOf: (i: number) => string, count: number, qos: 1 | 2 = 1): Promise<string[]> {
  const pub = await client(5);
  const sent: string[] = [];
  for (let i = 0; i < count; i++) {
    sent.push(`m${i}`);
    await pub.publishAsync(topicOf(i), `m${i}`, { qos });
  }
  return sent;
}

describe('shared subscriptions ($share/<name>/<filter>) on share groups', () => {
  it('split 300 messages between 3 members, each to exactly one, over the partitions of the topic', async () => {
    await broker.broker.createTopic('jobs', { partitions: 3 });
    const members = [await client(5), await client(5), await client(4)];
    const { got, all } = collect(members, 300);
    for (const m of members) {
      const granted = await m.subscribeAsync('$share/workers/jobs/#', { qos: 1 });
      expect(granted[0]!.qos).toBe(1);
    }
    const sent = await publishAll((i) => `jobs/${i % 17}`, 300);
    await all;
    const received = got.flat();
    // No message twice: 300 arrived and all 300 differ.
    expect(new Set(received).size).toBe(300);
    expect(received.sort()).toEqual(sent.sort());
    for (const share of got) expect(share.length).toBeGreaterThan(0);
    const group = broker.broker.shareGroups.describe(mqttShareGroupId('workers', 'jobs/#'));
    expect(group.members).toHaveLength(3);
  });

  it('hands the messages a killed member held unacknowledged to the other members', async () => {
    await broker.broker.createTopic('tasks', { partitions: 1 });
    const members = [await client(5), await client(5)];
    const { got, all } = collect(members, 60);
    // A member that never acknowledges (Receive Maximum 5), then dies.
    const { client: doomed, connack } = await MqttRawClient.connect(broker.mqtt.port, { clientId: 'doomed', properties: { receiveMaximum: 5 } });
    expect(connack).toMatchObject({ type: PacketType.CONNACK, reasonCode: 0, properties: { sharedSubscriptionAvailable: 1 } });
    doomed.send({ type: PacketType.SUBSCRIBE, packetId: 1, subscriptions: [{ topicFilter: '$share/crew/tasks/#', qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 }], properties: {} });
    expect(await doomed.next()).toMatchObject({ type: PacketType.SUBACK, reasonCodes: [1] });
    // Alone in the group, it takes the first messages (up to its Receive Maximum) and holds them.
    const pub = await client(5);
    const sent: string[] = [];
    for (let i = 0; i < 10; i++) {
      sent.push(`m${i}`);
      await pub.publishAsync(`tasks/t${i}`, `m${i}`, { qos: 1 });
    }
    let packet: MqttPacket;
    do packet = await doomed.next();
    while (packet.type !== PacketType.PUBLISH);
    const held = new TextDecoder().decode((packet as PublishPacket).payload);
    for (const m of members) await m.subscribeAsync('$share/crew/tasks/#', { qos: 1 });
    for (let i = 10; i < 60; i++) {
      sent.push(`m${i}`);
      await pub.publishAsync(`tasks/t${i}`, `m${i}`, { qos: 1 });
    }
    await doomed.destroy();
    await all;
    const received = got.flat();
    expect(new Set(received).size).toBe(60);
    expect(received.sort()).toEqual(sent.sort());
    expect(received).toContain(held);
  });

  it('gives every message to each of two share names, and to 3.1.1 members too', async () => {
    await broker.broker.createTopic('alerts', { partitions: 2 });
    const a = [await client(5), await client(4)];
    const b = [await client(4)];
    const gotA = collect(a, 40);
    const gotB = collect(b, 40);
    for (const m of a) await m.subscribeAsync('$share/pager/alerts/+', { qos: 2 });
    for (const m of b) await m.subscribeAsync('$share/archive/alerts/+', { qos: 1 });
    const sent = await publishAll((i) => `alerts/a${i}`, 40, 2);
    await Promise.all([gotA.all, gotB.all]);
    expect(gotA.got.flat().sort()).toEqual([...sent].sort());
    expect(gotB.got.flat().sort()).toEqual([...sent].sort());
  });

  it('delivers from the first message on a topic created after the subscription (no message published after SUBACK is missed)', async () => {
    const member = await client(5);
    const { got, all } = collect([member], 20);
    expect(broker.broker.listTopics()).not.toContain('fresh');
    await member.subscribeAsync('$share/early/fresh/#', { qos: 1 });
    // The first PUBLISH creates the log topic; the subscription learns of it only afterwards.
    const sent = await publishAll((i) => `fresh/${i % 3}`, 20);
    await all;
    expect(got[0]!.sort()).toEqual(sent.sort());
  });

  it('needs Group Read on mqtt-share-<name>/<filter> and Topic Read', async () => {
    const secured = await MqttTestBroker.open({}, { authorizer: {} });
    try {
      await secured.broker.scramCredentials.setPassword('dev', 'SCRAM-SHA-256', 'pw');
      await secured.broker.createTopic('orders');
      const allow = (resourceType: number, resourceName: string) => ({ resourceType, resourceName, patternType: PatternType.LITERAL, principal: 'User:dev', host: '*', operation: AclOperation.READ, permissionType: AclPermission.ALLOW });
      await secured.broker.authorizer!.createAcls([allow(ResourceType.TOPIC, 'orders')] as never);
      const { client: raw } = await MqttRawClient.connect(secured.mqtt.port, { clientId: 'acl-share', username: 'dev', password: new TextEncoder().encode('pw') });
      const subscribe = (packetId: number, topicFilter: string) =>
        raw.send({ type: PacketType.SUBSCRIBE, packetId, subscriptions: [{ topicFilter, qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 }], properties: {} });
      subscribe(1, '$share/g/orders/#');
      expect(await raw.next()).toMatchObject({ type: PacketType.SUBACK, reasonCodes: [0x87] });
      await secured.broker.authorizer!.createAcls([allow(ResourceType.GROUP, mqttShareGroupId('g', 'orders/#')), allow(ResourceType.GROUP, mqttShareGroupId('g', 'secret/#'))] as never);
      subscribe(2, '$share/g/secret/#');
      expect(await raw.next()).toMatchObject({ type: PacketType.SUBACK, reasonCodes: [0x87] });
      subscribe(3, '$share/g/orders/#');
      expect(await raw.next()).toMatchObject({ type: PacketType.SUBACK, reasonCodes: [1] });
      await raw.destroy();
    } finally {
      await secured.close();
    }
  });

  it('closes an MQTT 5 connection that sets No Local on a shared subscription with Protocol Error', async () => {
    const { client: raw } = await MqttRawClient.connect(broker.mqtt.port, { clientId: 'no-local-share' });
    raw.send({ type: PacketType.SUBSCRIBE, packetId: 1, subscriptions: [{ topicFilter: '$share/g/x/#', qos: 1, noLocal: true, retainAsPublished: false, retainHandling: 0 }], properties: {} });
    expect(await raw.untilClosed()).toMatchObject([{ type: PacketType.DISCONNECT, reasonCode: 0x82 }]);
  });

  it('refuses a malformed share name or filter with Topic Filter Invalid', async () => {
    const { client: raw } = await MqttRawClient.connect(broker.mqtt.port, { clientId: 'bad-share' });
    const filters = ['$share/', '$share/g', '$share/g+/x', '$share/g/a/#/b', '$share/ok/fine'];
    raw.send({ type: PacketType.SUBSCRIBE, packetId: 1, subscriptions: filters.map((topicFilter) => ({ topicFilter, qos: 1 as const, noLocal: false, retainAsPublished: false, retainHandling: 0 as const })), properties: {} });
    expect(await raw.next()).toMatchObject({ type: PacketType.SUBACK, reasonCodes: [0x8f, 0x8f, 0x8f, 0x8f, 1] });
    await raw.destroy();
  });
});
