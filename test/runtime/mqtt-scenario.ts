import { readFileSync, rmSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import { connectAsync, type MqttClient } from 'mqtt';
import { encodePacket } from '../../broker/mqtt/mqtt-encode.ts';
import { PacketType, ProtocolVersion, type PublishPacket } from '../../broker/mqtt/mqtt-packet.ts';
import { MqttTestBroker } from '../helpers/mqtt-broker.ts';
import { MqttRawClient } from '../helpers/mqtt-raw-client.ts';
import { makeTestCertificates } from '../helpers/test-certificates.ts';

export interface MqttReport {
  /** What a wildcard subscriber received, per protocol version: `topic payload qos`. */
  delivered: Record<string, string[]>;
  /** The log's records of the published topic: `key value mqtt.qos`. */
  logged: string[];
  /** Records of a QoS 2 message retried after its PUBREC was lost with the connection. */
  qos2Copies: number;
  sessionPresentOnRetry: boolean;
  mqtts: MqttsReport;
}

export interface MqttsReport {
  /** What a subscriber over mqtts received from a publisher over mqtts: `topic payload qos`. */
  delivered: string;
  /** The log's values of that topic. */
  logged: string[];
  /** Bytes a plaintext client got back for its CONNECT before the mqtts port closed the connection. */
  plaintextAnswerBytes: number;
  /** Whether a client with only a certificate (no credentials) was served where anonymous clients are not. */
  certificateLoginServed: boolean;
  /** Whether a client was served after the plaintext one, and the listener reported no error other than that handshake. */
  servedAfterPlaintext: boolean;
  errorsReported: number;
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
    return { delivered, logged, qos2Copies: (await broker.records('once')).length, sessionPresentOnRetry, mqtts: await runMqttsScenario() };
  } finally {
    for (const c of clients) await c.endAsync(true);
    await broker.close();
  }
}

/**
 * The listener serving TLS only, in this runtime (through its node:tls): mqtt.js over mqtts at QoS
 * 1, a plaintext client dropped at the handshake, and a client certificate as the only credential.
 */
async function runMqttsScenario(): Promise<MqttsReport> {
  const certs = makeTestCertificates();
  const ca = readFileSync(certs.caFile);
  const broker = await MqttTestBroker.open({
    allowAnonymous: false,
    tls: { certFile: certs.serverCertFile, keyFile: certs.serverKeyFile, caFile: certs.caFile, clientAuth: 'requested' },
  });
  const clients: MqttClient[] = [];
  const tlsClient = async (options: { cert?: Buffer; key?: Buffer } = {}): Promise<MqttClient> => {
    const client = await connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0, ca, cert: readFileSync(certs.clientCertFile), key: readFileSync(certs.clientKeyFile), ...options });
    clients.push(client);
    return client;
  };
  try {
    const sub = await tlsClient();
    const received = new Promise<string>((resolve) => sub.once('message', (topic, payload, packet) => resolve(`${topic} ${payload.toString()} ${packet.qos}`)));
    await sub.subscribeAsync('secure/#', { qos: 1 });
    const pub = await tlsClient();
    await pub.publishAsync('secure/s-1', 'sealed', { qos: 1 });
    const delivered = await received;
    const logged = (await broker.records('secure')).map((r) => new TextDecoder().decode(r.value!));

    const plaintextAnswerBytes = await new Promise<number>((resolve, reject) => {
      const socket = connectTcp(broker.mqtt.port, '127.0.0.1');
      let bytes = 0;
      socket.on('data', (chunk: Buffer) => {
        // A TLS alert (content type 21) may come back; count only what could be MQTT.
        if (chunk[0] !== 21) bytes += chunk.length;
      });
      socket.on('error', reject);
      socket.once('connect', () => socket.write(encodePacket({ type: PacketType.CONNECT, protocolVersion: ProtocolVersion.v5, clientId: 'plain', cleanStart: true, keepAliveSeconds: 0, properties: {} }, ProtocolVersion.v5)));
      socket.once('close', () => resolve(bytes));
    });
    const errorsReported = broker.errors.length;
    const after = await tlsClient();
    const again = new Promise<string>((resolve) => after.once('message', (_topic, payload) => resolve(payload.toString())));
    await after.subscribeAsync('again/x', { qos: 1 });
    await after.publishAsync('again/x', 'ok', { qos: 1 });
    const servedAfterPlaintext = (await again) === 'ok' && broker.errors.length === errorsReported;
    const certificateLoginServed = after.connected;
    return { delivered, logged, plaintextAnswerBytes, certificateLoginServed, servedAfterPlaintext, errorsReported };
  } finally {
    for (const c of clients) await c.endAsync(true);
    await broker.close();
    rmSync(certs.dir, { recursive: true, force: true });
  }
}
