import { afterEach, describe, expect, it } from 'vitest';
import { AclOperation, AclPermission, PatternType, ResourceType } from '../../../broker/auth/acl.ts';
import { PacketType, ProtocolVersion } from '../../../broker/mqtt/mqtt-packet.ts';
import { ConnectReturnCode, ReasonCode } from '../../../broker/mqtt/mqtt-reason-code.ts';
import type { MqttListenerOptions } from '../../../broker/mqtt/mqtt-listener.ts';
import type { BrokerOptions } from '../../../broker/broker.ts';
import { MqttTestBroker } from '../../helpers/mqtt-broker.ts';
import { MqttRawClient } from '../../helpers/mqtt-raw-client.ts';

const opened: MqttTestBroker[] = [];
const utf8 = new TextEncoder();

afterEach(async () => {
  for (const b of opened.splice(0)) await b.close();
});

async function open(options: Partial<MqttListenerOptions> = {}, brokerOptions: BrokerOptions = {}): Promise<MqttTestBroker> {
  const b = await MqttTestBroker.open(options, brokerOptions);
  opened.push(b);
  return b;
}

const publish = (topic: string, qos: 0 | 1 | 2, packetId?: number) =>
  ({ type: PacketType.PUBLISH, dup: false, qos, retain: false, topic, ...(packetId === undefined ? {} : { packetId }), properties: {}, payload: utf8.encode('x') }) as const;

