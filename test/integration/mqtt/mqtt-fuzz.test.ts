import { connect, type Socket } from 'node:net';
import { connectAsync } from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { encodePacket } from '../../../broker/mqtt/mqtt-encode.ts';
import { PacketType, ProtocolVersion } from '../../../broker/mqtt/mqtt-packet.ts';
import { MqttTestBroker } from '../../helpers/mqtt-broker.ts';
import { FuzzRandom, mutatePacket, seedPackets } from '../../helpers/mqtt-fuzz-packets.ts';

/**
 * Malformed and random packets through live connections of the MQTT listener: 10,000 by default
 * (the short tier), RILL_MQTT_FUZZ_LIVE_PACKETS=100000 for the full tier; RILL_MQTT_FUZZ_SEED
 * replays a run. Each connection CONNECTs properly, then streams mutated packets until the broker
 * closes it. The broker must never fail unexpectedly, keep its memory bounded, append nothing
 * (topics are not auto-created, and none exist), and keep serving a well-formed client.
 */
const PACKETS = Number(process.env['RILL_MQTT_FUZZ_LIVE_PACKETS'] ?? 10_000);
const SEED = Number(process.env['RILL_MQTT_FUZZ_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const WORKERS = 8;
const RSS_GROWTH_BOUND_BYTES = 300 * 1024 * 1024;

let broker: MqttTestBroker;

beforeAll(async () => {
  broker = await MqttTestBroker.open({ limits: { maxPacketBytes: 64 * 1024, connectTimeoutMs: 5_000 } }, { config: { autoCreateTopics: false } });
});

afterAll(async () => {
  await broker.close();
});

function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

it(`survives ${PACKETS} malformed packets on live connections (seed ${SEED})`, async () => {
  const random = new FuzzRandom(SEED);
  const seeds = seedPackets(SEED);
  const rssBefore = process.memoryUsage().rss;
  let maxRss = rssBefore;
  let sent = 0;
  let connections = 0;
  const worker = async (id: number): Promise<void> => {
    while (sent < PACKETS) {
      const socket = await openSocket(broker.mqtt.port);
      socket.on('error', () => undefined);
      socket.on('data', () => undefined);
      connections++;
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      const version = random.chance(0.5) ? ProtocolVersion.v5 : ProtocolVersion.v311;
      socket.write(encodePacket({ type: PacketType.CONNECT, protocolVersion: version, cleanStart: true, keepAliveSeconds: 0, clientId: `fuzz-${id}-${connections}`, properties: {} }, version));
      // A burst per connection: the broker reads on until the first packet it refuses.
      const burst = 1 + random.int(20);
      for (let i = 0; i < burst && sent < PACKETS; i++, sent++) socket.write(mutatePacket(random, seeds));
      socket.end();
      await closed;
      maxRss = Math.max(maxRss, process.memoryUsage().rss);
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, (_, i) => worker(i)));

  expect(broker.errors, `seed ${SEED}`).toEqual([]);
  expect(maxRss - rssBefore).toBeLessThan(RSS_GROWTH_BOUND_BYTES);
  expect(broker.broker.listTopics()).toEqual([]);
  // A well-formed client is still served.
  await broker.broker.createTopic('after');
  const client = await connectAsync(broker.url, { reconnectPeriod: 0, protocolVersion: 5 });
  await client.publishAsync('after/x', 'fine', { qos: 1 });
  await client.endAsync();
  expect((await broker.records('after')).length).toBe(1);
});
