import { connectAsync, type MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { Consumer, stringSerde, TcpTransport } from '../../../sdk/mod.ts';
import { type BrokerProcess, startBrokerProcess } from '../../helpers/broker-process.ts';
import { runtimes } from '../../helpers/child-process.ts';

/** `rill start --mqtt-port 0` on each runtime: mqtt.js over ws://…/mqtt of the HTTP port, a Kafka consumer, the refusals, a clean shutdown. */
describe.each(runtimes)('MQTT over WebSocket with the broker on %s', (runtime) => {
  it('publishes at QoS 1 and 2, delivers to a subscriber and to shared subscribers, is read by a Kafka consumer, refuses bad upgrades and stops cleanly', async () => {
    let broker: BrokerProcess | undefined;
    const clients: MqttClient[] = [];
    try {
      broker = await startBrokerProcess({ runtime, args: ['--mqtt-port', '0'] });
      const line = await broker.process.waitForLine(/mqtt listening on /);
      const url = /(ws:\/\/\S+\/mqtt)/.exec(line)![1]!;
      expect(url).toBe(`ws://127.0.0.1:${broker.httpPort}/mqtt`);

      const sub = await connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0 });
      clients.push(sub);
      const got: string[] = [];
      const received = new Promise<void>((resolve) =>
        sub.on('message', (topic, payload, packet) => {
          got.push(`${topic} ${payload.toString()} ${packet.qos}`);
          if (got.length === 2) resolve();
        }),
      );
      await sub.subscribeAsync('rt/+/v', { qos: 2 });
      const pub = await connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0 });
      clients.push(pub);
      await pub.publishAsync('rt/dev/v', 'q1', { qos: 1 });
      await pub.publishAsync('rt/dev/v', 'q2', { qos: 2 });
      await received;
      expect(got.sort()).toEqual(['rt/dev/v q1 1', 'rt/dev/v q2 2']);

      const transport = new TcpTransport({ bootstrapServers: [broker.bootstrap] });
      const consumer = new Consumer(transport, { keySerde: stringSerde, valueSerde: stringSerde, maxWaitMs: 100 });
      consumer.assign([{ topic: 'rt', partition: 0, offset: 0 }]);
      const logged: string[] = [];
      try {
        for await (const record of consumer) {
          logged.push(`${record.key} ${record.value}`);
          if (logged.length === 2) break;
        }
      } finally {
        await consumer.close();
        await transport.close();
      }
      expect(logged).toEqual(['dev/v q1', 'dev/v q2']);

      // Shared subscriptions (share group mqtt-share-rt): two members split what is published, each message once.
      const members = [await connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0 }), await connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0 })];
      clients.push(...members);
      const split: string[] = [];
      const all = new Promise<void>((resolve) =>
        members.forEach((m) =>
          m.on('message', (_topic, payload) => {
            split.push(payload.toString());
            if (split.length === 20) resolve();
          }),
        ),
      );
      for (const m of members) await m.subscribeAsync('$share/rt/rt/#', { qos: 1 });
      for (let i = 0; i < 20; i++) await pub.publishAsync(`rt/s${i}`, `s${i}`, { qos: 1 });
      await all;
      expect(split.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `s${i}`).sort());

      const plain = await fetch(`http://127.0.0.1:${broker.httpPort}/mqtt`);
      expect([plain.status, plain.headers.get('content-type')]).toEqual([400, 'application/problem+json']);
      const wrong = new WebSocket(url, ['json']);
      wrong.on('error', () => undefined);
      expect(await new Promise((resolve) => wrong.on('unexpected-response', (_request, response) => resolve(response.statusCode)))).toBe(400);
      const text = new WebSocket(url, ['mqtt']);
      await new Promise((resolve) => text.once('open', resolve));
      expect(text.protocol).toBe('mqtt');
      const closed = new Promise((resolve) => text.once('close', (code) => resolve(code)));
      text.send('not mqtt');
      expect(await closed).toBe(1003);

      const exit = await broker.stop('SIGTERM');
      expect(exit.code, exit.stderr).toBe(0);
      expect(exit.stdout).toContain('stopped cleanly');
    } finally {
      for (const client of clients) await client.endAsync(true).catch(() => undefined);
      await broker?.dispose();
    }
  });
});
