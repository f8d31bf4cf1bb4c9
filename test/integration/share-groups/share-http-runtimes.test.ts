import { describe, expect, it } from 'vitest';
import { ManagedProcess, runtimeCommand } from '../../helpers/child-process.ts';
import { runShareHttpScenario, type ShareHttpReport } from '../../runtime/share-http-scenario.ts';

function check(report: ShareHttpReport): void {
  expect(report.perMember.every((n) => n > 0)).toBe(true);
  expect(report).toMatchObject({ distinct: 29, deadLetters: 1, redeliveredCount: 2 });
  expect(report.perMember[0]! + report.perMember[1]!).toBe(29);
}

describe('share groups over HTTP on every runtime', () => {
  it('two HTTP members split a partition, a release comes back with delivery count 2, a reject is dead-lettered, on Node', async () => {
    check(await runShareHttpScenario());
  });

  it.each(['bun', 'deno'] as const)('does the same on %s', async (runtime) => {
    const [command, args] = runtimeCommand(runtime, 'test/runtime/share-http-main.ts');
    const exit = await new ManagedProcess(command, args).exit();
    expect(exit.code, exit.stderr).toBe(0);
    check(JSON.parse(exit.stdout.trim().split('\n').at(-1)!) as ShareHttpReport);
  });
});
