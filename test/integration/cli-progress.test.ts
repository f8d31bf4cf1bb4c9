import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin, TcpTransport } from '../../sdk/mod.ts';
import { repoRoot, runtimeCommand } from '../helpers/child-process.ts';
import { openCliBroker } from '../helpers/cli-broker.ts';
import { runCli } from '../helpers/cli-runner.ts';
import type { SecureBroker } from '../helpers/secure-broker.ts';

// util-linux's script(1) runs a command on a pseudo-terminal (Debian: bsdutils).
const SCRIPT = '/usr/bin/script';
const RECORDS = 20_000;

let secure: SecureBroker;
let bootstrap: string;
let dir: string;
let file: string;

beforeAll(async () => {
  ({ secure, bootstrap } = await openCliBroker());
  dir = mkdtempSync(join(tmpdir(), 'rill-cli-progress-'));
  file = join(dir, 'bulk.txt');
  writeFileSync(file, Array.from({ length: RECORDS }, (_, i) => `record ${i}`).join('\n') + '\n');
  const transport = new TcpTransport({ bootstrapServers: [bootstrap] });
  await new Admin(transport).createTopics(['on-tty', 'on-pipe', 'as-json'].map((name) => ({ name, numPartitions: 1 })));
  await transport.close();
});

afterAll(async () => {
  await secure?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the CLI under script(1): stdin, stdout and stderr are a terminal; returns everything the terminal showed. */
function onTerminal(args: string[]): Promise<{ code: number | null; output: string }> {
  const [command, argv] = runtimeCommand('node', 'broker/cli/main.ts', args);
  const line = [command, ...argv].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  const child = spawn(SCRIPT, ['-q', '-e', '-c', line, '/dev/null'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('progress of a bulk produce and a large consume', () => {
  it.skipIf(!existsSync(SCRIPT))('draws a bar redrawn in place on a terminal', async () => {
    const run = await onTerminal(['produce', 'on-tty', '--file', file, '--bootstrap', bootstrap]);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/\rproduce \[#{20}\] 100% \d+\.\d kB\/\d+\.\d kB {2}[\d.]+ [kM]?B\/s, \d+s\x1b\[K/);
    expect(run.output).toMatch(new RegExp(`produced ${RECORDS} records to on-tty`));
  });

  it('prints plain lines on a pipe, and nothing with --json', async () => {
    const piped = await runCli(['produce', 'on-pipe', '--file', file, '--bootstrap', bootstrap]);
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stderr).not.toMatch(/[\r\x1b]/);
    expect(piped.stderr).toMatch(/^produce: [\d.]+ kB\/[\d.]+ kB \(100%\), [\d.]+ [kM]?B\/s, \d+s$/m);
    expect(piped.stdout).toBe(`produced ${RECORDS} records to on-pipe\n`);

    const json = await runCli(['produce', 'as-json', '--file', file, '--bootstrap', bootstrap, '--json']);
    expect(json.code, json.stderr).toBe(0);
    expect(json.stderr).toBe('');
    expect(JSON.parse(json.stdout)).toMatchObject({ topic: 'as-json', records: RECORDS });

    const consumed = await runCli(['consume', 'on-pipe', '-n', String(RECORDS - 1), '--bootstrap', bootstrap]);
    expect(consumed.code, consumed.stderr).toBe(0);
    expect(consumed.stdout.split('\n')).toHaveLength(RECORDS);
    expect(consumed.stderr).toMatch(new RegExp(`^consume: ${(RECORDS - 1).toLocaleString('en')}/${(RECORDS - 1).toLocaleString('en')} records \\(100%\\), [\\d,]+ records/s, \\d+s$`, 'm'));
  });
});
