import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runScenario } from './scenario.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'rill-runtime-'));
try {
  const passed = await runScenario(dataDir);
  process.stdout.write(`${JSON.stringify({ ok: true, checks: passed.length })}\n`);
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
