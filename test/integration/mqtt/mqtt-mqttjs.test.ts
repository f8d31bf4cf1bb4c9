import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../helpers/eventually.ts';
import { MqttTestBroker } from '../../helpers/mqtt-broker.ts';

let broker: MqttTestBroker;
const clients: MqttClient[] = [];
const decoder = new TextDecoder();

beforeAll(async () => {
  broker = await MqttTestBroker.open({ mapping: [{ filter: 'sensors/+/temp', topic: 'sensors' }] });
});

afterAll(async () => {
  for (const client of clients) await client.endAsync(true).catch(() => undefined);
  await broker.close();
});

async function client(protocolVersion: 4 | 5, options: IClientOptions = {}): Promise<MqttClient> {
  const c = await connectAsync(broker.url, { protocolVersion, reconnectPeriod: 0, connectTimeout: 10_000, ...options });
  clients.push(c);
  return c;
}

function header(record: { headers: readonly { key: string; value: Uint8Array | null }[] }, name: string): string | undefined {
  const h = record.headers.find((x) => x.key === name);
  return h?.value == null ? undefined : decoder.decode(h.value);
}

/** Resolves with the first `count` messages the client receives. */
function messages(c: MqttClient, count: number): Promise<{ topic: string; payload: string; qos: number; retain: boolean; properties: Record<string, unknown> }[]> {
  const got: { topic: string; payload: string; qos: number; retain: boolean; properties: Record<string, unknown> }[] = [];
  return new Promise((resolve) => {
    c.on('message', (topic, payload, packet) => {
      got.push({ topic, payload: payload.toString(), qos: packet.qos, retain: packet.retain, properties: (packet.properties ?? {}) as Record<string, unknown> });
      if (got.length === count) resolve(got);
    });
  });
}

describe.each([4, 5] as const)('mqtt.js with protocol version %i', (version) => {
  it('publishes at QoS 0, 1 and 2 into the mapped log topic with the mapped key', async () => {
    const c = await client(version, { clientId: `pub-${version}` });
    await c.publishAsync(`sensors/dev-${version}/temp`, 'q1', { qos: 1 });
    await c.publishAsync(`sensors/dev-${version}/temp`, 'q2', { qos: 2 });
    await c.publishAsync(`sensors/dev-${version}/temp`, 'q0', { qos: 0 });
    // QoS 0 has no acknowledgement: a QoS 1 publish behind it on the same connection is appended after it.
    await c.publishAsync(`sensors/dev-${version}/temp`, 'fence', { qos: 1 });
    const records = (await broker.records('sensors')).filter((r) => decoder.decode(r.key!) === `dev-${version}`);
    expect(records.map((r) => decoder.decode(r.value!))).toEqual(['q1', 'q2', 'q0', 'fence']);
    expect(records.map((r) => header(r, 'mqtt.qos'))).toEqual(['1', '2', '0', '1']);
    expect(header(records[0]!, 'mqtt.topic')).toBe(`sensors/dev-${version}/temp`);
  });

  it('delivers to wildcard subscribers at the lower QoS, from the log', async () => {
    const sub = await client(version, { clientId: `sub-${version}` });
    await sub.subscribeAsync([`plant${version}/+/level`, `plant${version}/#`].map((topic) => topic), { qos: 1 });
    const received = messages(sub, 2);
    const pub = await client(version);
    await pub.publishAsync(`plant${version}/tank-1/level`, '42', { qos: 2 });
    await pub.publishAsync(`plant${version}/tank-2/pressure`, '7', { qos: 0 });
    const got = await received;
    expect(got.map((m) => [m.topic, m.payload, m.qos])).toEqual([
      [`plant${version}/tank-1/level`, '42', 1],
      [`plant${version}/tank-2/pressure`, '7', 0],
    ]);
  });

  it('keeps a retained message and gives it to a later subscriber', async () => {
    const pub = await client(version);
    await pub.publishAsync(`status${version}/door`, 'open', { qos: 1, retain: true });
    const sub = await client(version);
    const received = messages(sub, 1);
    await sub.subscribeAsync(`status${version}/+`, { qos: 1 });
    const [message] = await received;
    expect(message).toMatchObject({ topic: `status${version}/door`, payload: 'open', retain: true });
  });

  it('publishes the last will of a client that drops without DISCONNECT', async () => {
    const watcher = await client(version);
    await watcher.subscribeAsync(`wills${version}/#`, { qos: 1 });
    const received = messages(watcher, 1);
    const doomed = await client(version, { will: { topic: `wills${version}/dev`, payload: Buffer.from('gone'), qos: 1, retain: false } });
    (doomed as unknown as { stream: { destroy(): void } }).stream.destroy();
    const [will] = await received;
    expect(will).toMatchObject({ topic: `wills${version}/dev`, payload: 'gone' });
  });
});

