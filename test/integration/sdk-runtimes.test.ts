import { describe, expect, it } from 'vitest';
import { ManagedProcess, runtimeCommand } from '../helpers/child-process.ts';

describe('SDK client scenario under Bun and Deno', () => {
  it.each(['bun', 'deno'] as const)('passes over both transports on %s', async (runtime) => {
    const [command, args] = runtimeCommand(runtime, 'test/runtime/sdk-main.ts');
    const exit = await new ManagedProcess(command, args).exit();
    expect(exit.stderr).not.toMatch(/sdk scenario failed/);
    expect(exit.code, exit.stderr).toBe(0);
    const report = JSON.parse(exit.stdout.trim().split('\n').at(-1)!) as { ok: boolean; embedded: number; tcp: number; tcpFetchSessions: number };
    expect(report.ok).toBe(true);
    expect(report.embedded).toBeGreaterThanOrEqual(19);
    expect(report.tcp).toBe(report.embedded);
    // Its consumers fetched through sessions (KIP-227) on this runtime too.
    expect(report.tcpFetchSessions).toBeGreaterThan(0);
  });
});