describe('CONNECT', () => {
  it('answers an unsupported protocol level with return code 1 and closes', async () => {
    const b = await open();
    const client = await MqttRawClient.open(b.mqtt.port, ProtocolVersion.v311);
    client.sendBytes(Uint8Array.from([0x10, 13, 0, 4, ...utf8.encode('MQTT'), 3, 0x02, 0, 60, 0, 1, 0x63]));
    const packets = await client.untilClosed();
    expect(packets).toEqual([{ type: PacketType.CONNACK, sessionPresent: false, reasonCode: ConnectReturnCode.UnacceptableProtocolVersion, properties: {} }]);
  });

  it('checks user name and password against the broker users (3.1.1 and 5 codes), and refuses anonymous clients when told to', async () => {
    const b = await open({ allowAnonymous: false });
    await b.broker.scramCredentials.setPassword('dev-1', 'SCRAM-SHA-256', 'right-password');
    const good = await MqttRawClient.connect(b.mqtt.port, { clientId: 'a', username: 'dev-1', password: utf8.encode('right-password') });
    expect(good.connack).toMatchObject({ reasonCode: ReasonCode.Success });
    const bad5 = await MqttRawClient.connect(b.mqtt.port, { clientId: 'b', username: 'dev-1', password: utf8.encode('wrong') });
    expect(bad5.connack).toMatchObject({ reasonCode: ReasonCode.BadUserNameOrPassword });
    const bad4 = await MqttRawClient.connect(b.mqtt.port, { clientId: 'c', username: 'nobody', password: utf8.encode('x') }, ProtocolVersion.v311);
    expect(bad4.connack).toMatchObject({ reasonCode: ConnectReturnCode.BadUserNameOrPassword });
    const anonymous = await MqttRawClient.connect(b.mqtt.port, { clientId: 'd' });
    expect(anonymous.connack).toMatchObject({ reasonCode: ReasonCode.NotAuthorized });
    await anonymous.client.untilClosed();
    await good.client.destroy();
  });

  it('accepts an HTTP API token as the password, with the token ACLs', async () => {
    const b = await open({ allowAnonymous: false, tokens: [{ name: 'ingest', token: 'token-0123456789', acls: [{ topics: 'ok', operations: ['write'] }] }] });
    const { client, connack } = await MqttRawClient.connect(b.mqtt.port, { clientId: 't', username: 'any', password: utf8.encode('token-0123456789') });
    expect(connack).toMatchObject({ reasonCode: 0 });
    client.send(publish('ok/1', 1, 1));
    expect(await client.next()).toMatchObject({ type: PacketType.PUBACK, reasonCode: 0 });
    client.send(publish('other/1', 1, 2));
    expect(await client.next()).toMatchObject({ type: PacketType.PUBACK, reasonCode: ReasonCode.NotAuthorized });
    expect(await b.records('other')).toEqual([]);
    await client.destroy();
  });

  it('applies the broker ACLs: Write to publish, Read to subscribe', async () => {
    const b = await open({}, { authorizer: {} });
    await b.broker.scramCredentials.setPassword('dev-2', 'SCRAM-SHA-256', 'pw-of-dev-2');
    const allow = (name: string, operation: number) => ({
      resourceType: ResourceType.TOPIC,
      resourceName: name,
      patternType: PatternType.LITERAL,
      principal: 'User:dev-2',
      host: '*',
      operation,
      permissionType: AclPermission.ALLOW,
    });
    await b.broker.createTopic('allowed');
    await b.broker.createTopic('secret');
    await b.broker.authorizer!.createAcls([allow('allowed', AclOperation.WRITE), allow('allowed', AclOperation.READ)] as never);
    const { client } = await MqttRawClient.connect(b.mqtt.port, { clientId: 'acl', username: 'dev-2', password: utf8.encode('pw-of-dev-2') });
    client.send(publish('allowed/a', 1, 1));
    expect(await client.next()).toMatchObject({ type: PacketType.PUBACK, reasonCode: 0 });
    client.send(publish('secret/a', 1, 2));
    expect(await client.next()).toMatchObject({ type: PacketType.PUBACK, reasonCode: ReasonCode.NotAuthorized });
    client.send({ type: PacketType.SUBSCRIBE, packetId: 3, properties: {}, subscriptions: ['allowed/#', 'secret/#'].map((topicFilter) => ({ topicFilter, qos: 1 as const, noLocal: false, retainAsPublished: false, retainHandling: 0 as const })) });
    expect(await client.next()).toMatchObject({ type: PacketType.SUBACK, reasonCodes: [1, ReasonCode.NotAuthorized] });
    expect(await b.records('secret')).toEqual([]);
    await client.destroy();
  });

  it('answers a PUBLISH whose log topic would pass the broker partition limit with Quota Exceeded, and stays connected', async () => {
    const b = await open({}, { config: { maxPartitions: 1 } });
    await b.broker.createTopic('full');
    const { client } = await MqttRawClient.connect(b.mqtt.port, { clientId: 'quota' });
    client.send(publish('other/a', 1, 1));
    expect(await client.next()).toMatchObject({ type: PacketType.PUBACK, packetId: 1, reasonCode: ReasonCode.QuotaExceeded });
    client.send(publish('full/a', 1, 2));
    expect(await client.next()).toMatchObject({ type: PacketType.PUBACK, packetId: 2, reasonCode: 0 });
    expect(b.broker.hasTopic('other')).toBe(false);
    expect(await b.records('full')).toHaveLength(1);
    await client.destroy();
  });

  it('hands a session to a second connection with the same client id, telling the first (Session Taken Over)', async () => {
    const b = await open();
    const first = await MqttRawClient.connect(b.mqtt.port, { clientId: 'twin' });
    const second = await MqttRawClient.connect(b.mqtt.port, { clientId: 'twin' });
    expect(second.connack).toMatchObject({ reasonCode: 0 });
    expect(await first.client.untilClosed()).toMatchObject([{ type: PacketType.DISCONNECT, reasonCode: ReasonCode.SessionTakenOver }]);
    await second.client.destroy();
  });
});

