import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createHttpApp, type HttpApp } from '../../../broker/http/http-app.ts';
import { type HttpServer, serveHttp } from '../../../broker/http/serve.ts';
import { decodePacket } from '../../../broker/mqtt/mqtt-decode.ts';
import { encodePacket } from '../../../broker/mqtt/mqtt-encode.ts';
import { type MqttPacket, PacketType, ProtocolVersion } from '../../../broker/mqtt/mqtt-packet.ts';
import { MqttPacketSplitter } from '../../../broker/mqtt/mqtt-packet-splitter.ts';
import { mqttWebSocketEndpoint } from '../../../broker/mqtt/mqtt-websocket-endpoint.ts';
import { Consumer, stringSerde, TcpTransport } from '../../../sdk/mod.ts';
import { MqttTestBroker } from '../../helpers/mqtt-broker.ts';

const TOKEN = 'ws-secret-token';
let broker: MqttTestBroker;
let http: HttpApp;
let server: HttpServer;
const clients: MqttClient[] = [];

beforeAll(async () => {
  broker = await MqttTestBroker.open({ mapping: [{ filter: 'meters/+/kwh', topic: 'meters' }], allowAnonymous: true, tokens: [{ name: 'meter', token: TOKEN, acls: [{ topics: '*', operations: ['read', 'write'] }] }], limits: { maxPacketBytes: 4096 } });
  http = await createHttpApp(broker.broker, {});
  server = await serveHttp((request, env) => http.app.fetch(request, env), { host: '127.0.0.1', port: 0, webSocket: mqttWebSocketEndpoint(() => broker.mqtt) });
});

afterAll(async () => {
  for (const client of clients) await client.endAsync(true).catch(() => undefined);
  await broker.mqtt.close();
  http.close();
  await server.close();
  await broker.close();
});

const url = () => `ws://127.0.0.1:${server.port}/mqtt`;

async function client(protocolVersion: 4 | 5, options: IClientOptions = {}): Promise<MqttClient> {
  const c = await connectAsync(url(), { protocolVersion, reconnectPeriod: 0, connectTimeout: 10_000, ...options });
  clients.push(c);
  return c;
}

describe.each([4, 5] as const)('mqtt.js over ws://…/mqtt with protocol version %i', (version) => {
  it('publishes at QoS 1 and 2 and subscribes; a Kafka consumer reads the mapped records', async () => {
    const sub = await client(version);
    const got: string[] = [];
    const received = new Promise<void>((resolve) =>
      sub.on('message', (topic, payload, packet) => {
        got.push(`${topic} ${payload.toString()} ${packet.qos}`);
        if (got.length === 2) resolve();
      }),
    );
    await sub.subscribeAsync(`meters/ws${version}/+`, { qos: 2 });
    const pub = await client(version);
    await pub.publishAsync(`meters/ws${version}/kwh`, 'q1', { qos: 1 });
    // Larger than one frame of most clients' writes would be, but inside the packet limit.
    await pub.publishAsync(`meters/ws${version}/kwh`, 'q2'.padEnd(3000, '.'), { qos: 2 });
    await received;
    expect(got.sort()).toEqual([`meters/ws${version}/kwh q1 1`, `meters/ws${version}/kwh ${'q2'.padEnd(3000, '.')} 2`]);

    const transport = new TcpTransport({ bootstrapServers: [broker.bootstrap] });
    const consumer = new Consumer(transport, { keySerde: stringSerde, valueSerde: stringSerde, maxWaitMs: 100 });
    consumer.assign([{ topic: 'meters', partition: 0, offset: 0 }]);
    const logged: string[] = [];
    try {
      for await (const record of consumer) {
        if (record.key === `ws${version}`) logged.push(record.value!.slice(0, 2));
        if (logged.length === 2) break;
      }
    } finally {
      await consumer.close();
      await transport.close();
    }
    expect(logged).toEqual(['q1', 'q2']);
  });
});

