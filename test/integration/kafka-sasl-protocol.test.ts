import { copyFileSync, readFileSync } from 'node:fs';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaListener } from '../../broker/kafka/kafka-listener.ts';
import { KafkaServer, defaultKafkaServerLimits } from '../../broker/kafka/kafka-server.ts';
import { principalToString } from '../../broker/security/kafka-principal.ts';
import { tlsServerOptions } from '../../broker/security/tls-config.ts';
import { ScramClient } from '../../sdk/auth/scram-client.ts';
import { ScramMechanisms } from '../../sdk/auth/scram.ts';
import { ErrorCode } from '../../sdk/protocol/error-codes.ts';
import { ApiKey, encodeRequest } from '../../sdk/protocol/mod.ts';
import { Admin, TcpTransport } from '../../sdk/mod.ts';
import { RawKafkaClient } from '../helpers/raw-kafka-client.ts';
import { ALL_MECHANISMS, SecureBroker } from '../helpers/secure-broker.ts';
import { makeTestCertificates, type TestCertificates } from '../helpers/test-certificates.ts';

const utf8 = new TextEncoder();
const metadataRequest = { topics: [], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false };

let certs: TestCertificates;
let secure: SecureBroker;
let listener: KafkaListener;

beforeAll(async () => {
  certs = makeTestCertificates();
  secure = await SecureBroker.open();
  await secure.addUser('alice', 'alice-secret');
  await secure.addUser('carol', 'carol-secret');
  listener = await secure.listen({ sasl: { mechanisms: ALL_MECHANISMS, connectionsMaxReauthMs: 3_600_000 } });
});

afterAll(async () => {
  await secure?.close();
});

async function plain(raw: RawKafkaClient, user: string, password: string, version = 2) {
  const handshake = await raw.request(ApiKey.SaslHandshake, 1, { mechanism: 'PLAIN' });
  expect(handshake.errorCode).toBe(0);
  return raw.request(ApiKey.SaslAuthenticate, version, { authBytes: utf8.encode(`\u0000${user}\u0000${password}`) });
}

async function scram(raw: RawKafkaClient, user: string, password: string) {
  expect((await raw.request(ApiKey.SaslHandshake, 1, { mechanism: 'SCRAM-SHA-256' })).errorCode).toBe(0);
  const client = new ScramClient(ScramMechanisms['SCRAM-SHA-256'], user, password);
  const first = await raw.request(ApiKey.SaslAuthenticate, 2, { authBytes: client.first() });
  expect(first.errorCode).toBe(0);
  const final = await raw.request(ApiKey.SaslAuthenticate, 2, { authBytes: await client.final(first.authBytes) });
  if (final.errorCode === 0) client.verify(final.authBytes);
  return final;
}

