import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, readFileSync, rmSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import { join } from 'node:path';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AclOperation, AclPermission, PatternType, ResourceType } from '../../../broker/auth/acl.ts';
import { serveHttps } from '../../../broker/http/serve-tls.ts';
import { encodePacket } from '../../../broker/mqtt/mqtt-encode.ts';
import { mqttWebSocketEndpoint } from '../../../broker/mqtt/mqtt-websocket-endpoint.ts';
import { PacketType, ProtocolVersion } from '../../../broker/mqtt/mqtt-packet.ts';
import { Consumer, stringSerde, TcpTransport } from '../../../sdk/mod.ts';
import { MqttTestBroker } from '../../helpers/mqtt-broker.ts';
import { makeTestCertificates, type TestCertificates } from '../../helpers/test-certificates.ts';

/** The MQTT listener serving TLS only (mqtts): mqtt.js, mosquitto's clients, plaintext clients and client certificates. */
const run = promisify(execFile);
let certs: TestCertificates;
let ca: Buffer;
const clients: MqttClient[] = [];
const children: ChildProcess[] = [];

beforeAll(() => {
  certs = makeTestCertificates();
  ca = readFileSync(certs.caFile);
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  for (const client of clients) await client.endAsync(true);
  rmSync(certs.dir, { recursive: true, force: true });
});

async function client(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  const c = await connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0, ca, ...options });
  clients.push(c);
  return c;
}

function firstMessage(c: MqttClient): Promise<string> {
  return new Promise((resolve) => c.once('message', (topic, payload, packet) => resolve(`${topic} ${payload.toString()} ${packet.qos}`)));
}

const connectBytes = encodePacket({ type: PacketType.CONNECT, protocolVersion: ProtocolVersion.v5, clientId: 'raw', cleanStart: true, keepAliveSeconds: 0, properties: {} }, ProtocolVersion.v5);

/** Bytes a plaintext MQTT client gets back after sending CONNECT to the port, once the broker closed the connection. */
function plaintextConnect(port: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.once('connect', () => socket.write(connectBytes));
    socket.once('close', () => resolve(Buffer.concat(chunks)));
  });
}

/**
 * What a TLS client gets for a CONNECT sent as soon as its side of the handshake is done: with TLS
 * 1.3 the server checks the client certificate after that, so a refusal shows as an error (the
 * server's alert) and a close instead of a CONNACK.
 */
function tlsConnect(port: number, options: { cert?: Buffer; key?: Buffer }): Promise<{ error: string | undefined; mqttBytes: number }> {
  return new Promise((resolve) => {
    const socket = connectTls({ host: '127.0.0.1', port, ca, ...options });
    let error: string | undefined;
    let mqttBytes = 0;
    socket.on('data', (chunk: Buffer) => {
      mqttBytes += chunk.length;
      socket.destroy();
    });
    socket.on('error', (e: Error) => {
      error = e.message;
    });
    socket.once('secureConnect', () => socket.write(connectBytes));
    socket.once('close', () => resolve({ error, mqttBytes }));
  });
}

describe('mqtts with a server certificate', () => {
  let broker: MqttTestBroker;
  let certFile: string;
  let keyFile: string;

  beforeAll(async () => {
    // Copies, so the reload test can put the renewed certificate in their place.
    certFile = join(certs.dir, 'mqtt-server.pem');
    keyFile = join(certs.dir, 'mqtt-server.key');
    copyFileSync(certs.serverCertFile, certFile);
    copyFileSync(certs.serverKeyFile, keyFile);
    broker = await MqttTestBroker.open({ tls: { certFile, keyFile, clientAuth: 'none' } });
  });

  afterAll(() => broker.close());

  it('mqtt.js publishes at QoS 1 over mqtts, a subscriber receives it and a Kafka consumer reads the record', async () => {
    expect(broker.url).toBe(`mqtts://127.0.0.1:${broker.mqtt.port}`);
    const sub = await client(broker.url);
    const received = firstMessage(sub);
    await sub.subscribeAsync('meters/#', { qos: 1 });
    const pub = await client(broker.url, { protocolVersion: 4 });
    await pub.publishAsync('meters/m-1', 'kwh=42', { qos: 1 });
    expect(await received).toBe('meters/m-1 kwh=42 1');

    const consumer = new Consumer(new TcpTransport({ bootstrapServers: [broker.bootstrap] }), { keySerde: stringSerde, valueSerde: stringSerde, maxWaitMs: 100 });
    consumer.assign([{ topic: 'meters', partition: 0, offset: 0 }]);
    for await (const record of consumer) {
      expect([record.key, record.value]).toEqual(['m-1', 'kwh=42']);
      break;
    }
    await consumer.close();
  });

  it('drops a plaintext MQTT client at the handshake without a CONNACK, and keeps serving TLS clients', async () => {
    const errorsBefore = broker.errors.length;
    const answer = await plaintextConnect(broker.mqtt.port);
    // At most a TLS alert record (content type 21), never an MQTT CONNACK (0x20).
    expect(answer.length === 0 || answer[0] === 21, answer.toString('hex')).toBe(true);
    expect(broker.errors.slice(errorsBefore)).toHaveLength(1);
    expect(broker.mqtt.connectionCount).toBe(clients.filter((c) => c.connected).length);

    const after = await client(broker.url);
    const received = firstMessage(after);
    await after.subscribeAsync('after/plain', { qos: 1 });
    await after.publishAsync('after/plain', 'still served', { qos: 1 });
    expect(await received).toBe('after/plain still served 1');
  });

  it("Debian's mosquitto_pub and mosquitto_sub with --cafile", async () => {
    const tlsArgs = ['-h', '127.0.0.1', '-p', String(broker.mqtt.port), '--cafile', certs.caFile];
    // Line-buffered, or the SUBACK line waits in stdio's buffer until the process exits.
    const child = spawn('stdbuf', ['-oL', 'mosquitto_sub', ...tlsArgs, '-V', 'mqttv5', '-d', '-v', '-q', '1', '-C', '1', '-t', 'greenhouse/#']);
    children.push(child);
    let out = '';
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('received SUBACK')) resolve();
      });
      child.once('exit', () => reject(new Error(`mosquitto_sub exited before subscribing: ${out}`)));
    });
    await run('mosquitto_pub', [...tlsArgs, '-V', 'mqttv311', '-q', '1', '-t', 'greenhouse/g-2', '-m', 'humid'], { timeout: 20_000 });
    expect(await exited, out).toBe(0);
    expect(out.split('\n')).toContain('greenhouse/g-2 humid');
    expect((await broker.records('greenhouse')).map((r) => new TextDecoder().decode(r.value!))).toEqual(['humid']);
  });

  it('serves renewed certificate files to new connections after reloadTls', async () => {
    const subjectOfServer = async (): Promise<string | undefined> => {
      const socket: TLSSocket = connectTls({ host: '127.0.0.1', port: broker.mqtt.port, ca });
      await new Promise<void>((resolve, reject) => {
        socket.once('secureConnect', resolve);
        socket.once('error', reject);
      });
      const subject = socket.getPeerCertificate().subject?.CN;
      socket.destroy();
      return Array.isArray(subject) ? subject.join() : subject;
    };
    expect(await subjectOfServer()).toBe('localhost');
    copyFileSync(certs.renewedCertFile, certFile);
    copyFileSync(certs.renewedKeyFile, keyFile);
    broker.mqtt.reloadTls();
    expect(await subjectOfServer()).toBe('localhost renewed');
    await client(broker.url);
  });
});

