import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Consumer, stringSerde, TcpTransport } from '../../../sdk/mod.ts';
import { MqttTestBroker } from '../../helpers/mqtt-broker.ts';

/**
 * Debian's mosquitto clients (libmosquitto) against the MQTT listener, and the SDK's Kafka
 * consumer over TCP reading what they published, with the mapped keys and the MQTT 5 user
 * properties as headers.
 */
const run = promisify(execFile);
let broker: MqttTestBroker;
const children: ChildProcess[] = [];

beforeAll(async () => {
  broker = await MqttTestBroker.open({ mapping: [{ filter: 'farm/+/soil/#', topic: 'soil', key: '{1}' }] });
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await broker.close();
});

function pub(args: string[]): Promise<unknown> {
  return run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(broker.mqtt.port), ...args], { timeout: 20_000 });
}

/** Starts mosquitto_sub and resolves once its SUBACK arrived (its debug output says so), with the lines it will print. */
async function sub(args: string[], count: number): Promise<{ lines: Promise<string[]> }> {
  // Line-buffered, or the SUBACK line waits in stdio's buffer until the process exits.
  const child = spawn('stdbuf', ['-oL', 'mosquitto_sub', '-h', '127.0.0.1', '-p', String(broker.mqtt.port), '-d', '-v', '-C', String(count), ...args]);
  children.push(child);
  let out = '';
  const lines = new Promise<string[]>((resolve, reject) => {
    // 'close', not 'exit': the process may exit before its last lines are read from the pipe.
    child.once('close', (code) => (code === 0 ? resolve(out.split('\n').filter((l) => l !== '' && !l.startsWith('Client ') && !l.startsWith('Subscribed'))) : reject(new Error(`mosquitto_sub exited ${code}: ${out}`))));
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('received SUBACK')) resolve();
    });
    child.once('exit', () => reject(new Error(`mosquitto_sub exited before subscribing: ${out}`)));
  });
  return { lines };
}

describe.each(['mqttv311', 'mqttv5'])('mosquitto clients over %s', (version) => {
  it('publish at QoS 0, 1 and 2 and a wildcard subscriber receives them', async () => {
    const { lines } = await sub(['-V', version, '-q', '2', '-t', `lab-${version}/+/temp`, '-t', `lab-${version}/#`], 3);
    for (const qos of [0, 1, 2]) await pub(['-V', version, '-q', String(qos), '-t', `lab-${version}/room${qos}/temp`, '-m', `t${qos}`]);
    expect((await lines).sort()).toEqual([0, 1, 2].map((qos) => `lab-${version}/room${qos}/temp t${qos}`));
  });

  it('retained messages reach a later subscriber, and a will is published when its client dies', async () => {
    await pub(['-V', version, '-q', '1', '-r', '-t', `door-${version}/front`, '-m', 'closed']);
    const { lines: retained } = await sub(['-V', version, '-q', '1', '-t', `door-${version}/+`], 1);
    expect(await retained).toEqual([`door-${version}/front closed`]);

    const { lines: wills } = await sub(['-V', version, '-q', '1', '-t', `wills-${version}/#`], 1);
    const doomed = spawn('stdbuf', ['-oL', 'mosquitto_sub', '-h', '127.0.0.1', '-p', String(broker.mqtt.port), '-d', '-V', version, '-t', 'nothing/here', '--will-topic', `wills-${version}/sensor`, '--will-payload', 'offline', '--will-qos', '1']);
    children.push(doomed);
    await new Promise<void>((resolve) => doomed.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('received SUBACK') && resolve()));
    doomed.kill('SIGKILL');
    expect(await wills).toEqual([`wills-${version}/sensor offline`]);
  });
});

it('a Kafka consumer (the SDK over TCP) reads what mosquitto_pub published, keyed by the mapping, with user properties as headers', async () => {
  for (let i = 0; i < 3; i++) await pub(['-V', 'mqttv5', '-q', '1', '-t', `farm/field-${i}/soil/moisture`, '-m', `m${i}`, '-D', 'publish', 'user-property', 'probe', `p${i}`]);
  const transport = new TcpTransport({ bootstrapServers: [broker.bootstrap] });
  const consumer = new Consumer(transport, { keySerde: stringSerde, valueSerde: stringSerde, maxWaitMs: 100 });
  consumer.assign([{ topic: 'soil', partition: 0, offset: 0 }]);
  const got: { key: string | null; value: string | null; probe: string; topic: string }[] = [];
  const text = new TextDecoder();
  const header = (headers: readonly { key: string; value: Uint8Array | null }[], name: string) => text.decode(headers.find((h) => h.key === name)?.value ?? new Uint8Array());
  for await (const record of consumer) {
    got.push({ key: record.key, value: record.value, probe: header(record.headers, 'probe'), topic: header(record.headers, 'mqtt.topic') });
    if (got.length === 3) break;
  }
  await consumer.close();
  await transport.close();
  expect(got).toEqual([0, 1, 2].map((i) => ({ key: `field-${i}`, value: `m${i}`, probe: `p${i}`, topic: `farm/field-${i}/soil/moisture` })));
});

it('mosquitto_sub in a shared subscription ($share/<name>/...) on 3.1.1 and 5: each share name gets every message', async () => {
  // The log topic exists before the share groups start (at its end).
  await pub(['-V', 'mqttv5', '-q', '1', '-t', 'shared/warmup', '-m', 'before']);
  const { lines: v311 } = await sub(['-V', 'mqttv311', '-q', '1', '-t', '$share/mosq311/shared/#'], 5);
  const { lines: v5 } = await sub(['-V', 'mqttv5', '-q', '2', '-t', '$share/mosq5/shared/#'], 5);
  for (let i = 0; i < 5; i++) await pub(['-V', 'mqttv5', '-q', '1', '-t', `shared/s${i}`, '-m', `m${i}`]);
  const expected = [0, 1, 2, 3, 4].map((i) => `shared/s${i} m${i}`);
  expect((await v311).sort()).toEqual(expected);
  expect((await v5).sort()).toEqual(expected);
});
