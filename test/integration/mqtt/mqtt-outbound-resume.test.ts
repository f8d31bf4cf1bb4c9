import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MqttPacket, PacketType, type QoS } from '../../../broker/mqtt/mqtt-packet.ts';
import { MqttTestBroker } from '../../helpers/mqtt-broker.ts';
import { MqttRawClient } from '../../helpers/mqtt-raw-client.ts';

let broker: MqttTestBroker;
let publisher: MqttRawClient;
let nextPublishId = 1;

beforeAll(async () => {
  broker = await MqttTestBroker.open();
  publisher = (await MqttRawClient.connect(broker.mqtt.port, { clientId: 'resume-publisher' })).client;
});

afterAll(async () => {
  await publisher.destroy();
  await broker.close();
});

const text = (packet: MqttPacket): string => (packet.type === PacketType.PUBLISH ? new TextDecoder().decode(packet.payload) : `type ${packet.type}`);

/** Publishes one message and waits until it is in the log (PUBACK, or PUBCOMP after PUBREC/PUBREL). */
async function publish(topic: string, payload: string, qos: 1 | 2): Promise<void> {
  const packetId = nextPublishId++;
  publisher.send({ type: PacketType.PUBLISH, dup: false, qos, retain: false, topic, packetId, properties: {}, payload: new TextEncoder().encode(payload) });
  if (qos === 1) {
    expect(await publisher.next()).toMatchObject({ type: PacketType.PUBACK, packetId });
    return;
  }
  expect(await publisher.next()).toMatchObject({ type: PacketType.PUBREC, packetId });
  publisher.send({ type: PacketType.PUBREL, packetId, reasonCode: 0, properties: {} });
  expect(await publisher.next()).toMatchObject({ type: PacketType.PUBCOMP, packetId });
}

/** A persistent session subscribed to `filter`, connected. */
async function subscriber(clientId: string, filter: string, qos: QoS): Promise<MqttRawClient> {
  const { client } = await MqttRawClient.connect(broker.mqtt.port, { clientId, cleanStart: false, properties: { sessionExpiryInterval: 600 } });
  client.send({ type: PacketType.SUBSCRIBE, packetId: 1, subscriptions: [{ topicFilter: filter, qos, noLocal: false, retainAsPublished: false, retainHandling: 0 }], properties: {} });
  expect(await client.next()).toMatchObject({ type: PacketType.SUBACK, reasonCodes: [qos] });
  return client;
}

async function reconnect(clientId: string): Promise<MqttRawClient> {
  const { client, connack } = await MqttRawClient.connect(broker.mqtt.port, { clientId, cleanStart: false, properties: { sessionExpiryInterval: 600 } });
  expect(connack).toMatchObject({ type: PacketType.CONNACK, sessionPresent: true });
  return client;
}

