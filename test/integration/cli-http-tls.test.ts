import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin, AclOperation, AclPermission, PatternType, ResourceType, TcpTransport } from '../../sdk/mod.ts';
import { type BrokerProcess, startBrokerProcess } from '../helpers/broker-process.ts';
import { ManagedProcess, runtimeCommand, runtimes } from '../helpers/child-process.ts';
import { httpsRequest } from '../helpers/https-request.ts';
import { makeTestCertificates, type TestCertificates } from '../helpers/test-certificates.ts';

let certs: TestCertificates;
beforeAll(() => {
  certs = makeTestCertificates();
});
afterAll(() => rmSync(certs.dir, { recursive: true, force: true }));

const alice = () => ({ ca: readFileSync(certs.caFile), cert: readFileSync(certs.clientCertFile), key: readFileSync(certs.clientKeyFile) });
const record = { records: [{ value: 'x' }] };

describe('rill start --http-tls-*', () => {
  it('refuses bad HTTP TLS flags with a usage error', async () => {
    const run = (args: string[]) => {
      const [command, argv] = runtimeCommand('node', 'broker/cli/main.ts', ['start', ...args]);
      return new ManagedProcess(command, argv).exit();
    };
    const lonely = await run(['--http-tls-cert', certs.serverCertFile]);
    expect([lonely.code, lonely.stderr]).toEqual([2, expect.stringContaining('--http-tls-cert and --http-tls-key go together')]);
    const noCa = await run(['--http-tls-cert', certs.serverCertFile, '--http-tls-key', certs.serverKeyFile, '--http-tls-client-auth', 'required']);
    expect([noCa.code, noCa.stderr]).toEqual([2, expect.stringContaining('--http-tls-client-auth required needs --http-tls-ca')]);
    const open = await run(['--host', '0.0.0.0', '--http-tls-cert', certs.serverCertFile, '--http-tls-key', certs.serverKeyFile, '--http-tls-ca', certs.caFile, '--http-tls-client-auth', 'requested']);
    expect([open.code, open.stderr]).toEqual([2, expect.stringContaining('refusing to serve HTTP on 0.0.0.0 without authentication')]);
  });

  // The HTTPS path is node:tls + node:http on every runtime: one smoke per runtime of mTLS, ACLs, reload and shutdown.
  it.each(runtimes)('serves HTTPS with client certificates on %s: ACLs by certificate subject, SIGHUP reload keeps an open connection', async (runtime) => {
    const dir = mkdtempSync(join(tmpdir(), 'rill-cli-https-'));
    const certFile = join(dir, 'listener.pem');
    const keyFile = join(dir, 'listener.key');
    copyFileSync(certs.serverCertFile, certFile);
    copyFileSync(certs.serverKeyFile, keyFile);
    let broker: BrokerProcess | undefined;
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ...alice() });
    const transport = { current: undefined as TcpTransport | undefined };
    try {
      broker = await startBrokerProcess({
        runtime,
        dataDir: join(dir, 'data'),
        // The plaintext Kafka listener on loopback is User:ANONYMOUS, the super user that sets up the ACLs.
        args: ['--http-tls-cert', certFile, '--http-tls-key', keyFile, '--http-tls-ca', certs.caFile, '--authorizer', '--super-users', 'User:ANONYMOUS'],
      });
      expect(broker.process.stdout).toMatch(/http listening on 127\.0\.0\.1:\d+ \(HTTPS, client certificates required\)/);
      transport.current = new TcpTransport({ bootstrapServers: [broker.bootstrap] });
      const admin = new Admin(transport.current);
      await admin.createTopics([{ name: 'orders' }, { name: 'secret' }]);
      await admin.createAcls([{ resourceType: ResourceType.TOPIC, resourceName: 'orders', patternType: PatternType.LITERAL, principal: certs.clientPrincipal, host: '*', operation: AclOperation.WRITE, permission: AclPermission.ALLOW }]);

      const before = await httpsRequest(broker.httpPort, '/v1/topics/orders/records', { json: record, agent });
      expect([before.status, before.serverCommonName]).toEqual([200, 'localhost']);
      expect((await httpsRequest(broker.httpPort, '/v1/topics/secret/records', { json: record, tls: alice() })).status).toBe(403);
      await expect(httpsRequest(broker.httpPort, '/healthz', { tls: { ca: readFileSync(certs.caFile) } })).rejects.toThrow();

      copyFileSync(certs.renewedCertFile, certFile);
      copyFileSync(certs.renewedKeyFile, keyFile);
      broker.process.child.kill('SIGHUP');
      await broker.process.waitForLine(/reloaded the HTTP listener certificate and key/);
      const same = await httpsRequest(broker.httpPort, '/v1/topics/orders/records', { json: record, agent });
      expect([same.status, same.localPort]).toEqual([200, before.localPort]);
      expect((await httpsRequest(broker.httpPort, '/healthz', { tls: alice() })).serverCommonName).toBe('localhost renewed');
      expect([(await admin.topicOffsets('orders'))[0]!.latest, (await admin.topicOffsets('secret'))[0]!.latest]).toEqual([2, 0]);

      // Shutdown with the keep-alive HTTPS connection still open is clean.
      await transport.current.close();
      const exit = await broker.stop('SIGTERM');
      expect(exit.code, exit.stderr).toBe(0);
    } finally {
      agent.destroy();
      await transport.current?.close();
      await broker?.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
