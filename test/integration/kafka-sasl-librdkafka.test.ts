import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingLibrdkafkaTools, PYTHON, run, SKIP_LIBRDKAFKA } from '../helpers/librdkafka-tools.ts';
import { ALL_MECHANISMS, SecureBroker } from '../helpers/secure-broker.ts';
import { makeTestCertificates, type TestCertificates } from '../helpers/test-certificates.ts';

/** Produces `count` records with a confluent-kafka (librdkafka) producer, then reads them back with an assigned consumer; prints the values read. */
const ROUND_TRIP_PY = `
import json, sys, time
from confluent_kafka import Consumer, Producer, TopicPartition, OFFSET_BEGINNING
bootstrap, topic, count, security = sys.argv[1], sys.argv[2], int(sys.argv[3]), json.loads(sys.argv[4])
errors = []
p = Producer({'bootstrap.servers': bootstrap, 'acks': 'all', 'error_cb': lambda e: errors.append(e), **security})
for i in range(count):
    p.produce(topic, value=f'v{i}')
deadline = time.monotonic() + 10
left = p.flush(0.1)
while left != 0 and not errors and time.monotonic() < deadline:
    left = p.flush(0.1)
if left != 0:
    print(json.dumps({'error': errors[0].name() if errors else 'timeout', 'message': errors[0].str() if errors else ''}))
    sys.exit(0)
c = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'librdkafka-sasl', 'enable.auto.commit': False, **security})
c.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
seen = []
while len(seen) < count:
    m = c.poll(10)
    if m is None:
        sys.exit(f'timed out after {len(seen)} messages')
    if m.error():
        sys.exit(str(m.error()))
    seen.append(m.value().decode())
c.close()
print(json.dumps({'values': seen}))
`;

let certs: TestCertificates;
let secure: SecureBroker;

async function roundTrip(port: number, topic: string, security: Record<string, string>): Promise<{ values?: string[]; error?: string; message?: string }> {
  const out = await run(PYTHON, ['-c', ROUND_TRIP_PY, `127.0.0.1:${port}`, topic, '5', JSON.stringify(security)], '', 40_000);
  return JSON.parse(out.trim().split('\n').at(-1)!) as { values?: string[]; error?: string };
}

const FIVE = ['v0', 'v1', 'v2', 'v3', 'v4'];

describe.skipIf(SKIP_LIBRDKAFKA)('librdkafka (confluent-kafka) against SASL and TLS listeners', () => {
  beforeAll(async () => {
    const missing = missingLibrdkafkaTools();
    if (missing !== undefined) throw new Error(missing);
    certs = makeTestCertificates();
    secure = await SecureBroker.open();
    await secure.addUser('alice', 'alice-secret');
  });

  afterAll(async () => {
    await secure?.close();
  });

  it('authenticates with SASL_SSL (SCRAM-SHA-512) and SASL_PLAINTEXT (PLAIN, SCRAM-SHA-256), producing and consuming', async () => {
    const tls = { certFile: certs.serverCertFile, keyFile: certs.serverKeyFile, clientAuth: 'none' as const };
    const sasl = { mechanisms: ALL_MECHANISMS, connectionsMaxReauthMs: 0 };
    const saslSsl = await secure.listen({ tls, sasl });
    const saslPlaintext = await secure.listen({ sasl });
    const credentials = { 'sasl.username': 'alice', 'sasl.password': 'alice-secret' };
    expect(await roundTrip(saslSsl.port, 'rdk-sasl-ssl', { 'security.protocol': 'SASL_SSL', 'sasl.mechanism': 'SCRAM-SHA-512', 'ssl.ca.location': certs.caFile, ...credentials })).toEqual({ values: FIVE });
    for (const mechanism of ['PLAIN', 'SCRAM-SHA-256']) {
      expect(await roundTrip(saslPlaintext.port, `rdk-${mechanism}`, { 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanism': mechanism, ...credentials })).toEqual({ values: FIVE });
    }
  });

  it('reports an authentication error for a wrong password', async () => {
    const listener = await secure.listen({ sasl: { mechanisms: ALL_MECHANISMS, connectionsMaxReauthMs: 0 } });
    const result = await roundTrip(listener.port, 'rdk-wrong', { 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanism': 'SCRAM-SHA-256', 'sasl.username': 'alice', 'sasl.password': 'nope' });
    expect(result.error).toBe('_AUTHENTICATION');
    expect(result.values).toBeUndefined();
  });

  it('connects over SSL with a client certificate (mTLS)', async () => {
    const listener = await secure.listen({ tls: { certFile: certs.serverCertFile, keyFile: certs.serverKeyFile, caFile: certs.caFile, clientAuth: 'required' } });
    const security = { 'security.protocol': 'SSL', 'ssl.ca.location': certs.caFile, 'ssl.certificate.location': certs.clientCertFile, 'ssl.key.location': certs.clientKeyFile };
    expect(await roundTrip(listener.port, 'rdk-mtls', security)).toEqual({ values: FIVE });
  });
});
