import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SASL_PASSWORD_ENV } from '../../broker/security/kafka-security-start-options.ts';
import { Admin, TcpTransport } from '../../sdk/mod.ts';
import { ManagedProcess, runtimeCommand } from '../helpers/child-process.ts';
import { makeTestCertificates, type TestCertificates } from '../helpers/test-certificates.ts';

const processes: ManagedProcess[] = [];
const dirs: string[] = [];
let certs: TestCertificates;

beforeAll(() => {
  certs = makeTestCertificates();
  // Read by the broker processes started below (ManagedProcess inherits the environment).
  process.env[SASL_PASSWORD_ENV] = 'alice-secret';
});

afterAll(() => {
  delete process.env[SASL_PASSWORD_ENV];
  rmSync(certs.dir, { recursive: true, force: true });
});

afterEach(async () => {
  await Promise.all(processes.splice(0).map((p) => p.stop('SIGKILL')));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rill-cli-security-'));
  dirs.push(dir);
  return dir;
}

function cli(args: string[]): ManagedProcess {
  const [command, argv] = runtimeCommand('bun', 'broker/cli/main.ts', args);
  const proc = new ManagedProcess(command, argv);
  processes.push(proc);
  return proc;
}

function peerCommonName(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca: readFileSync(certs.caFile) }, () => {
      resolve(String(socket.getPeerCertificate().subject.CN));
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

describe('rill start with Kafka listener security', () => {
  it('refuses an unauthenticated Kafka listener on a non-loopback address unless told --allow-unauthenticated', async () => {
    const config = join(tempDir(), 'http.json');
    writeFileSync(config, JSON.stringify({ tokens: [{ name: 'ops', token: 'ops-token-123', acls: [] }] }));
    const refused = await cli(['start', '--data-dir', join(tempDir(), 'd'), '--host', '0.0.0.0', '--kafka-port', '0', '--http-port', '0', '--http-config', config]).exit();
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/refusing to serve Kafka on 0\.0\.0\.0 without authentication/);
    const badMode = await cli(['start', '--kafka-tls-cert', certs.serverCertFile, '--kafka-tls-key', certs.serverKeyFile, '--kafka-tls-client-auth', 'sometimes']).exit();
    expect(badMode.code).toBe(2);
    expect(badMode.stderr).toMatch(/option '--kafka-tls-client-auth <mode>' argument 'sometimes' is invalid\. Allowed choices are none, requested, required/);
  });

  it('serves SASL_SSL with a bootstrap user, and reloads the certificate on SIGHUP', async () => {
    const dataDir = tempDir();
    const certFile = join(tempDir(), 'listener.pem');
    const keyFile = join(dirname(certFile), 'listener.key');
    copyFileSync(certs.serverCertFile, certFile);
    copyFileSync(certs.serverKeyFile, keyFile);
    const broker = cli([
      'start', '--data-dir', dataDir, '--kafka-port', '0', '--http-port', '0',
      '--kafka-tls-cert', certFile, '--kafka-tls-key', keyFile,
      '--kafka-sasl-mechanisms', 'SCRAM-SHA-512,PLAIN', '--kafka-max-reauth-ms', '600000',
      '--kafka-sasl-user', 'alice',
    ]);
    const listening = await broker.waitForLine(/kafka listening on/);
    expect(listening).toMatch(/SASL_SSL/);
    await broker.waitForLine(/broker ready/);
    expect(broker.stdout).toMatch(/created SCRAM credentials for user alice/);
    const port = Number(/advertised [^:]+:(\d+)/.exec(listening)![1]);
    const transport = new TcpTransport({ bootstrapServers: [`127.0.0.1:${port}`], tls: { ca: readFileSync(certs.caFile) }, sasl: { mechanism: 'SCRAM-SHA-512', username: 'alice', password: 'alice-secret' } });
    try {
      const admin = new Admin(transport);
      await admin.createTopics([{ name: 'secured' }]);
      expect(await admin.describeScramCredentials()).toEqual([{ user: 'alice', credentials: [{ mechanism: 'SCRAM-SHA-256', iterations: 8192 }, { mechanism: 'SCRAM-SHA-512', iterations: 8192 }] }]);
      expect(await peerCommonName(port)).toBe('localhost');
      copyFileSync(certs.renewedCertFile, certFile);
      copyFileSync(certs.renewedKeyFile, keyFile);
      broker.child.kill('SIGHUP');
      await broker.waitForLine(/reloaded the Kafka listener certificate/);
      expect(await peerCommonName(port)).toBe('localhost renewed');
      expect(await admin.listTopics()).toContain('secured');
    } finally {
      await transport.close();
    }
    const stopped = await broker.stop('SIGTERM');
    expect(stopped.code, stopped.stderr).toBe(0);
  });
});