describe('limits and malformed packets', () => {
  it('closes with Malformed Packet on a bad packet after CONNECT, and appends nothing', async () => {
    const b = await open();
    const { client } = await MqttRawClient.connect(b.mqtt.port, { clientId: 'm' });
    // A QoS 3 PUBLISH.
    client.sendBytes(Uint8Array.from([0x36, 6, 0, 1, 0x61, 0, 1, 0]));
    expect(await client.untilClosed()).toMatchObject([{ type: PacketType.DISCONNECT, reasonCode: ReasonCode.MalformedPacket }]);
    expect(b.broker.listTopics()).toEqual([]);
  });

  it('refuses a packet above the maximum size (Packet Too Large) and a first packet that is not CONNECT', async () => {
    const b = await open({ limits: { maxPacketBytes: 64 } });
    const { client, connack } = await MqttRawClient.connect(b.mqtt.port, { clientId: 'big' });
    expect(connack).toMatchObject({ properties: { maximumPacketSize: 64 } });
    client.send({ ...publish('big/a', 0), payload: new Uint8Array(100) });
    expect(await client.untilClosed()).toMatchObject([{ type: PacketType.DISCONNECT, reasonCode: ReasonCode.PacketTooLarge }]);
    const raw = await MqttRawClient.open(b.mqtt.port);
    raw.sendBytes(Uint8Array.from([0xc0, 0]));
    expect(await raw.untilClosed()).toEqual([]);
    expect(b.broker.listTopics()).toEqual([]);
  });

  it('closes a client that passes its Receive Maximum of unacknowledged QoS 2 messages', async () => {
    const b = await open({ limits: { receiveMaximum: 2 } });
    const { client, connack } = await MqttRawClient.connect(b.mqtt.port, { clientId: 'rm' });
    expect(connack).toMatchObject({ properties: { receiveMaximum: 2 } });
    for (const id of [1, 2]) {
      client.send(publish('rm/a', 2, id));
      expect(await client.next()).toMatchObject({ type: PacketType.PUBREC, packetId: id });
    }
    client.send(publish('rm/a', 2, 3));
    expect(await client.untilClosed()).toMatchObject([{ type: PacketType.DISCONNECT, reasonCode: ReasonCode.ReceiveMaximumExceeded }]);
    expect((await b.records('rm')).length).toBe(2);
  });

  it('refuses subscriptions past the per-client limit (Quota Exceeded) and invalid filters', async () => {
    const b = await open({ limits: { maxSubscriptionsPerClient: 2 } });
    const { client } = await MqttRawClient.connect(b.mqtt.port, { clientId: 'subs' });
    const subscription = (topicFilter: string) => ({ topicFilter, qos: 0 as const, noLocal: false, retainAsPublished: false, retainHandling: 0 as const });
    client.send({ type: PacketType.SUBSCRIBE, packetId: 1, properties: {}, subscriptions: ['a/#', 'b/+', 'c', 'd/#/e'].map(subscription) });
    expect(await client.next()).toMatchObject({ type: PacketType.SUBACK, reasonCodes: [0, 0, ReasonCode.QuotaExceeded, ReasonCode.TopicFilterInvalid] });
    await client.destroy();
  });

  it('closes a client silent past one and a half keep-alive periods (Keep Alive Timeout)', async () => {
    const b = await open();
    const { client } = await MqttRawClient.connect(b.mqtt.port, { clientId: 'sleepy', keepAliveSeconds: 1 });
    expect(await client.untilClosed()).toMatchObject([{ type: PacketType.DISCONNECT, reasonCode: ReasonCode.KeepAliveTimeout }]);
  });
});

describe('persistent sessions', () => {
  it('keeps a subscription while the client is away and delivers what was published meanwhile', async () => {
    const b = await open();
    const connect = { clientId: 'away', cleanStart: false, properties: { sessionExpiryInterval: 600 } };
    const first = await MqttRawClient.connect(b.mqtt.port, connect);
    first.client.send({ type: PacketType.SUBSCRIBE, packetId: 1, properties: {}, subscriptions: [{ topicFilter: 'news/#', qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 }] });
    expect(await first.client.next()).toMatchObject({ type: PacketType.SUBACK, reasonCodes: [1] });
    first.client.send({ type: PacketType.DISCONNECT, reasonCode: 0, properties: {} });
    await first.client.untilClosed();

    const publisher = await MqttRawClient.connect(b.mqtt.port, { clientId: 'press' });
    for (const id of [1, 2]) {
      publisher.client.send({ ...publish(`news/${id}`, 1, id), payload: utf8.encode(`story-${id}`) });
      expect(await publisher.client.next()).toMatchObject({ type: PacketType.PUBACK });
    }
    const back = await MqttRawClient.connect(b.mqtt.port, connect);
    expect(back.connack).toMatchObject({ sessionPresent: true });
    const got = [await back.client.next(), await back.client.next()];
    expect(got.map((p) => (p.type === PacketType.PUBLISH ? [p.topic, new TextDecoder().decode(p.payload), p.qos] : p))).toEqual([
      ['news/1', 'story-1', 1],
      ['news/2', 'story-2', 1],
    ]);
    await back.client.destroy();
    await publisher.client.destroy();
  });
});
