import { describe, expect, it } from 'vitest';
import { ManagedProcess, runtimeCommand } from '../helpers/child-process.ts';

/** Node runs the same scenario in test/integration/streams/global-table.test.ts (embedded and TCP). */
describe('GlobalKTable scenario on Bun and Deno', () => {
  it.each(['bun', 'deno'] as const)('passes on %s', async (runtime) => {
    const [command, args] = runtimeCommand(runtime, 'test/runtime/global-table-main.ts');
    const exit = await new ManagedProcess(command, args).exit();
    expect(exit.stderr).not.toMatch(/scenario failed/);
    expect(exit.code, exit.stderr).toBe(0);
    const report = JSON.parse(exit.stdout.trim().split('\n').at(-1)!) as { ok: boolean; checks: number };
    expect(report).toEqual({ ok: true, checks: 10 });
  });
});
