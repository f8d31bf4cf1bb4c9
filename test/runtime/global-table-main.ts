import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker, EmbeddedTransport } from '../../broker/mod.ts';
import { runGlobalTableScenario } from './global-table-scenario.ts';

/** Runs the GlobalKTable scenario in this runtime against an in-process broker; prints one JSON line. */
const dir = mkdtempSync(join(tmpdir(), 'rill-global-runtime-'));
try {
  // No initial rebalance delay: the application's instances are the group's only members.
  const broker = await Broker.open({ config: { dataDir: join(dir, 'broker') }, groups: { initialRebalanceDelayMs: 0 } });
  const transport = new EmbeddedTransport(broker);
  try {
    const passed = await runGlobalTableScenario(transport, join(dir, 'state'), '');
    process.stdout.write(`${JSON.stringify({ ok: true, checks: passed.length })}\n`);
  } finally {
    await transport.close();
    await broker.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
