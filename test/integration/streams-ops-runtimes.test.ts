import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Broker, EmbeddedTransport } from '../../broker/mod.ts';
import { ManagedProcess, runtimeCommand } from '../helpers/child-process.ts';
import { runStreamsOpsScenario } from '../runtime/streams-ops-scenario.ts';

const CHECKS = ['reset then rerun reproduces the counts', 'a replay cut half way resumes to one copy of each record', 'the diff finds the copy equal'];

/** Application reset, topic replay and the output diff on a real (in-process) broker, on each runtime. */
describe('streams operations scenario', () => {
  it('passes on Node', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rill-streams-ops-'));
    const broker = await Broker.open({ config: { dataDir: join(dir, 'broker') }, groups: { initialRebalanceDelayMs: 0 } });
    try {
      expect(await runStreamsOpsScenario(() => Promise.resolve(new EmbeddedTransport(broker)), join(dir, 'state'))).toEqual(CHECKS);
    } finally {
      await broker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each(['bun', 'deno'] as const)('passes on %s', async (runtime) => {
    const [command, args] = runtimeCommand(runtime, 'test/runtime/streams-ops-main.ts');
    const exit = await new ManagedProcess(command, args).exit();
    expect(exit.code, exit.stderr).toBe(0);
    const report = JSON.parse(exit.stdout.trim().split('\n').at(-1)!) as { ok: boolean; passed: string[] };
    expect(report).toEqual({ ok: true, passed: CHECKS });
  });
});
