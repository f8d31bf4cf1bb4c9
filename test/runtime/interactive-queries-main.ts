import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker, EmbeddedTransport } from '../../broker/mod.ts';
import { runInteractiveQueriesScenario } from './interactive-queries-scenario.ts';

/** Runs the interactive-queries scenario in this runtime against an in-process broker; prints one JSON line. */
const dir = mkdtempSync(join(tmpdir(), 'rill-iq-runtime-'));
try {
  const broker = await Broker.open({ config: { dataDir: join(dir, 'broker') }, groups: { initialRebalanceDelayMs: 0 } });
  const transport = new EmbeddedTransport(broker);
  try {
    const passed = await runInteractiveQueriesScenario(transport, join(dir, 'state'), '');
    process.stdout.write(`${JSON.stringify({ ok: true, passed: passed.length })}\n`);
  } finally {
    await transport.close();
    await broker.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