describe('MQTT 5 properties', () => {
  it('holds a will for its Will Delay Interval, drops it when the client resumes the session first, and publishes it when a clean start ends the session', async () => {
    const watcher = await client(5);
    await watcher.subscribeAsync('delayed-wills/#', { qos: 1 });
    const received: { topic: string; payload: string; atMs: number }[] = [];
    const waiting = new Map<string, (atMs: number) => void>();
    watcher.on('message', (topic, payload) => {
      const message = { topic, payload: payload.toString(), atMs: Date.now() };
      received.push(message);
      waiting.get(message.payload)?.(message.atMs);
    });
    /** When the will with this payload arrives (ask before it can). */
    const arrival = (payload: string): Promise<number> => new Promise((resolve) => waiting.set(payload, resolve));
    const persistent = (clientId: string, willDelayInterval: number, clean = false): IClientOptions => ({
      clientId,
      clean,
      properties: { sessionExpiryInterval: 600 },
      will: { topic: `delayed-wills/${clientId}`, payload: Buffer.from(clientId), qos: 1, retain: false, properties: { willDelayInterval } },
    });
    const drop = (c: MqttClient): void => (c as unknown as { stream: { destroy(): void } }).stream.destroy();

    const late = await client(5, persistent('late', 1));
    const lateArrival = arrival('late');
    const droppedAtMs = Date.now();
    drop(late);
    // A timer of the interval starts once the broker sees the connection gone: never earlier.
    expect((await lateArrival) - droppedAtMs).toBeGreaterThanOrEqual(1000);

    drop(await client(5, persistent('back', 600)));
    await eventually(() => (broker.mqtt.wills.size === 1 ? true : undefined), 'the will pending');
    const resumed = await client(5, persistent('back', 600));
    expect(broker.mqtt.wills.size).toBe(0);
    await resumed.endAsync();

    drop(await client(5, persistent('replaced', 600)));
    await eventually(() => (broker.mqtt.wills.size === 1 ? true : undefined), 'the will pending');
    const replacedArrival = arrival('replaced');
    await client(5, persistent('replaced', 600, true));
    await replacedArrival;
    expect(received.map((m) => m.payload).sort()).toEqual(['late', 'replaced']);
  });

  it('carries user properties and content type into record headers and back to subscribers', async () => {
    const sub = await client(5);
    await sub.subscribeAsync('props/#', { qos: 1 });
    const received = messages(sub, 1);
    const pub = await client(5);
    await pub.publishAsync('props/a', '{"t":1}', { qos: 1, properties: { userProperties: { site: 'north', unit: 'C' }, contentType: 'application/json', messageExpiryInterval: 3600 } });
    const [record] = await broker.records('props');
    expect(header(record!, 'site')).toBe('north');
    expect(header(record!, 'unit')).toBe('C');
    expect(header(record!, 'content-type')).toBe('application/json');
    expect(Number(header(record!, 'mqtt.expires-at'))).toBeGreaterThan(Date.now());
    const [message] = await received;
    expect(message!.properties).toMatchObject({ userProperties: { site: 'north', unit: 'C' }, contentType: 'application/json' });
  });

  it('resolves topic aliases', async () => {
    const pub = await client(5);
    await pub.publishAsync('alias/x', 'one', { qos: 1, properties: { topicAlias: 3 } });
    await pub.publishAsync('', 'two', { qos: 1, properties: { topicAlias: 3 } });
    const records = await broker.records('alias');
    expect(records.map((r) => [header(r, 'mqtt.topic'), decoder.decode(r.value!)])).toEqual([
      ['alias/x', 'one'],
      ['alias/x', 'two'],
    ]);
  });
});
