import { readFileSync } from 'node:fs';
import { Admin, Producer, TcpTransport } from '../../sdk/mod.ts';
import type { SaslCredentials } from '../../sdk/transport/sasl-client.ts';
import { ALL_MECHANISMS, SecureBroker } from '../helpers/secure-broker.ts';
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
    };
    await t.close();
    return report;
  } finally {
    await secure.close();
  }
}
