import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Broker, EmbeddedTransport } from '../../broker/mod.ts';
import { ManagedProcess, runtimeCommand } from '../helpers/child-process.ts';
import { runStreamsTimeScenario } from '../runtime/streams-time-scenario.ts';

const CHECKS = ['suppressed tumbling counts', 'session counts', 'sliding counts', 'stream-stream left join', 'stream-table join'];

/** Windows, suppression and joins of one job on a real (in-process) broker, on each runtime. */
describe('streams event-time scenario', () => {
  it('passes on Node', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rill-streams-time-'));
    const broker = await Broker.open({ config: { dataDir: join(dir, 'broker') }, groups: { initialRebalanceDelayMs: 0 } });
    const transport = new EmbeddedTransport(broker);
    try {
      expect(await runStreamsTimeScenario(transport, join(dir, 'state'), '')).toEqual(CHECKS);
    } finally {
      await transport.close();
      await broker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each(['bun', 'deno'] as const)('passes on %s', async (runtime) => {
    const [command, args] = runtimeCommand(runtime, 'test/runtime/streams-time-main.ts');
    const exit = await new ManagedProcess(command, args).exit();
    expect(exit.code, exit.stderr).toBe(0);
    const report = JSON.parse(exit.stdout.trim().split('\n').at(-1)!) as { ok: boolean; passed: string[] };
    expect(report).toEqual({ ok: true, passed: CHECKS });
  });
});