describe('SASL on the Kafka listener, over the wire', () => {
  it('advertises SaslHandshake 0-1 and SaslAuthenticate 0-2, and closes a connection that sends anything else before authenticating', async () => {
    const raw = await RawKafkaClient.connect(listener.port);
    const versions = await raw.request(ApiKey.ApiVersions, 3, { clientSoftwareName: 't', clientSoftwareVersion: '1' });
    expect(versions.apiKeys.find((a) => a.apiKey === ApiKey.SaslHandshake)).toMatchObject({ minVersion: 0, maxVersion: 1 });
    expect(versions.apiKeys.find((a) => a.apiKey === ApiKey.SaslAuthenticate)).toMatchObject({ minVersion: 0, maxVersion: 2 });
    await expect(raw.request(ApiKey.Metadata, 12, metadataRequest)).rejects.toThrow(/closed/);
    await raw.closed();
  });

  it('refuses an unoffered mechanism with UNSUPPORTED_SASL_MECHANISM and the list, then closes', async () => {
    const raw = await RawKafkaClient.connect(listener.port);
    const handshake = await raw.request(ApiKey.SaslHandshake, 1, { mechanism: 'GSSAPI' });
    expect(handshake).toEqual({ errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms: ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] });
    await raw.closed();
  });

  it('answers a wrong password with SASL_AUTHENTICATION_FAILED and a message, then closes the connection', async () => {
    for (const exchange of [plain, scram]) {
      const raw = await RawKafkaClient.connect(listener.port);
      const response = await exchange(raw, 'alice', 'wrong');
      expect(response.errorCode).toBe(ErrorCode.SASL_AUTHENTICATION_FAILED);
      expect(response.errorMessage).toMatch(/invalid credentials/);
      await raw.closed();
    }
    // Both failures are in the broker's audit log, with the mechanism and the source address.
    const audit = readFileSync(`${secure.dataDir}/audit.log`, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const failures = audit.filter((e) => e['event'] === 'authentication-failed').map((e) => [e['mechanism'], e['host'], String(e['reason'])]);
    expect(failures.slice(0, 2)).toEqual([
      ['PLAIN', '127.0.0.1', expect.stringMatching(/invalid credentials/)],
      ['SCRAM-SHA-256', '127.0.0.1', expect.stringMatching(/invalid credentials/)],
    ]);
  });

  it('serves requests once authenticated and reports the session lifetime (KIP-368); re-authentication keeps the user and refuses another', async () => {
    const raw = await RawKafkaClient.connect(listener.port);
    const authenticated = await scram(raw, 'alice', 'alice-secret');
    expect(authenticated.errorCode).toBe(0);
    expect(authenticated.sessionLifetimeMs).toBe(3_600_000n);
    expect((await raw.request(ApiKey.Metadata, 12, metadataRequest)).brokers).toHaveLength(1);
    expect((await scram(raw, 'alice', 'alice-secret')).errorCode).toBe(0);
    expect((await raw.request(ApiKey.Metadata, 12, metadataRequest)).brokers).toHaveLength(1);
    const switched = await scram(raw, 'carol', 'carol-secret');
    expect(switched.errorCode).toBe(ErrorCode.SASL_AUTHENTICATION_FAILED);
    expect(switched.errorMessage).toMatch(/re-authentication as "carol"/);
    await raw.closed();
  });

  it('takes bare SASL tokens after SaslHandshake v0 (pre-KIP-152 clients)', async () => {
    const raw = await RawKafkaClient.connect(listener.port);
    expect((await raw.request(ApiKey.SaslHandshake, 0, { mechanism: 'PLAIN' })).errorCode).toBe(0);
    const token = await raw.sendFrame(utf8.encode('\u0000alice\u0000alice-secret'));
    expect(token).toHaveLength(0);
    expect((await raw.request(ApiKey.Metadata, 12, metadataRequest)).brokers).toHaveLength(1);
    raw.close();
  });

  it('rate-limits failed authentications per source address: past the limit even the right password is refused unchecked', async () => {
    const limited = await secure.listen({ sasl: { mechanisms: ['PLAIN'], connectionsMaxReauthMs: 0, failureLimits: { maxFailures: 2, windowMs: 3_600_000, maxAddresses: 16 } } });
    for (let i = 0; i < 2; i++) {
      const raw = await RawKafkaClient.connect(limited.port);
      expect((await plain(raw, 'alice', `guess-${i}`)).errorCode).toBe(ErrorCode.SASL_AUTHENTICATION_FAILED);
      await raw.closed();
    }
    const raw = await RawKafkaClient.connect(limited.port);
    const refused = await plain(raw, 'alice', 'alice-secret');
    expect(refused.errorCode).toBe(ErrorCode.SASL_AUTHENTICATION_FAILED);
    expect(refused.errorMessage).toMatch(/too many failed authentications from 127\.0\.0\.1/);
    await raw.closed();
    expect(limited.sasl!.failures.trackedAddresses).toBe(1);
    const other = await RawKafkaClient.connect(listener.port);
    expect((await plain(other, 'alice', 'alice-secret')).errorCode).toBe(0);
    other.close();
  });
});

