import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCliBroker } from '../helpers/cli-broker.ts';
import { runCli } from '../../broker/cli/run-cli.ts';
import type { SecureBroker } from '../helpers/secure-broker.ts';

let secure: SecureBroker;
let bootstrap: string;

beforeAll(async () => {
  ({ secure, bootstrap } = await openCliBroker());
});

afterAll(async () => {
  await secure?.close();
});

/** The CLI in-process (the same program `rill` runs), so the test spawns nothing. */
async function rill(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli([...args, '--bootstrap', bootstrap], { out: (line) => out.push(line), err: (line) => err.push(line) }, {});
  return { code, stdout: out.map((l) => `${l}\n`).join(''), stderr: err.join('\n') };
}

describe('rill groups describe-config / alter-config', () => {
  it('shows share-group configs, sets and deletes overrides, and refuses a bad value with one sentence and exit code 1', async () => {
    const set = await rill(['groups', 'alter-config', 'mailers', '--config', 'share.delivery.count.limit=3', '--config', 'rill.share.retry.backoff.ms=1000,10000']);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain('altered 2 configs of group mailers');
    const described = await rill(['groups', 'describe-config', 'mailers', '--json']);
    expect(described.code, described.stderr).toBe(0);
    expect(JSON.parse(described.stdout).configs).toEqual(
      expect.arrayContaining([
        { name: 'share.delivery.count.limit', value: '3', isOverride: true },
        { name: 'rill.share.retry.backoff.ms', value: '1000,10000', isOverride: true },
        { name: 'share.record.lock.duration.ms', value: '30000', isOverride: false },
      ]),
    );

    const bad = await rill(['groups', 'alter-config', 'mailers', '--config', 'share.delivery.count.limit=zero']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('share.delivery.count.limit must be an integer');

    expect((await rill(['groups', 'alter-config', 'mailers', '--delete-config', 'share.delivery.count.limit'])).code).toBe(0);
    const table = (await rill(['groups', 'describe-config', 'mailers'])).stdout;
    expect(table).toMatch(/^share\.delivery\.count\.limit\s+5\s+default$/m);
    expect(table).toMatch(/^rill\.share\.retry\.backoff\.ms\s+1000,10000\s+group$/m);
  });
});
