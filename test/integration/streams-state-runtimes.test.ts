import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManagedProcess, runtimeCommand } from '../helpers/child-process.ts';
import { runStateStoreScenario } from '../runtime/state-store-scenario.ts';

const CHECKS = 15;

describe('state store scenario on Node, Bun and Deno', () => {
  it('passes on Node', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rill-state-runtime-'));
    try {
      expect(await runStateStoreScenario(dir)).toHaveLength(CHECKS);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each(['bun', 'deno'] as const)('passes on %s', async (runtime) => {
    const [command, args] = runtimeCommand(runtime, 'test/runtime/state-store-main.ts');
    const exit = await new ManagedProcess(command, args).exit();
    expect(exit.stderr).not.toMatch(/scenario failed/);
    expect(exit.code, exit.stderr).toBe(0);
    const report = JSON.parse(exit.stdout.trim().split('\n').at(-1)!) as { ok: boolean; checks: number };
    expect(report).toEqual({ ok: true, checks: CHECKS });
  });
});
