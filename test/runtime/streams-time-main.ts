import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker, EmbeddedTransport } from '../../broker/mod.ts';
import { runStreamsTimeScenario } from './streams-time-scenario.ts';

/** Runs the streams event-time scenario in this runtime against an in-process broker; prints one JSON line. */
const dir = mkdtempSync(join(tmpdir(), 'rill-streams-time-runtime-'));
try {
  const broker = await Broker.open({ config: { dataDir: join(dir, 'broker') }, groups: { initialRebalanceDelayMs: 0 } });
  const transport = new EmbeddedTransport(broker);
  try {
    const passed = await runStreamsTimeScenario(transport, join(dir, 'state'), '');
    process.stdout.write(`${JSON.stringify({ ok: true, passed })}\n`);
  } finally {
    await transport.close();
    await broker.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
