import { readFileSync } from 'node:fs';
import { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaListener } from '../../broker/kafka/kafka-listener.ts';
import { ALL_MECHANISMS, SecureBroker } from '../helpers/secure-broker.ts';
import { makeTestCertificates, type TestCertificates } from '../helpers/test-certificates.ts';

let certs: TestCertificates;
let secure: SecureBroker;
let saslSsl: KafkaListener;
let saslPlaintext: KafkaListener;
let mtls: KafkaListener;

beforeAll(async () => {
  certs = makeTestCertificates();
  secure = await SecureBroker.open();
  await secure.addUser('alice', 'alice-secret');
  const tls = { certFile: certs.serverCertFile, keyFile: certs.serverKeyFile, caFile: certs.caFile, clientAuth: 'none' as const };
  const sasl = { mechanisms: ALL_MECHANISMS, connectionsMaxReauthMs: 0 };
  saslSsl = await secure.listen({ tls, sasl });
  saslPlaintext = await secure.listen({ sasl });
  mtls = await secure.listen({ tls: { ...tls, clientAuth: 'required' } });
});

afterAll(async () => {
  await secure?.close();
});

type Mechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';
const mechanisms: Mechanism[] = ['plain', 'scram-sha-256', 'scram-sha-512'];

function client(port: number, options: { sasl?: SASLOptions; ssl?: object }): Kafka {
  return new Kafka({ clientId: 'sasl-test', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING, retry: { retries: 0 }, ...options });
}

/** Produces three records to `topic` and reads them back with a consumer group over the same client settings. */
async function roundTrip(kafka: Kafka, topic: string): Promise<string[]> {
  const producer = kafka.producer({ allowAutoTopicCreation: true });
  await producer.connect();
  await producer.send({ topic, acks: -1, messages: ['a', 'b', 'c'].map((value) => ({ value })) });
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: `${topic}-group` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen: string[] = [];
  await new Promise<void>((resolve, reject) => {
    consumer
      .run({
        eachMessage: async ({ message }) => {
          seen.push(message.value!.toString());
          if (seen.length === 3) resolve();
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return seen;
}

describe('kafkajs against SASL and TLS listeners', () => {
  it.each(mechanisms)('authenticates with %s over SASL_SSL and produces and consumes', async (mechanism) => {
    const kafka = client(saslSsl.port, { ssl: { ca: [readFileSync(certs.caFile)] }, sasl: { mechanism, username: 'alice', password: 'alice-secret' } as SASLOptions });
    expect(await roundTrip(kafka, `sasl-ssl-${mechanism}`)).toEqual(['a', 'b', 'c']);
  });

  it.each(mechanisms)('authenticates with %s over SASL_PLAINTEXT', async (mechanism) => {
    const kafka = client(saslPlaintext.port, { sasl: { mechanism, username: 'alice', password: 'alice-secret' } as SASLOptions });
    expect(await roundTrip(kafka, `sasl-plaintext-${mechanism}`)).toEqual(['a', 'b', 'c']);
  });

  it.each(mechanisms)('rejects a wrong password with %s as an authentication error, and the broker closes the connection', async (mechanism) => {
    const before = saslPlaintext.connectionCount;
    const kafka = client(saslPlaintext.port, { sasl: { mechanism, username: 'alice', password: 'not-her-password' } as SASLOptions });
    const admin = kafka.admin();
    const error = (await admin.connect().then(
      () => expect.unreachable('a wrong password must not authenticate'),
      (e: unknown) => e,
    )) as Error & { type?: string };
    expect(error.name).toBe('KafkaJSSASLAuthenticationError');
    expect(error.message).toMatch(/SASL_AUTHENTICATION_FAILED|invalid credentials/i);
    await admin.disconnect();
    await expect.poll(() => saslPlaintext.connectionCount).toBeLessThanOrEqual(before);
  });

  it('rejects a user that does not exist the same way as a wrong password', async () => {
    const kafka = client(saslPlaintext.port, { sasl: { mechanism: 'scram-sha-512', username: 'nobody', password: 'x' } });
    const admin = kafka.admin();
    await expect(admin.connect()).rejects.toMatchObject({ name: 'KafkaJSSASLAuthenticationError' });
    await admin.disconnect();
  });

  it('serves a client with a certificate from the trusted CA over mTLS, and refuses one without or from another CA', async () => {
    const ca = [readFileSync(certs.caFile)];
    const trusted = client(mtls.port, { ssl: { ca, cert: readFileSync(certs.clientCertFile), key: readFileSync(certs.clientKeyFile) } });
    expect(await roundTrip(trusted, 'mtls')).toEqual(['a', 'b', 'c']);
    for (const ssl of [{ ca }, { ca, cert: readFileSync(certs.strangerCertFile), key: readFileSync(certs.strangerKeyFile) }]) {
      const admin = client(mtls.port, { ssl }).admin();
      await expect(admin.connect()).rejects.toThrow();
      await admin.disconnect();
    }
  });

  it('re-authenticates on its open connection when the session lifetime nears its end (KIP-368), without reconnecting', async () => {
    const listener = await secure.listen({ sasl: { mechanisms: ALL_MECHANISMS, connectionsMaxReauthMs: 60_000 } });
    // kafkajs re-authenticates before a request once less than reauthenticationThreshold of the session remains: here after 100 ms.
    const kafka = new Kafka({
      clientId: 'reauth',
      brokers: [`127.0.0.1:${listener.port}`],
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
      reauthenticationThreshold: 59_900,
      sasl: { mechanism: 'scram-sha-256', username: 'alice', password: 'alice-secret' },
    });
    const admin = kafka.admin();
    await admin.connect();
    await admin.listTopics();
    const stats = listener.sasl!.stats;
    const authenticated = stats.authenticated;
    await expect
      .poll(
        async () => {
          await admin.listTopics();
          return stats.reauthenticated;
        },
        { timeout: 8_000, interval: 20 },
      )
      .toBeGreaterThan(0);
    expect(stats.authenticated).toBe(authenticated);
    expect(stats.failed).toBe(0);
    await admin.disconnect();
  });
});
