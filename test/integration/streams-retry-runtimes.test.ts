import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Broker, EmbeddedTransport } from '../../broker/mod.ts';
import { ManagedProcess, runtimeCommand } from '../helpers/child-process.ts';
import { runStreamsRetryScenario } from '../runtime/streams-retry-scenario.ts';

const CHECKS = ['recovered records reach the output once', 'failed records moved through the tiers', 'the last failure is dead-lettered with why, where and how many times'];

/** A stream job's retry ladder on a real (in-process) broker, on each runtime. */
describe('streams retry ladder scenario', () => {
  it('passes on Node', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rill-streams-retry-'));
    const broker = await Broker.open({ config: { dataDir: join(dir, 'broker') }, groups: { initialRebalanceDelayMs: 0 } });
    try {
      expect(await runStreamsRetryScenario(new EmbeddedTransport(broker), join(dir, 'state'))).toEqual(CHECKS);
    } finally {
      await broker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each(['bun', 'deno'] as const)('passes on %s', async (runtime) => {
    const [command, args] = runtimeCommand(runtime, 'test/runtime/streams-retry-main.ts');
    const exit = await new ManagedProcess(command, args).exit();
    expect(exit.code, exit.stderr).toBe(0);
    const report = JSON.parse(exit.stdout.trim().split('\n').at(-1)!) as { ok: boolean; passed: string[] };
    expect(report).toEqual({ ok: true, passed: CHECKS });
  });
});