describe('SCRAM credentials administered over the wire', () => {
  it('creates, describes and deletes users with the SDK admin over SASL_SSL+SCRAM, and they survive a restart without any password on disk', async () => {
    const own = await SecureBroker.open();
    await own.addUser('admin', 'admin-secret');
    const tls = { certFile: certs.serverCertFile, keyFile: certs.serverKeyFile, clientAuth: 'none' as const };
    const sasl = { mechanisms: ALL_MECHANISMS, connectionsMaxReauthMs: 0 };
    let port = (await own.listen({ tls, sasl })).port;
    const transport = (user: string, password: string, mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512') =>
      new TcpTransport({ bootstrapServers: [`127.0.0.1:${port}`], tls: { ca: readFileSync(certs.caFile) }, sasl: { mechanism, username: user, password }, reconnectBackoff: { initialMs: 1, maxMs: 1 } as never });
    const adminTransport = transport('admin', 'admin-secret', 'SCRAM-SHA-512');
    const admin = new Admin(adminTransport);
    await admin.alterScramCredentials({
      upsertions: [
        { user: 'bob', mechanism: 'SCRAM-SHA-256', password: 'bob-secret', iterations: 4096 },
        { user: 'bob', mechanism: 'SCRAM-SHA-512', password: 'bob-secret', iterations: 8192 },
      ],
    });
    await expect(admin.alterScramCredentials({ upsertions: [{ user: 'weak', mechanism: 'SCRAM-SHA-256', password: 'x', iterations: 1000 }] })).rejects.toMatchObject({ errorName: 'UNACCEPTABLE_CREDENTIAL' });
    expect(await admin.describeScramCredentials(['bob'])).toEqual([
      { user: 'bob', credentials: [{ mechanism: 'SCRAM-SHA-256', iterations: 4096 }, { mechanism: 'SCRAM-SHA-512', iterations: 8192 }] },
    ]);
    await expect(admin.describeScramCredentials(['nobody'])).rejects.toMatchObject({ errorName: 'RESOURCE_NOT_FOUND' });
    await adminTransport.close();

    await own.close(true);
    const file = readFileSync(`${own.dataDir}/scram-credentials.json`, 'utf8');
    expect(file).not.toContain('bob-secret');
    expect(JSON.parse(file).users.bob['SCRAM-SHA-256']).toEqual({ salt: expect.any(String), iterations: 4096, storedKey: expect.any(String), serverKey: expect.any(String) });

    const reopened = await SecureBroker.open(own.dataDir);
    try {
      port = (await reopened.listen({ tls, sasl })).port;
      for (const mechanism of ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const) {
        const bob = transport('bob', 'bob-secret', mechanism);
        expect(await new Admin(bob).describeScramCredentials()).toEqual([
          { user: 'admin', credentials: [{ mechanism: 'SCRAM-SHA-256', iterations: 4096 }, { mechanism: 'SCRAM-SHA-512', iterations: 4096 }] },
          { user: 'bob', credentials: [{ mechanism: 'SCRAM-SHA-256', iterations: 4096 }, { mechanism: 'SCRAM-SHA-512', iterations: 8192 }] },
        ]);
        await bob.close();
      }
      const bob = new Admin(transport('bob', 'bob-secret', 'SCRAM-SHA-256'));
      await bob.alterScramCredentials({ deletions: [{ user: 'bob', mechanism: 'SCRAM-SHA-512' }] });
      await expect(bob.alterScramCredentials({ deletions: [{ user: 'bob', mechanism: 'SCRAM-SHA-512' }] })).rejects.toMatchObject({ errorName: 'RESOURCE_NOT_FOUND' });
      await bob.transport.close();
      const refused = new Admin(transport('bob', 'bob-secret', 'SCRAM-SHA-512'));
      await expect(refused.describeScramCredentials()).rejects.toMatchObject({ errorName: 'SASL_AUTHENTICATION_FAILED' });
      await refused.transport.close();
    } finally {
      await reopened.close();
    }
  });
});

describe('TLS on the Kafka listener', () => {
  it('names a verified client certificate User:<subject in RFC 2253 order>, and leaves a client without one ANONYMOUS', async () => {
    const principals: string[] = [];
    const server = await KafkaServer.listen({
      ...defaultKafkaServerLimits,
      host: '127.0.0.1',
      port: 0,
      tls: tlsServerOptions({ certFile: certs.serverCertFile, keyFile: certs.serverKeyFile, caFile: certs.caFile, clientAuth: 'requested' }),
      handler: async (_frame, connection) => {
        principals.push(principalToString(connection.principal));
        return [new Uint8Array([0, 0, 0, 1])];
      },
    });
    try {
      for (const withCertificate of [true, false]) {
        const socket = tlsConnect({
          host: '127.0.0.1',
          port: server.port,
          ca: readFileSync(certs.caFile),
          ...(withCertificate ? { cert: readFileSync(certs.clientCertFile), key: readFileSync(certs.clientKeyFile) } : {}),
        });
        await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
        const answered = new Promise<void>((resolve) => socket.once('data', () => resolve()));
        socket.write(new Uint8Array([0, 0, 0, 4, 0, 3, 0, 0]));
        await answered;
        socket.destroy();
      }
    } finally {
      await server.close();
    }
    expect(principals).toEqual([certs.clientPrincipal, 'User:ANONYMOUS']);
  });

  it('reloads a renewed certificate for new connections while an open connection keeps working', async () => {
    const own = await SecureBroker.open();
    const certFile = `${own.dataDir}/listener.pem`;
    const keyFile = `${own.dataDir}/listener.key`;
    copyFileSync(certs.serverCertFile, certFile);
    copyFileSync(certs.serverKeyFile, keyFile);
    const tlsListener = await own.listen({ tls: { certFile, keyFile, clientAuth: 'none' } });
    const open = async () => {
      const socket = tlsConnect({ host: '127.0.0.1', port: tlsListener.port, ca: readFileSync(certs.caFile) });
      await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
      return socket;
    };
    let correlationId = 0;
    const apiVersions = (socket: TLSSocket) =>
      new Promise<number>((resolve, reject) => {
        const frame = encodeRequest(ApiKey.ApiVersions, 0, { correlationId: ++correlationId, clientId: 'reload' }, { clientSoftwareName: '', clientSoftwareVersion: '' });
        const size = new Uint8Array(4);
        new DataView(size.buffer).setUint32(0, frame.length);
        socket.once('data', (chunk: Buffer) => resolve(chunk.readInt32BE(4)));
        socket.once('error', reject);
        socket.write(size);
        socket.write(frame);
      });
    try {
      const before = await open();
      expect(before.getPeerCertificate().subject.CN).toBe('localhost');
      expect(await apiVersions(before)).toBe(1);
      copyFileSync(certs.renewedCertFile, certFile);
      copyFileSync(certs.renewedKeyFile, keyFile);
      tlsListener.reloadTls();
      const after = await open();
      expect(after.getPeerCertificate().subject.CN).toBe('localhost renewed');
      expect(await apiVersions(after)).toBe(2);
      expect(await apiVersions(before)).toBe(3);
      expect(before.destroyed).toBe(false);
      before.destroy();
      after.destroy();
    } finally {
      await own.close();
    }
  });
});
