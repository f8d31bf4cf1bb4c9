import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Broker } from '../../broker/mod.ts';
import { ManagedProcess, runtimeCommand } from '../helpers/child-process.ts';
import { runStreamStatusScenario } from '../runtime/stream-status-scenario.ts';

const CHECKS = [
  'a running app publishes its topology, tasks and state',
  'statuses are keyed by instance id on a compacted LogAppendTime topic',
  'requests in a burst publish no faster than the minimum gap',
  'an instance without a status for three intervals is stale',
  'a clean close writes a tombstone',
];

/** The streams runtime's status publisher, read back by the broker's reader, on each runtime. */
describe('streams status publisher', () => {
  it('passes on Node', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rill-stream-status-'));
    const broker = await Broker.open({ config: { dataDir: join(dir, 'broker') }, groups: { initialRebalanceDelayMs: 0 } });
    try {
      expect(await runStreamStatusScenario(broker, join(dir, 'state'))).toEqual(CHECKS);
    } finally {
      await broker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each(['bun', 'deno'] as const)('passes on %s', async (runtime) => {
    const [command, args] = runtimeCommand(runtime, 'test/runtime/stream-status-main.ts');
    const exit = await new ManagedProcess(command, args).exit();
    expect(exit.code, exit.stderr).toBe(0);
    const report = JSON.parse(exit.stdout.trim().split('\n').at(-1)!) as { ok: boolean; passed: string[] };
    expect(report).toEqual({ ok: true, passed: CHECKS });
  });
});
