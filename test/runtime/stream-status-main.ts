import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker } from '../../broker/mod.ts';
import { runStreamStatusScenario } from './stream-status-scenario.ts';

/** Runs the status publisher scenario in this runtime against an in-process broker; prints one JSON line. */
const dir = mkdtempSync(join(tmpdir(), 'rill-stream-status-runtime-'));
try {
  const broker = await Broker.open({ config: { dataDir: join(dir, 'broker') }, groups: { initialRebalanceDelayMs: 0 } });
  try {
    const passed = await runStreamStatusScenario(broker, join(dir, 'state'));
    process.stdout.write(`${JSON.stringify({ ok: true, passed })}\n`);
  } finally {
    await broker.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
