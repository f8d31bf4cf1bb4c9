import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker, EmbeddedTransport } from '../../broker/mod.ts';
import { runStreamsRetryScenario } from './streams-retry-scenario.ts';

/** Runs the retry ladder scenario in this runtime against an in-process broker; prints one JSON line. */
const dir = mkdtempSync(join(tmpdir(), 'rill-streams-retry-runtime-'));
try {
  const broker = await Broker.open({ config: { dataDir: join(dir, 'broker') }, groups: { initialRebalanceDelayMs: 0 } });
  try {
    const passed = await runStreamsRetryScenario(new EmbeddedTransport(broker), join(dir, 'state'));
    process.stdout.write(`${JSON.stringify({ ok: true, passed })}\n`);
  } finally {
    await broker.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
