import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStateStoreScenario } from './state-store-scenario.ts';

/** Runs the state-store scenario in this runtime; prints one JSON line. */
const dir = mkdtempSync(join(tmpdir(), 'rill-state-runtime-'));
try {
  const passed = await runStateStoreScenario(dir);
  process.stdout.write(`${JSON.stringify({ ok: true, checks: passed.length })}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
