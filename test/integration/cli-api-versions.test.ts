import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrokerApiVersion } from '../../sdk/client/admin/admin.ts';
import { repoRoot, runtimeCommand, runtimes } from '../helpers/child-process.ts';
import { SecureBroker } from '../helpers/secure-broker.ts';

const run = promisify(execFile);
let secure: SecureBroker;
let bootstrap: string;
const PASSWORD = 'api-versions-secret';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function rill(runtime: (typeof runtimes)[number], args: string[]): Promise<Result> {
  const [command, argv] = runtimeCommand(runtime, 'broker/cli/main.ts', args);
  try {
    const { stdout, stderr } = await run(command, argv, { env: { ...process.env, RILL_SASL_PASSWORD: PASSWORD }, timeout: 40_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const sasl = ['--sasl-mechanism', 'SCRAM-SHA-256', '--sasl-username', 'admin'];

beforeAll(async () => {
  secure = await SecureBroker.open();
  await secure.addUser('admin', PASSWORD);
  const listener = await secure.listen({ sasl: { mechanisms: ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'], connectionsMaxReauthMs: 0 } });
  bootstrap = `127.0.0.1:${listener.port}`;
});

afterAll(async () => {
  await secure.close();
});

describe('rill api-versions', () => {
  it("prints the table README.md's Kafka compatibility section shows, over SASL", async () => {
    const result = await rill('node', ['api-versions', '--markdown', '--bootstrap', bootstrap, ...sasl]);
    expect(result.code, result.stderr).toBe(0);
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const block = /<!-- api-versions:begin -->\n([\s\S]*?)\n<!-- api-versions:end -->/.exec(readme);
    expect(block, 'README.md has an api-versions block').not.toBeNull();
    expect(block![1]).toBe(result.stdout.trimEnd());
  });

  it('answers --json with every advertised API, and fails with one sentence on bad input', async () => {
    const json = await rill('node', ['api-versions', '--json', '--bootstrap', bootstrap, ...sasl]);
    expect(json.code, json.stderr).toBe(0);
    const apis = JSON.parse(json.stdout) as BrokerApiVersion[];
    expect(apis.find((a) => a.name === 'SaslAuthenticate')).toMatchObject({ apiKey: 36, minVersion: 0, maxVersion: 2 });
    expect(apis.find((a) => a.name === 'Produce')?.client).toBeDefined();

    const badBootstrap = await rill('node', ['api-versions', '--bootstrap', 'nowhere']);
    expect(badBootstrap.code).toBe(2);
    expect(badBootstrap.stderr).toMatch(/--bootstrap takes host:port/);
    const badMechanism = await rill('node', ['api-versions', '--sasl-mechanism', 'GSSAPI']);
    expect(badMechanism.code).toBe(2);
    expect(badMechanism.stderr).toMatch(/GSSAPI/);
    const wrongPassword = await rill('node', ['api-versions', '--bootstrap', bootstrap, '--sasl-mechanism', 'PLAIN', '--sasl-username', 'nobody']);
    expect(wrongPassword.code).toBe(1);
    expect(wrongPassword.stderr).toMatch(/^rill: the broker at .* refused the SASL login/m);
    expect(wrongPassword.stderr).not.toMatch(/\n\s+at /);
  });

  it.each(runtimes.filter((r) => r !== 'node'))('runs on %s', async (runtime) => {
    const result = await rill(runtime, ['api-versions', '--bootstrap', bootstrap, ...sasl]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^Produce\s+0\s+/m);
  });
});
