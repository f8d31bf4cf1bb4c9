import { describe, expect, it } from 'vitest';
import { ManagedProcess, runtimeCommand } from '../helpers/child-process.ts';

/**
 * The interactive-queries scenario (an app server answering lookups, ranges, window and session
 * fetches, /health and /metrics on 127.0.0.1) on Bun and Deno; Node runs the same scenario in
 * test/integration/streams/interactive-queries.test.ts.
 */
describe('interactive queries and the app server', () => {
  it.each(['bun', 'deno'] as const)('pass on %s', async (runtime) => {
    const [command, args] = runtimeCommand(runtime, 'test/runtime/interactive-queries-main.ts');
    const exit = await new ManagedProcess(command, args).exit();
    expect(exit.code, exit.stderr).toBe(0);
    expect(JSON.parse(exit.stdout.trim().split('\n').at(-1)!)).toEqual({ ok: true, passed: 35 });
  });
});
