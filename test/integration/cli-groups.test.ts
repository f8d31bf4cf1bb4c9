import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin, TcpTransport } from '../../sdk/mod.ts';
import { ManagedProcess, runtimeCommand } from '../helpers/child-process.ts';
import { openCliBroker } from '../helpers/cli-broker.ts';
import { runCli } from '../helpers/cli-runner.ts';
import type { SecureBroker } from '../helpers/secure-broker.ts';

let secure: SecureBroker;
let bootstrap: string;

beforeAll(async () => {
  ({ secure, bootstrap } = await openCliBroker());
  const transport = new TcpTransport({ bootstrapServers: [bootstrap] });
  await new Admin(transport).createTopics([{ name: 'events', numPartitions: 2 }]);
  await transport.close();
});

afterAll(async () => {
  await secure?.close();
});

const rill = (args: string[], input?: string) => runCli([...args, '--bootstrap', bootstrap], input === undefined ? {} : { input });

async function committed(group: string): Promise<number[]> {
  const transport = new TcpTransport({ bootstrapServers: [bootstrap] });
  try {
    return (await new Admin(transport).committedOffsets(group)).map((c) => c.offset);
  } finally {
    await transport.close();
  }
}

describe('rill groups', () => {
  it('lists and describes a group with committed offsets and lag, and previews and executes a reset', async () => {
    const lines = Array.from({ length: 10 }, (_, i) => `${i % 2}:v${i}`).join('\n');
    expect((await rill(['produce', 'events', '--key-separator', ':'], lines)).code).toBe(0);
    expect((await rill(['consume', 'events', '--group', 'billing', '-n', '4'])).code).toBe(0);
    const [list, described] = await Promise.all([rill(['groups', 'list', '--json']), rill(['groups', 'describe', 'billing', '--json'])]);
    expect(JSON.parse(list.stdout)).toContainEqual({ group: 'billing', state: 'Empty', protocolType: 'consumer' });
    const d = JSON.parse(described.stdout);
    expect(d).toMatchObject({ group: 'billing', state: 'Empty', members: [] });
    const total = d.offsets.reduce((n: number, o: { highWatermark: number }) => n + o.highWatermark, 0);
    expect(total).toBe(10);
    expect(d.offsets.reduce((n: number, o: { lag: number }) => n + o.lag, 0)).toBe(6);

    const preview = await rill(['groups', 'reset-offsets', 'billing', '--topic', 'events', '--to-earliest']);
    expect(preview.code, preview.stderr).toBe(0);
    expect(preview.stdout).toMatch(/^topic\s+partition\s+current\s+new$/m);
    expect(preview.stdout).toMatch(/dry run: nothing committed/);
    const before = await committed('billing');
    expect(before.reduce((a, b) => a + b, 0)).toBe(4);

    const executed = await rill(['groups', 'reset-offsets', 'billing', '--topic', 'events', '--to-offset', '1', '--execute', '--json']);
    expect(executed.code, executed.stderr).toBe(0);
    expect(JSON.parse(executed.stdout).offsets.map((o: { newOffset: number }) => o.newOffset)).toEqual([1, 1]);
    expect(await committed('billing')).toEqual([1, 1]);
    expect((await rill(['groups', 'reset-offsets', 'billing', '--topic', 'events', '--to-latest', '--execute'])).code).toBe(0);
    expect((await committed('billing')).reduce((a, b) => a + b, 0)).toBe(10);
  });

  it('describes a group as text, deletes it, and fails with one sentence once it is gone', async () => {
    const text = await rill(['groups', 'describe', 'billing']);
    expect(text.stdout).toMatch(/^group billing: Empty/);
    expect(text.stdout).toMatch(/^\s+events\s+0\s+\d+\s+\d+\s+0\s+-$/m);
    const deleted = await rill(['groups', 'delete', 'billing']);
    expect(deleted.stdout).toBe('deleted group billing\n');
    const gone = await Promise.all([rill(['groups', 'describe', 'billing']), rill(['groups', 'delete', 'billing'])]);
    for (const g of gone) {
      expect(g.code).toBe(1);
      expect(g.stderr).toBe('rill: group "billing" does not exist (rill groups list shows the groups)\n');
    }
  });

  it('refuses to reset or delete a group while it has members', async () => {
    const [command, argv] = runtimeCommand('node', 'broker/cli/main.ts', ['consume', 'events', '--group', 'live', '--follow', '--bootstrap', bootstrap]);
    const member = new ManagedProcess(command, argv);
    try {
      await member.waitForLine(/^v\d$/);
      const [reset, deleted, described] = await Promise.all([
        rill(['groups', 'reset-offsets', 'live', '--topic', 'events', '--to-earliest', '--execute']),
        rill(['groups', 'delete', 'live']),
        rill(['groups', 'describe', 'live', '--json']),
      ]);
      expect(reset.code).toBe(1);
      expect(reset.stderr).toBe('rill: group "live" has 1 active member; stop it first (only an empty group\'s offsets can be reset)\n');
      expect(deleted.code).toBe(1);
      expect(deleted.stderr).toBe('rill: group "live" has active members; stop them first\n');
      const d = JSON.parse(described.stdout);
      expect(d.state).toBe('Stable');
      expect(d.members).toHaveLength(1);
      expect(d.members[0].assignment).toHaveLength(2);
      expect(d.offsets.every((o: { memberId: string | null }) => o.memberId === d.members[0].memberId)).toBe(true);
      expect((await member.stop('SIGINT')).code).toBe(0);
      expect((await rill(['groups', 'reset-offsets', 'live', '--topic', 'events', '--to-earliest', '--execute'])).code).toBe(0);
    } finally {
      await member.stop('SIGKILL');
    }
  });

  it('rejects bad flags with exit code 2', async () => {
    const usage = await Promise.all([
      rill(['groups', 'reset-offsets', 'g', '--topic', 'events']),
      rill(['groups', 'reset-offsets', 'g', '--topic', 'events', '--to-earliest', '--to-latest']),
      rill(['groups', 'reset-offsets', 'g', '--to-earliest']),
      rill(['groups', 'reset-offsets', 'g', '--topic', 'events', '--to-datetime', 'noon']),
    ]);
    expect(usage.map((u) => u.code)).toEqual([2, 2, 2, 2]);
    expect(usage[0]!.stderr).toMatch(/give exactly one of --to-earliest, --to-latest, --to-offset, --to-datetime and --by-duration/);
    expect(usage[2]!.stderr).toMatch(/required option '-t, --topic <topic>' not specified/);
    expect(usage[3]!.stderr).toMatch(/--to-datetime must be an ISO 8601 time/);
  });
});