describe('mqtts with client certificates', () => {
  let broker: MqttTestBroker;
  const mtls = (): IClientOptions => ({ cert: readFileSync(certs.clientCertFile), key: readFileSync(certs.clientKeyFile) });

  beforeAll(async () => {
    broker = await MqttTestBroker.open(
      { allowAnonymous: false, tls: { certFile: certs.serverCertFile, keyFile: certs.serverKeyFile, caFile: certs.caFile, clientAuth: 'required' } },
      { authorizer: {} },
    );
    await broker.broker.createTopic('alice');
    await broker.broker.createTopic('secret');
    const allow = (operation: number) => ({
      resourceType: ResourceType.TOPIC,
      resourceName: 'alice',
      patternType: PatternType.LITERAL,
      principal: certs.clientPrincipal,
      host: '*',
      operation,
      permissionType: AclPermission.ALLOW,
    });
    await broker.broker.authorizer!.createAcls([allow(AclOperation.WRITE), allow(AclOperation.READ)] as never);
  });

  afterAll(() => broker.close());

  it("a CONNECT without credentials acts as the certificate's principal, whose ACLs apply", async () => {
    const alice = await client(broker.url, mtls());
    const received = firstMessage(alice);
    await alice.subscribeAsync('alice/#', { qos: 1 });
    await alice.publishAsync('alice/notes', 'mine', { qos: 1 });
    expect(await received).toBe('alice/notes mine 1');
    await expect(alice.publishAsync('secret/plans', 'not mine', { qos: 1 })).rejects.toThrow(/not authorized/i);
    expect((await broker.records('alice')).length).toBe(1);
    expect(await broker.records('secret')).toEqual([]);
  });

  it("logs a wss:// client in as its certificate's principal too (MQTT over WebSocket on the HTTPS port)", async () => {
    const https = await serveHttps(() => new Response('not found', { status: 404 }), {
      host: '127.0.0.1',
      port: 0,
      tls: { certFile: certs.serverCertFile, keyFile: certs.serverKeyFile, caFile: certs.caFile, clientAuth: 'required' },
      webSocket: mqttWebSocketEndpoint(() => broker.mqtt),
    });
    try {
      const alice = await client(`wss://127.0.0.1:${https.port}/mqtt`, mtls());
      const received = firstMessage(alice);
      await alice.subscribeAsync('alice/#', { qos: 1 });
      await alice.publishAsync('alice/web', 'over wss', { qos: 1 });
      expect(await received).toBe('alice/web over wss 1');
      await expect(alice.publishAsync('secret/plans', 'not mine', { qos: 1 })).rejects.toThrow(/not authorized/i);
      expect(await broker.records('secret')).toEqual([]);
      await alice.endAsync();
    } finally {
      await https.close();
    }
  });

  it('refuses a client without a certificate, or with one from a CA it does not trust, at the handshake', async () => {
    const errorsBefore = broker.errors.length;
    const anonymous = await tlsConnect(broker.mqtt.port, {});
    const stranger = await tlsConnect(broker.mqtt.port, { cert: readFileSync(certs.strangerCertFile), key: readFileSync(certs.strangerKeyFile) });
    const alice = await tlsConnect(broker.mqtt.port, { cert: readFileSync(certs.clientCertFile), key: readFileSync(certs.clientKeyFile) });
    expect([anonymous.mqttBytes, stranger.mqttBytes]).toEqual([0, 0]);
    expect(anonymous.error).toMatch(/certificate required/);
    expect(alice.mqttBytes).toBeGreaterThan(0);
    expect(broker.errors.slice(errorsBefore)).toHaveLength(2);
    await client(broker.url, mtls());
  });
});