describe('outbound messages of a persistent session across a reconnect (§4.4)', () => {
  it('sends an unacknowledged QoS 1 message again with its packet id and DUP, and the acknowledged ones not at all', async () => {
    await broker.broker.createTopic('q1resume', { partitions: 1 });
    // Published while the subscriber is away, so that one read of the log sends all three.
    await (await subscriber('sub-q1', 'q1resume/#', 1)).destroy();
    for (const m of ['a', 'b', 'c']) await publish('q1resume/x', m, 1);
    const first = await reconnect('sub-q1');
    const got = [await first.next(), await first.next(), await first.next()];
    expect(got.map(text)).toEqual(['a', 'b', 'c']);
    for (const p of got.slice(0, 2)) first.send({ type: PacketType.PUBACK, packetId: (p as { packetId: number }).packetId, reasonCode: 0, properties: {} });
    // A PINGREQ answered means the broker has read both PUBACKs before the connection drops.
    first.send({ type: PacketType.PINGREQ });
    expect(await first.next()).toMatchObject({ type: PacketType.PINGRESP });
    await first.destroy();

    const second = await reconnect('sub-q1');
    const resent = await second.next();
    expect(resent).toMatchObject({ type: PacketType.PUBLISH, dup: true, qos: 1, packetId: (got[2] as { packetId: number }).packetId, topic: 'q1resume/x' });
    expect(text(resent)).toBe('c');
    second.send({ type: PacketType.PUBACK, packetId: (resent as { packetId: number }).packetId, reasonCode: 0, properties: {} });
    await publish('q1resume/x', 'd', 1);
    const next = await second.next();
    expect(next).toMatchObject({ type: PacketType.PUBLISH, dup: false });
    expect(text(next)).toBe('d');
    second.send({ type: PacketType.PUBACK, packetId: (next as { packetId: number }).packetId, reasonCode: 0, properties: {} });
    await second.destroy();
  });

  it('sends PUBREL again, not the message, for a QoS 2 message the client had PUBRECed; PUBLISH with DUP for one it had not', async () => {
    await broker.broker.createTopic('q2resume', { partitions: 1 });
    await (await subscriber('sub-q2', 'q2resume/#', 2)).destroy();
    await publish('q2resume/x', 'one', 2);
    await publish('q2resume/x', 'two', 2);
    const first = await reconnect('sub-q2');
    const one = await first.next();
    const two = await first.next();
    expect([one, two].map(text)).toEqual(['one', 'two']);
    const oneId = (one as { packetId: number }).packetId;
    const twoId = (two as { packetId: number }).packetId;
    first.send({ type: PacketType.PUBREC, packetId: oneId, reasonCode: 0, properties: {} });
    expect(await first.next()).toMatchObject({ type: PacketType.PUBREL, packetId: oneId });
    await first.destroy();

    const second = await reconnect('sub-q2');
    expect(await second.next()).toMatchObject({ type: PacketType.PUBREL, packetId: oneId });
    const again = await second.next();
    expect(again).toMatchObject({ type: PacketType.PUBLISH, dup: true, qos: 2, packetId: twoId });
    expect(text(again)).toBe('two');
    second.send({ type: PacketType.PUBCOMP, packetId: oneId, reasonCode: 0, properties: {} });
    second.send({ type: PacketType.PUBREC, packetId: twoId, reasonCode: 0, properties: {} });
    expect(await second.next()).toMatchObject({ type: PacketType.PUBREL, packetId: twoId });
    second.send({ type: PacketType.PUBCOMP, packetId: twoId, reasonCode: 0, properties: {} });
    await publish('q2resume/x', 'three', 2);
    const three = await second.next();
    expect(three).toMatchObject({ type: PacketType.PUBLISH, dup: false, qos: 2 });
    expect(text(three)).toBe('three');
    await second.destroy();

    // Both completed: a third connection gets only what is still open (three, never PUBRECed).
    const third = await reconnect('sub-q2');
    const last = await third.next();
    expect(last).toMatchObject({ type: PacketType.PUBLISH, dup: true, packetId: (three as { packetId: number }).packetId });
    expect(text(last)).toBe('three');
    await third.destroy();
  });

  it('keeps the unacknowledged messages across a broker restart', async () => {
    await broker.broker.createTopic('restartresume', { partitions: 1 });
    const first = await subscriber('sub-restart', 'restartresume/#', 1);
    await publish('restartresume/x', 'kept', 1);
    const kept = await first.next();
    await first.destroy();
    // The session's state is written when its client leaves, with the message still outbound.
    await publisher.destroy();
    await broker.close({ keepData: true });
    broker = await MqttTestBroker.open({}, {}, broker.dataDir);
    publisher = (await MqttRawClient.connect(broker.mqtt.port, { clientId: 'resume-publisher' })).client;
    const second = await reconnect('sub-restart');
    const again = await second.next();
    expect(again).toMatchObject({ type: PacketType.PUBLISH, dup: true, packetId: (kept as { packetId: number }).packetId });
    expect(text(again)).toBe('kept');
    await second.destroy();
  });
});
