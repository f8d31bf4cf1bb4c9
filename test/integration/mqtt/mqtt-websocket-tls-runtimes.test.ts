import { readFileSync, rmSync } from 'node:fs';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrokerProcess, startBrokerProcess } from '../../helpers/broker-process.ts';
import { runtimes } from '../../helpers/child-process.ts';
import { httpsRequest } from '../../helpers/https-request.ts';
import { makeTestCertificates, type TestCertificates } from '../../helpers/test-certificates.ts';

let certs: TestCertificates;
beforeAll(() => {
  certs = makeTestCertificates();
});
afterAll(() => rmSync(certs.dir, { recursive: true, force: true }));

/**
 * `rill start --http-tls-* --mqtt-port 0` on each runtime: MQTT over wss://…/mqtt of the HTTPS port
 * (node:tls and ws on every runtime), with client certificates required (mTLS, `--http-tls-ca`).
 */
describe.each(runtimes)('MQTT over secure WebSocket with the broker on %s', (runtime) => {
  it('publishes and delivers over wss:// with client certificates, refuses a plain HTTPS request to /mqtt, and stops cleanly', async () => {
    let broker: BrokerProcess | undefined;
    const clients: MqttClient[] = [];
    try {
      broker = await startBrokerProcess({ runtime, args: ['--http-tls-cert', certs.serverCertFile, '--http-tls-key', certs.serverKeyFile, '--http-tls-ca', certs.caFile, '--mqtt-port', '0'] });
      const line = await broker.process.waitForLine(/mqtt listening on /);
      expect(line).toContain(`wss://127.0.0.1:${broker.httpPort}/mqtt`);
      const url = `wss://127.0.0.1:${broker.httpPort}/mqtt`;
      const tls = { ca: readFileSync(certs.caFile), cert: readFileSync(certs.clientCertFile), key: readFileSync(certs.clientKeyFile) };
      const sub = await connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0, ...tls });
      clients.push(sub);
      const received = new Promise<string>((resolve) => sub.on('message', (topic, payload) => resolve(`${topic} ${payload.toString()}`)));
      await sub.subscribeAsync('secure/#', { qos: 1 });
      const pub = await connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, ...tls });
      clients.push(pub);
      await pub.publishAsync('secure/door', 'locked', { qos: 2 });
      expect(await received).toBe('secure/door locked');
      const plain = await httpsRequest(broker.httpPort, '/mqtt', { tls });
      expect(plain.status).toBe(400);
      for (const client of clients.splice(0)) await client.endAsync();
      const exit = await broker.stop('SIGTERM');
      expect(exit.code, exit.stderr).toBe(0);
    } finally {
      for (const client of clients) await client.endAsync(true).catch(() => undefined);
      await broker?.dispose();
    }
  });
});
