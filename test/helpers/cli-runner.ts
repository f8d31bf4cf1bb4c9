import { spawn } from 'node:child_process';
import { type Exit, repoRoot, type Runtime, runtimeCommand } from './child-process.ts';

export interface CliRunOptions {
  runtime?: Runtime;
  /** Written to the CLI's stdin, which is then closed (stdin is empty otherwise). */
  input?: string | Uint8Array;
  /** Added to the inherited environment. */
  env?: Readonly<Record<string, string>>;
}

/** Runs `rill <args>` as a subprocess (Node from dist/ by default) to completion, collecting its output. */
export function runCli(args: readonly string[], options: CliRunOptions = {}): Promise<Exit & { stdoutBytes: Buffer }> {
  const [command, argv] = runtimeCommand(options.runtime ?? 'node', 'broker/cli/main.ts', args);
  const child = spawn(command, argv, { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
  const out: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.on('error', () => undefined);
  child.stdin.end(options.input ?? '');
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const stdoutBytes = Buffer.concat(out);
      resolve({ code, signal, stdout: stdoutBytes.toString(), stderr, stdoutBytes });
    });
  });
}
