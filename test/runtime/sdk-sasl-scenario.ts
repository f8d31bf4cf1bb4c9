import { readFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { defaultKafkaServerLimits, KafkaServer } from '../../broker/kafka/kafka-server.ts';
import { principalToString } from '../../broker/security/kafka-principal.ts';
import { tlsServerOptions } from '../../broker/security/tls-config.ts';
import { Admin, Producer, TcpTransport } from '../../sdk/mod.ts';
import type { SaslCredentials } from '../../sdk/transport/sasl-client.ts';
import { ALL_MECHANISMS, SecureBroker } from '../helpers/secure-broker.ts';
import { CLOSE_WITHOUT_GRACE_MS } from './close-without-grace.ts';
import { makeTestCertificates } from '../helpers/test-certificates.ts';

export interface SdkSaslReport {
  /** Records each mechanism's producer wrote and read back through the admin's offsets. */
  written: Record<string, number>;
  wrongPassword: string;
  reauthenticated: number;
  /** Authentications before and after the session lifetime passed: equal when no connection was reopened. */
  authenticatedBefore: number;
  authenticatedAfter: number;
  failed: number;
  /** The principal a listener gave a client presenting the test client certificate. */
  mtlsPrincipal: string;
}

/** Connects with the client certificate to a bare TLS listener and returns the principal its connection was given. */
async function mtlsPrincipal(certs: ReturnType<typeof makeTestCertificates>): Promise<string> {
  const seen: string[] = [];
  const server = await KafkaServer.listen({
    ...defaultKafkaServerLimits,
    // Far beyond the test's timeout: closing must not wait out the grace when the client has gone.
    shutdownGraceMs: CLOSE_WITHOUT_GRACE_MS,
    host: '127.0.0.1',
    port: 0,
    tls: tlsServerOptions({ certFile: certs.serverCertFile, keyFile: certs.serverKeyFile, caFile: certs.caFile, clientAuth: 'required' }),
    handler: async (_frame, connection) => {
      seen.push(principalToString(connection.principal));
      return [new Uint8Array([0, 0, 0, 1])];
    },
  });
  try {
    const socket = tlsConnect({ host: '127.0.0.1', port: server.port, ca: readFileSync(certs.caFile), cert: readFileSync(certs.clientCertFile), key: readFileSync(certs.clientKeyFile) });
    await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    const answered = new Promise<void>((resolve) => socket.once('data', () => resolve()));
    socket.write(new Uint8Array([0, 0, 0, 4, 0, 3, 0, 0]));
    await answered;
    socket.destroy();
  } finally {
    await server.close();
  }
  return seen.join(',');
}

/**
 * The SDK's TCP transport over TLS + SASL against an in-process broker: produce with each mechanism,
 * a wrong password, and a session lifetime short enough that the transport must re-authenticate
 * (KIP-368) on its open connections instead of being cut off.
 */
export async function runSdkSaslScenario(): Promise<SdkSaslReport> {
  const certs = makeTestCertificates();
  const secure = await SecureBroker.open();
  try {
    await secure.addUser('alice', 'alice-secret');
    const listener = await secure.listen({
      tls: { certFile: certs.serverCertFile, keyFile: certs.serverKeyFile, clientAuth: 'none' },
      sasl: { mechanisms: ALL_MECHANISMS, connectionsMaxReauthMs: 1_500 },
      // Far beyond the test's timeout: closing with idle connections open must not wait out the grace.
      limits: { shutdownGraceMs: CLOSE_WITHOUT_GRACE_MS },
    });
    const transport = (sasl: SaslCredentials) =>
      new TcpTransport({ bootstrapServers: [`127.0.0.1:${listener.port}`], tls: { ca: readFileSync(certs.caFile) }, sasl, reconnectBackoff: { initialMs: 10, maxMs: 50 } });
    const written: Record<string, number> = {};
    for (const mechanism of ALL_MECHANISMS) {
      const t = transport({ mechanism, username: 'alice', password: 'alice-secret' });
      const producer = new Producer(t);
      const topic = `sdk-${mechanism.toLowerCase()}`;
      await new Admin(t).createTopics([{ name: topic }]);
      for (let i = 0; i < 5; i++) await producer.send({ topic, value: new TextEncoder().encode(`v${i}`) } as never);
      await producer.close();
      written[mechanism] = (await new Admin(t).topicOffsets(topic))[0]!.latest;
      await t.close();
    }

    const wrong = transport({ mechanism: 'SCRAM-SHA-256', username: 'alice', password: 'wrong' });
    const wrongPassword = await new Admin(wrong).listTopics().then(
      () => 'authenticated',
      (error: { errorName?: string }) => error.errorName ?? String(error),
    );
    await wrong.close();

    const t = transport({ mechanism: 'SCRAM-SHA-512', username: 'alice', password: 'alice-secret' });
    const admin = new Admin(t);
    // The second call opens the connection to the broker's node id, after the bootstrap one.
    await admin.listTopics();
    await admin.listTopics();
    const sasl = listener.sasl!;
    const authenticatedBefore = sasl.stats.authenticated;
    const reauthenticatedBefore = sasl.stats.reauthenticated;
    // Waits for the transport's own re-authentication, then for the lifetime to pass once more.
    while (sasl.stats.reauthenticated < reauthenticatedBefore + 2) await new Promise((resolve) => setTimeout(resolve, 50));
    await admin.listTopics();
    const report = {
      written,
      wrongPassword,
      reauthenticated: sasl.stats.reauthenticated - reauthenticatedBefore,
      authenticatedBefore,
      authenticatedAfter: sasl.stats.authenticated,
      failed: sasl.stats.failed,
      mtlsPrincipal: await mtlsPrincipal(certs),
    };
    await t.close();
    return report;
  } finally {
    await secure.close();
  }
}
