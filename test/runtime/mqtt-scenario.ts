import { connectAsync, type MqttClient } from 'mqtt';
import { PacketType, type PublishPacket } from '../../broker/mqtt/mqtt-packet.ts';
import { MqttTestBroker } from '../helpers/mqtt-broker.ts';
import { MqttRawClient } from '../helpers/mqtt-raw-client.ts';

export interface MqttReport {
  /** What a wildcard subscriber received, per protocol version: `topic payload qos`. */
  delivered: Record<string, string[]>;
  /** The log's records of the published topic: `key value mqtt.qos`. */
  logged: string[];
  /** Records of a QoS 2 message retried after its PUBREC was lost with the connection. */
  qos2Copies: number;
  sessionPresentOnRetry: boolean;
}

/**
 * The MQTT listener's main path in this runtime: mqtt.js (3.1.1 and 5.0) publishes at QoS 0, 1
 * and 2 and subscribes with wildcards, the log holds the mapped records, and a QoS 2 message whose
 * PUBREC is lost is appended once after the client retries on a new connection.
 */
export async function runMqttScenario(): Promise<MqttReport> {
  const broker = await MqttTestBroker.open({ mapping: [{ filter: 'rt/+/v', topic: 'rt' }] });
  const clients: MqttClient[] = [];
  const decoder = new TextDecoder();
  try {
    const delivered: Record<string, string[]> = {};
    for (const version of [4, 5] as const) {
      const sub = await connectAsync(broker.url, { protocolVersion: version, reconnectPeriod: 0 });
      clients.push(sub);
      const got: string[] = [];
      const all = new Promise<void>((resolve) =>
        sub.on('message', (topic, payload, packet) => {
          got.push(`${topic} ${payload.toString()} ${packet.qos}`);
          if (got.length === 3) resolve();
        }),
      );
      await sub.subscribeAsync(`rt/d${version}/+`, { qos: 1 });
      const pub = await connectAsync(broker.url, { protocolVersion: version, reconnectPeriod: 0 });
      clients.push(pub);
      for (const qos of [1, 2, 0] as const) await pub.publishAsync(`rt/d${version}/v`, `q${qos}`, { qos });
      await all;
      delivered[String(version)] = got;
    }
    const logged = (await broker.records('rt')).map((r) => `${decoder.decode(r.key!)} ${decoder.decode(r.value!)} ${decoder.decode(r.headers.find((h) => h.key === 'mqtt.qos')!.value!)}`);

    const publish: PublishPacket = { type: PacketType.PUBLISH, dup: false, qos: 2, retain: false, topic: 'once/x', packetId: 5, properties: {}, payload: new TextEncoder().encode('once') };
    const connect = { clientId: 'rt-once', cleanStart: false, properties: { sessionExpiryInterval: 60 } };
    const first = await MqttRawClient.connect(broker.mqtt.port, connect);
    first.client.send(publish);
    await first.client.next();
    await first.client.destroy();
    const retry = await MqttRawClient.connect(broker.mqtt.port, connect);
    retry.client.send({ ...publish, dup: true });
    await retry.client.next();
    retry.client.send({ type: PacketType.PUBREL, packetId: 5, reasonCode: 0, properties: {} });
    await retry.client.next();
    await retry.client.destroy();
    const sessionPresentOnRetry = retry.connack.type === PacketType.CONNACK && retry.connack.sessionPresent;
    return { delivered, logged, qos2Copies: (await broker.records('once')).length, sessionPresentOnRetry };
  } finally {
    for (const c of clients) await c.endAsync(true);
    await broker.close();
  }
}
