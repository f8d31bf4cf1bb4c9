import { afterEach, expect, it } from 'vitest';
import { publishPipelined } from '../../../bench/peers/mqtt-pipelined-publisher.ts';
import { MqttTestBroker } from '../../helpers/mqtt-broker.ts';

const opened: MqttTestBroker[] = [];
const decoder = new TextDecoder();

afterEach(async () => {
  for (const b of opened.splice(0)) await b.close();
});

// The bench's load generator is a measuring instrument: every PUBACK it counts must be a message in the log.
it('the pipelined publisher of bench/mqtt.ts counts one PUBACK per message, and every message is in the log once', async () => {
  const b = await MqttTestBroker.open();
  opened.push(b);
  const payload = new TextEncoder().encode('reading');
  const { latenciesMs } = await publishPipelined({ host: '127.0.0.1', port: b.mqtt.port, clients: 3, window: 16, messages: 3_000, payload });
  expect(latenciesMs).toHaveLength(3_000);
  expect(latenciesMs.every((ms) => ms > 0)).toBe(true);
  const records = await b.records('bench');
  expect(records).toHaveLength(3_000);
  const perDevice = new Map<string, number>();
  for (const record of records) {
    const topic = decoder.decode(record.headers.find((h) => h.key === 'mqtt.topic')!.value!);
    perDevice.set(topic, (perDevice.get(topic) ?? 0) + 1);
    expect(decoder.decode(record.value!)).toBe('reading');
  }
  expect(Object.fromEntries(perDevice)).toEqual({ 'bench/device-0/reading': 1_000, 'bench/device-1/reading': 1_000, 'bench/device-2/reading': 1_000 });
});

it('the pipelined publisher fails on a refused CONNECT instead of measuring nothing', async () => {
  const b = await MqttTestBroker.open({ allowAnonymous: false });
  opened.push(b);
  await expect(publishPipelined({ host: '127.0.0.1', port: b.mqtt.port, clients: 1, window: 4, messages: 10, payload: new Uint8Array(1) })).rejects.toThrow(
    'CONNECT refused with return code 5',
  );
  expect(await b.records('bench')).toEqual([]);
});
