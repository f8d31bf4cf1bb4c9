import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker, EmbeddedTransport } from '../../broker/mod.ts';
import { KafkaListener } from '../../broker/kafka/kafka-listener.ts';
import { TcpTransport } from '../../sdk/mod.ts';
import { runSdkScenario } from './sdk-scenario.ts';

/** Runs the SDK scenario in this runtime over both transports against an in-process broker; prints one JSON line. */
const dataDir = mkdtempSync(join(tmpdir(), 'rill-sdk-runtime-'));
try {
  // No initial rebalance delay: the group steps form several groups, each would wait for it.
  const broker = await Broker.open({ config: { dataDir }, groups: { initialRebalanceDelayMs: 0 } });
  const embedded = new EmbeddedTransport(broker);
  const embeddedChecks = await runSdkScenario(embedded, 'embedded');
  await embedded.close();
  const listener = await KafkaListener.start(broker, { host: '127.0.0.1', port: 0 });
  const tcp = new TcpTransport({ bootstrapServers: [`127.0.0.1:${listener.port}`] });
  // The SDK consumer's fetch sessions (KIP-227) stay in the broker's cache after it closes.
  const sessionsBefore = broker.fetchSessions.size;
  const tcpChecks = await runSdkScenario(tcp, 'tcp');
  const tcpFetchSessions = broker.fetchSessions.size - sessionsBefore;
  await tcp.close();
  await listener.close();
  await broker.close();
  process.stdout.write(`${JSON.stringify({ ok: true, embedded: embeddedChecks.length, tcp: tcpChecks.length, tcpFetchSessions })}\n`);
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
