import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Broker } from '../../broker/mod.ts';
import { ManagedProcess, runtimeCommand, runtimes } from '../helpers/child-process.ts';

const CLI = 'broker/cli/main.ts';
const dirs: string[] = [];
const processes: ManagedProcess[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rill-cli-'));
  dirs.push(dir);
  return dir;
}

function cli(runtime: (typeof runtimes)[number], args: string[]): ManagedProcess {
  const [command, argv] = runtimeCommand(runtime, CLI, args);
  const proc = new ManagedProcess(command, argv);
  processes.push(proc);
  return proc;
}

afterEach(async () => {
  await Promise.all(processes.splice(0).map((p) => p.stop('SIGKILL')));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe.each(runtimes)('rill CLI on %s', (runtime) => {
  it('starts, keeps its data directory locked, and stops cleanly on SIGTERM and SIGINT', async () => {
    const dataDir = tempDir();
    const first = cli(runtime, ['start', '--data-dir', dataDir, '--kafka-port', '0', '--http-port', '0']);
    await first.waitForLine(/broker ready/);
    expect(existsSync(join(dataDir, '.lock'))).toBe(true);

    const second = cli(runtime, ['start', '--data-dir', dataDir, '--kafka-port', '0', '--http-port', '0']);
    const refused = await second.exit();
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/in use by process/);

    const stopped = await first.stop('SIGTERM');
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).toMatch(/stopped cleanly/);
    expect(existsSync(join(dataDir, '.lock'))).toBe(false);

    const again = cli(runtime, ['start', '--data-dir', dataDir, '--kafka-port', '0', '--http-port', '0']);
    await again.waitForLine(/broker ready/);
    const interrupted = await again.stop('SIGINT');
    expect(interrupted.code, interrupted.stderr).toBe(0);
  });

  it('rejects bad flags with a readable message and exit code 2', async () => {
    const badPort = await cli(runtime, ['start', '--kafka-port', 'ninety']).exit();
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toMatch(/--kafka-port must be a port number/);
    const unknown = await cli(runtime, ['start', '--bogus']).exit();
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/bogus/);
    const command = await cli(runtime, ['launch']).exit();
    expect(command.code).toBe(2);
    expect(command.stderr).toMatch(/unknown command ['"]launch['"]/);
  });
});

describe('rill CLI and the broker object', () => {
  it('takes over the lock of a process killed with SIGKILL and keeps its topics', async () => {
    const dataDir = tempDir();
    const seeded = await Broker.open({ config: { dataDir } });
    await seeded.createTopic('kept', { partitions: 2 });
    await seeded.close();
    const killed = cli('node', ['start', '--data-dir', dataDir, '--kafka-port', '0', '--http-port', '0']);
    await killed.waitForLine(/broker ready.*\(1 topic\)/);
    await killed.stop('SIGKILL');
    const reopened = await Broker.open({ config: { dataDir } });
    expect(reopened.listTopics()).toEqual(['kept']);
    await reopened.close();
  });
});
