import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AclOperation, AclPermission, PatternType, ResourceType } from '../../broker/auth/acl.ts';
import { Broker } from '../../broker/broker.ts';
import { createHttpApp, type HttpApp } from '../../broker/http/http-app.ts';
import type { HttpApiOptions } from '../../broker/http/http-options.ts';
import { type HttpsServer, serveHttps } from '../../broker/http/serve-tls.ts';
import type { ClientAuthMode } from '../../broker/security/tls-config.ts';
import { httpsRequest } from '../helpers/https-request.ts';
import { makeTestCertificates, type TestCertificates } from '../helpers/test-certificates.ts';

let certs: TestCertificates;
const open: { broker: Broker; app: HttpApp; server: HttpsServer; dir: string }[] = [];

beforeAll(() => {
  certs = makeTestCertificates();
});
afterAll(() => rmSync(certs.dir, { recursive: true, force: true }));
afterEach(async () => {
  for (const { broker, app, server, dir } of open.splice(0)) {
    app.close();
    await server.close();
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A broker with the authorizer on and its HTTP API over HTTPS, the listener's files copied so a test can renew them. */
async function serve(clientAuth: ClientAuthMode, api: Partial<HttpApiOptions> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'rill-https-'));
  const certFile = join(dir, 'listener.pem');
  const keyFile = join(dir, 'listener.key');
  copyFileSync(certs.serverCertFile, certFile);
  copyFileSync(certs.serverKeyFile, keyFile);
  const broker = await Broker.open({ config: { dataDir: join(dir, 'data') }, authorizer: { superUsers: ['User:root'] } });
  const app = await createHttpApp(broker, api);
  const server = await serveHttps((request, env) => app.app.fetch(request, env), {
    host: '127.0.0.1',
    port: 0,
    tls: { certFile, keyFile, caFile: certs.caFile, clientAuth },
  });
  open.push({ broker, app, server, dir });
  await broker.createTopic('orders');
  await broker.createTopic('secret');
  await broker.authorizer!.createAcls([
    { resourceType: ResourceType.TOPIC, resourceName: 'orders', patternType: PatternType.LITERAL, principal: certs.clientPrincipal, host: '*', operation: AclOperation.WRITE, permissionType: AclPermission.ALLOW },
  ]);
  return { broker, server, certFile, keyFile };
}

const ca = () => readFileSync(certs.caFile);
const alice = () => ({ ca: ca(), cert: readFileSync(certs.clientCertFile), key: readFileSync(certs.clientKeyFile) });
const stranger = () => ({ ca: ca(), cert: readFileSync(certs.strangerCertFile), key: readFileSync(certs.strangerKeyFile) });
const record = { records: [{ value: 'x' }] };
const logEnd = (broker: Broker, topic: string) => broker.describeTopic(topic).partitions[0]!.logEndOffset;

describe('the HTTP API over TLS', () => {
  it('names a request by its verified client certificate, under the same ACLs as the Kafka listener; a bearer token wins', async () => {
    const tokens = [{ name: 'root', token: 'root-token-1', acls: [{ topics: '*', operations: ['read' as const, 'write' as const, 'admin' as const] }] }];
    const { broker, server } = await serve('requested', { tokens });
    const produce = (topic: string, tls: { ca: Buffer; cert?: Buffer; key?: Buffer }, headers: Record<string, string> = {}) =>
      httpsRequest(server.port, `/v1/topics/${topic}/records`, { json: record, tls, headers });

    expect((await httpsRequest(server.port, '/healthz', { tls: { ca: ca() } })).status).toBe(200);
    expect((await produce('orders', alice())).status).toBe(200);
    const denied = await produce('secret', alice());
    expect(denied.status).toBe(403);
    expect(JSON.parse(denied.body).detail).toContain('"CN=alice,OU=eng,O=acme,C=DE" may not write topic "secret"');
    // Without a token or a verified certificate: tokens are configured, so 401. A certificate from
    // another CA is asked for ("requested") but not verified, so it names nobody.
    expect((await produce('orders', { ca: ca() })).status).toBe(401);
    expect((await produce('orders', stranger())).status).toBe(401);
    // A bearer token is the principal even over a connection with a certificate.
    expect((await produce('secret', alice(), { authorization: 'Bearer root-token-1' })).status).toBe(200);
    expect((await produce('secret', alice(), { authorization: 'Bearer wrong-token-1' })).status).toBe(401);
    expect([logEnd(broker, 'orders'), logEnd(broker, 'secret')]).toEqual([1, 1]);
  });

  it('with client certificates required, refuses a connection without a trusted one', async () => {
    const { broker, server } = await serve('required');
    await expect(httpsRequest(server.port, '/healthz', { tls: { ca: ca() } })).rejects.toThrow();
    await expect(httpsRequest(server.port, '/v1/topics/orders/records', { json: record, tls: stranger() })).rejects.toThrow();
    expect((await httpsRequest(server.port, '/v1/topics/orders/records', { json: record, tls: alice() })).status).toBe(200);
    expect(logEnd(broker, 'orders')).toBe(1);
  });

  it('reloads a renewed certificate for new connections while an open connection keeps serving', async () => {
    const { server, certFile, keyFile } = await serve('required');
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ...alice() });
    try {
      const before = await httpsRequest(server.port, '/v1/topics/orders/records', { json: record, agent });
      expect([before.status, before.serverCommonName]).toEqual([200, 'localhost']);
      copyFileSync(certs.renewedCertFile, certFile);
      copyFileSync(certs.renewedKeyFile, keyFile);
      server.reloadTls();
      const same = await httpsRequest(server.port, '/v1/topics/orders/records', { json: record, agent });
      expect([same.status, same.localPort, same.serverCommonName]).toEqual([200, before.localPort, 'localhost']);
      const fresh = await httpsRequest(server.port, '/healthz', { tls: alice() });
      expect([fresh.status, fresh.serverCommonName]).toEqual([200, 'localhost renewed']);
      // A file that does not parse keeps the current certificate.
      copyFileSync(certs.caFile, keyFile);
      expect(() => server.reloadTls()).toThrow();
      expect((await httpsRequest(server.port, '/healthz', { tls: alice() })).serverCommonName).toBe('localhost renewed');
    } finally {
      agent.destroy();
    }
  });
});
