import { connectAsync } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { PacketType, type PublishPacket } from '../../../broker/mqtt/mqtt-packet.ts';
import { ReasonCode } from '../../../broker/mqtt/mqtt-reason-code.ts';
import { MqttTestBroker } from '../../helpers/mqtt-broker.ts';
import { MqttCuttingProxy } from '../../helpers/mqtt-cutting-proxy.ts';
import { MqttRawClient } from '../../helpers/mqtt-raw-client.ts';

const decoder = new TextDecoder();
const opened: MqttTestBroker[] = [];

afterEach(async () => {
  for (const b of opened.splice(0)) await b.close();
});

async function open(dataDir?: string): Promise<MqttTestBroker> {
  const b = await MqttTestBroker.open({}, {}, dataDir);
  opened.push(b);
  return b;
}

const persistent = { cleanStart: false, properties: { sessionExpiryInterval: 300 } };

function publish(packetId: number, payload: string, dup = false): PublishPacket {
  return { type: PacketType.PUBLISH, dup, qos: 2, retain: false, topic: 'meters/m1', packetId, properties: {}, payload: new TextEncoder().encode(payload) };
}

async function values(b: MqttTestBroker): Promise<string[]> {
  return (await b.records('meters')).map((r) => decoder.decode(r.value!));
}

describe('QoS 2 exactly once', () => {
  it('a PUBLISH retried after its PUBREC was lost with the connection is appended once', async () => {
    const b = await open();
    const first = await MqttRawClient.connect(b.mqtt.port, { clientId: 'meter-1', ...persistent });
    expect(first.connack).toMatchObject({ type: PacketType.CONNACK, reasonCode: 0, sessionPresent: false });
    first.client.send(publish(7, 'reading-1'));
    expect(await first.client.next()).toMatchObject({ type: PacketType.PUBREC, packetId: 7, reasonCode: 0 });
    await first.client.destroy();

    const second = await MqttRawClient.connect(b.mqtt.port, { clientId: 'meter-1', ...persistent });
    expect(second.connack).toMatchObject({ sessionPresent: true });
    second.client.send(publish(7, 'reading-1', true));
    expect(await second.client.next()).toMatchObject({ type: PacketType.PUBREC, packetId: 7 });
    second.client.send({ type: PacketType.PUBREL, packetId: 7, reasonCode: 0, properties: {} });
    expect(await second.client.next()).toMatchObject({ type: PacketType.PUBCOMP, packetId: 7, reasonCode: 0 });
    expect(await values(b)).toEqual(['reading-1']);

    // Released: the same packet id now carries a new message.
    second.client.send(publish(7, 'reading-2'));
    expect(await second.client.next()).toMatchObject({ type: PacketType.PUBREC, packetId: 7 });
    second.client.send({ type: PacketType.PUBREL, packetId: 7, reasonCode: 0, properties: {} });
    expect(await second.client.next()).toMatchObject({ type: PacketType.PUBCOMP, packetId: 7 });
    expect(await values(b)).toEqual(['reading-1', 'reading-2']);
    await second.client.destroy();
  });

  it('a PUBLISH cut off right after it was sent is in the log once after the retry, whether or not the first try arrived', async () => {
    const b = await open();
    for (let i = 0; i < 10; i++) {
      const { client } = await MqttRawClient.connect(b.mqtt.port, { clientId: 'meter-2', ...persistent });
      client.send(publish(100 + i, `m-${i}`));
      await client.destroy();
      const retry = await MqttRawClient.connect(b.mqtt.port, { clientId: 'meter-2', ...persistent });
      retry.client.send(publish(100 + i, `m-${i}`, true));
      expect(await retry.client.next()).toMatchObject({ type: PacketType.PUBREC, packetId: 100 + i });
      retry.client.send({ type: PacketType.PUBREL, packetId: 100 + i, reasonCode: 0, properties: {} });
      expect(await retry.client.next()).toMatchObject({ type: PacketType.PUBCOMP });
      await retry.client.destroy();
    }
    expect(await values(b)).toEqual(Array.from({ length: 10 }, (_, i) => `m-${i}`));
  });

  it('a PUBLISH retried after a broker restart finds its session and is not appended again', async () => {
    const b = await open();
    const { client } = await MqttRawClient.connect(b.mqtt.port, { clientId: 'meter-3', ...persistent });
    client.send(publish(9, 'before-restart'));
    expect(await client.next()).toMatchObject({ type: PacketType.PUBREC, packetId: 9 });
    opened.pop();
    await b.close({ keepData: true });

    const restarted = await open(b.dataDir);
    const again = await MqttRawClient.connect(restarted.mqtt.port, { clientId: 'meter-3', ...persistent });
    expect(again.connack).toMatchObject({ sessionPresent: true });
    again.client.send(publish(9, 'before-restart', true));
    expect(await again.client.next()).toMatchObject({ type: PacketType.PUBREC, packetId: 9 });
    again.client.send({ type: PacketType.PUBREL, packetId: 9, reasonCode: 0, properties: {} });
    expect(await again.client.next()).toMatchObject({ type: PacketType.PUBCOMP, packetId: 9, reasonCode: 0 });
    expect(await values(restarted)).toEqual(['before-restart']);
    await again.client.destroy();
  });

  it('answers PUBREL of an unknown packet id with Packet Identifier Not Found', async () => {
    const b = await open();
    const { client } = await MqttRawClient.connect(b.mqtt.port, { clientId: 'meter-4' });
    client.send({ type: PacketType.PUBREL, packetId: 55, reasonCode: 0, properties: {} });
    expect(await client.next()).toMatchObject({ type: PacketType.PUBCOMP, packetId: 55, reasonCode: ReasonCode.PacketIdentifierNotFound });
    await client.destroy();
  });

  it('mqtt.js retrying through a proxy that cuts the connection at every third PUBREC: each message once', async () => {
    const b = await open();
    let recs = 0;
    const proxy = await MqttCuttingProxy.start(b.mqtt.port, (type) => type === PacketType.PUBREC && ++recs % 3 === 0);
    const client = await connectAsync(`mqtt://127.0.0.1:${proxy.port}`, { clientId: 'meter-js', clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 300 }, reconnectPeriod: 20 });
    const count = 15;
    await Promise.all(Array.from({ length: count }, (_, i) => client.publishAsync('meters/js', `v-${i}`, { qos: 2 })));
    await client.endAsync();
    await proxy.close();
    expect(proxy.cuts).toBeGreaterThan(0);
    const got = (await b.records('meters')).map((r) => decoder.decode(r.value!)).sort();
    expect(got).toEqual(Array.from({ length: count }, (_, i) => `v-${i}`).sort());
  });
});