it('applies the same auth, packet limit and session takeover as TCP', async () => {
  await expect(connectAsync(url(), { protocolVersion: 5, reconnectPeriod: 0, username: 'meter', password: 'wrong' })).rejects.toThrow(/Bad User Name or Password|bad user name/i);
  const authed = await client(5, { username: 'meter', password: TOKEN });
  expect(authed.connected).toBe(true);

  const tcp = await connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0, clientId: 'roaming' });
  clients.push(tcp);
  const takenOver = new Promise<number | undefined>((resolve) => tcp.on('disconnect', (packet) => resolve(packet.reasonCode)));
  await client(5, { clientId: 'roaming' });
  expect(await takenOver).toBe(0x8e);

  const big = await client(5);
  const closed = new Promise<number | undefined>((resolve) => big.on('disconnect', (packet) => resolve(packet.reasonCode)));
  big.publish('meters/big/kwh', 'x'.repeat(5000), { qos: 1 });
  expect(await closed).toBe(0x95);
});

describe('a bad upgrade', () => {
  it('without a WebSocket upgrade gets a 400 problem naming the subprotocol', async () => {
    const response = await fetch(`http://127.0.0.1:${server.port}/mqtt`);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(((await response.json()) as { detail: string }).detail).toMatch(/WebSocket upgrade .*Sec-WebSocket-Protocol: mqtt/);
  });

  it('offering another subprotocol (or none) gets a 400 problem', async () => {
    for (const protocols of [['json'], []]) {
      const ws = new WebSocket(url(), protocols);
      const refused = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        ws.on('open', () => reject(new Error('upgraded')));
        ws.on('error', () => undefined);
        ws.on('unexpected-response', (_request, response) => {
          let body = '';
          response.on('data', (chunk: Buffer) => (body += chunk.toString()));
          response.on('end', () => resolve({ status: response.statusCode!, body }));
        });
      });
      expect(refused.status).toBe(400);
      expect((JSON.parse(refused.body) as { detail: string }).detail).toContain('needs the WebSocket subprotocol "mqtt"');
    }
  });

  it('echoes the mqtt subprotocol and closes with 1003 on a text frame', async () => {
    const ws = new WebSocket(url(), ['mqtt']);
    await new Promise((resolve) => ws.once('open', resolve));
    expect(ws.protocol).toBe('mqtt');
    const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.send('CONNECT please');
    expect(await closed).toEqual({ code: 1003, reason: 'MQTT over WebSocket takes binary frames only' });
    expect(broker.errors).toEqual([]);
  });
});

it('reads packets split over frames and several packets in one frame, and applies keep-alive (MQTT §6)', async () => {
  const ws = new WebSocket(url(), ['mqtt']);
  await new Promise((resolve) => ws.once('open', resolve));
  const splitter = new MqttPacketSplitter(1 << 20);
  const packets: MqttPacket[] = [];
  let waiter: (() => void) | undefined;
  ws.on('message', (data: Buffer) => {
    for (const raw of splitter.push(new Uint8Array(data))) packets.push(decodePacket(raw.first, raw.body, ProtocolVersion.v5));
    waiter?.();
  });
  const next = async (): Promise<MqttPacket> => {
    while (packets.length === 0) await new Promise<void>((resolve) => (waiter = resolve));
    return packets.shift()!;
  };
  const connect = encodePacket({ type: PacketType.CONNECT, protocolVersion: ProtocolVersion.v5, clientId: 'framed', cleanStart: true, keepAliveSeconds: 1, properties: {} }, ProtocolVersion.v5);
  ws.send(connect.subarray(0, 3));
  ws.send(connect.subarray(3));
  expect(await next()).toMatchObject({ type: PacketType.CONNACK, reasonCode: 0 });
  const ping = encodePacket({ type: PacketType.PINGREQ }, ProtocolVersion.v5);
  ws.send(Buffer.concat([ping, ping]));
  expect([await next(), await next()]).toMatchObject([{ type: PacketType.PINGRESP }, { type: PacketType.PINGRESP }]);
  const closed = new Promise((resolve) => ws.once('close', resolve));
  // Silent past one and a half keep-alives: the broker ends the connection with Keep Alive Timeout.
  expect(await next()).toMatchObject({ type: PacketType.DISCONNECT, reasonCode: 0x8d });
  await closed;
});
