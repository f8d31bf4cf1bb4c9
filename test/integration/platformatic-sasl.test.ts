import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManagedProcess, repoRoot } from '../helpers/child-process.ts';
import { ALL_MECHANISMS, SecureBroker } from '../helpers/secure-broker.ts';
import { makeTestCertificates, type TestCertificates } from '../helpers/test-certificates.ts';

const SCRIPT = 'test/integration/platformatic/sasl-smoke.ts';

let certs: TestCertificates;
let secure: SecureBroker;

beforeAll(async () => {
  certs = makeTestCertificates();
  secure = await SecureBroker.open();
  await secure.addUser('alice', 'alice-secret');
});

afterAll(async () => {
  await secure?.close();
});

async function smoke(args: string[]): Promise<{ offsets?: string[]; error?: string; message?: string }> {
  const exit = await new ManagedProcess(`${repoRoot}/node_modules/.bin/bun`, [SCRIPT, ...args]).exit();
  expect(exit.code, exit.stderr).toBe(0);
  return JSON.parse(exit.stdout.trim().split('\n').at(-1)!) as { offsets?: string[]; error?: string };
}

function latest(topic: string): number {
  return secure.broker.listOffsets(topic, 0, -1).offset;
}

describe('@platformatic/kafka (under Bun) against SASL listeners', () => {
  it.each([
    ['SCRAM-SHA-512', 'SASL_SSL'],
    ['SCRAM-SHA-256', 'SASL_PLAINTEXT'],
    ['PLAIN', 'SASL_PLAINTEXT'],
  ])('authenticates with %s over %s and produces', async (mechanism, protocol) => {
    const tls = { certFile: certs.serverCertFile, keyFile: certs.serverKeyFile, clientAuth: 'none' as const };
    const sasl = { mechanisms: ALL_MECHANISMS, connectionsMaxReauthMs: 0 };
    const listener = await secure.listen(protocol === 'SASL_SSL' ? { tls, sasl } : { sasl });
    const topic = `platformatic-${mechanism.toLowerCase()}`;
    const result = await smoke([`127.0.0.1:${listener.port}`, topic, mechanism, 'alice', 'alice-secret', ...(protocol === 'SASL_SSL' ? [certs.caFile] : [])]);
    expect(result, result.message).toEqual({ offsets: ['0'] });
    expect(latest(topic)).toBe(3);
  });

  it('fails a wrong password with its authentication error and writes nothing', async () => {
    const listener = await secure.listen({ sasl: { mechanisms: ALL_MECHANISMS, connectionsMaxReauthMs: 0 } });
    const result = await smoke([`127.0.0.1:${listener.port}`, 'platformatic-wrong', 'SCRAM-SHA-256', 'alice', 'wrong']);
    expect(result.error, result.message).toMatch(/PLT_KFK_AUTHENTICATION/);
    expect(secure.broker.listTopics()).not.toContain('platformatic-wrong');
  });
});
