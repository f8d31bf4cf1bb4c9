import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runScenario } from './scenario.ts';

const root = resolve(import.meta.dirname, '../..');
const bin = (name: string): string => join(root, 'node_modules', '.bin', name);

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[]): Promise<Exit> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('cross-runtime scenario', () => {
  it('passes on Node', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rill-runtime-'));
    dirs.push(dir);
    const passed = await runScenario(dir);
    expect(passed.length).toBeGreaterThan(60);
  });

  it.each([
    ['Bun', bin('bun'), ['test/runtime/main.ts']],
    ['Deno', bin('deno'), ['run', '--allow-all', '--no-lock', 'test/runtime/main.ts']],
  ])('passes on %s', async (_name, command, args) => {
    const exit = await run(command, args);
    expect(exit.stderr).not.toMatch(/scenario failed/);
    expect(exit.code, exit.stderr).toBe(0);
    const report = JSON.parse(exit.stdout.trim().split('\n').at(-1)!) as { ok: boolean; checks: number };
    expect(report.ok).toBe(true);
    expect(report.checks).toBeGreaterThan(60);
  });
});
