import { describe, expect, it } from 'vitest';
import { ManagedProcess, runtimeCommand } from '../../helpers/child-process.ts';
import { runShareGroupScenario, type ShareGroupReport } from '../../runtime/share-group-scenario.ts';

function check(report: ShareGroupReport): void {
  expect(report.embedded).toBeGreaterThan(0);
  expect(report.tcp).toBeGreaterThan(0);
  expect(report).toMatchObject({ distinct: 60, handedOut: 60, deadLetters: 2 });
}

describe('share groups on every runtime', () => {
  it('an embedded and a TCP share consumer split one partition and dead-letter rejects on Node', async () => {
    check(await runShareGroupScenario());
  });

  it.each(['bun', 'deno'] as const)('does the same on %s', async (runtime) => {
    const [command, args] = runtimeCommand(runtime, 'test/runtime/share-group-main.ts');
    const exit = await new ManagedProcess(command, args).exit();
    expect(exit.code, exit.stderr).toBe(0);
    check(JSON.parse(exit.stdout.trim().split('\n').at(-1)!) as ShareGroupReport);
  });
});
