import { readFileSync, rmSync } from 'node:fs';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrokerProcess, startBrokerProcess } from '../../helpers/broker-process.ts';
import { ManagedProcess, runtimeCommand } from '../../helpers/child-process.ts';
import { makeTestCertificates, type TestCertificates } from '../../helpers/test-certificates.ts';

let certs: TestCertificates;
beforeAll(() => {
  certs = makeTestCertificates();
});
afterAll(() => rmSync(certs.dir, { recursive: true, force: true }));

describe('rill start --mqtt-tls-*', () => {
  it('refuses MQTT TLS flags without --mqtt-port, or a certificate without its key, with a usage error', async () => {
    const run = (args: string[]) => {
      const [command, argv] = runtimeCommand('node', 'broker/cli/main.ts', ['start', ...args]);
      return new ManagedProcess(command, argv).exit();
    };
    const noPort = await run(['--mqtt-tls-cert', certs.serverCertFile, '--mqtt-tls-key', certs.serverKeyFile]);
    expect([noPort.code, noPort.stderr]).toEqual([2, expect.stringContaining('--mqtt-tls-cert needs --mqtt-port')]);
    const lonely = await run(['--mqtt-port', '0', '--mqtt-tls-cert', certs.serverCertFile]);
    expect([lonely.code, lonely.stderr]).toEqual([2, expect.stringContaining('--mqtt-tls-cert and --mqtt-tls-key go together')]);
  });

  it('serves mqtts with client certificates, reloads its certificate on SIGHUP and stops cleanly', async () => {
    let broker: BrokerProcess | undefined;
    const clients: MqttClient[] = [];
    try {
      broker = await startBrokerProcess({ args: ['--mqtt-port', '0', '--mqtt-tls-cert', certs.serverCertFile, '--mqtt-tls-key', certs.serverKeyFile, '--mqtt-tls-ca', certs.caFile] });
      const line = await broker.process.waitForLine(/mqtts listening on /);
      const port = /mqtts listening on 127\.0\.0\.1:(\d+) \(client certificates required\) and ws:\/\//.exec(line)?.[1];
      expect(port, line).toBeDefined();
      const url = `mqtts://127.0.0.1:${port}`;
      const tls = { ca: readFileSync(certs.caFile), cert: readFileSync(certs.clientCertFile), key: readFileSync(certs.clientKeyFile) };
      const sub = await connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0, ...tls });
      clients.push(sub);
      const received = new Promise<string>((resolve) => sub.on('message', (topic, payload) => resolve(`${topic} ${payload.toString()}`)));
      await sub.subscribeAsync('vault/#', { qos: 1 });
      const pub = await connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, ...tls });
      clients.push(pub);
      await pub.publishAsync('vault/door', 'shut', { qos: 1 });
      expect(await received).toBe('vault/door shut');

      broker.process.child.kill('SIGHUP');
      await broker.process.waitForLine(/reloaded the MQTT listener certificate and key/);
      for (const client of clients.splice(0)) await client.endAsync();
      const exit = await broker.stop('SIGTERM');
      expect(exit.code, exit.stderr).toBe(0);
    } finally {
      for (const client of clients) await client.endAsync(true).catch(() => undefined);
      await broker?.dispose();
    }
  });
});
