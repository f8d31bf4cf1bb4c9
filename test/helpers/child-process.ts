import { type ChildProcess, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(import.meta.dirname, '../..');

export const runtimes = ['node', 'bun', 'deno'] as const;
export type Runtime = (typeof runtimes)[number];

/** The command line that runs a TypeScript entry point of the repo under `runtime` (Node uses `dist/`). */
export function runtimeCommand(runtime: Runtime, entry: string, args: readonly string[] = []): [string, string[]] {
  switch (runtime) {
    case 'node':
      return [process.execPath, [join(repoRoot, 'dist', entry.replace(/\.ts$/, '.js')), ...args]];
    case 'bun':
      return [join(repoRoot, 'node_modules', '.bin', 'bun'), [join(repoRoot, entry), ...args]];
    case 'deno':
      return [join(repoRoot, 'node_modules', '.bin', 'deno'), ['run', '--allow-all', '--no-lock', join(repoRoot, entry), ...args]];
  }
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A child process whose output is collected, with a way to await a line matching a pattern. */
export class ManagedProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  private readonly exited: Promise<Exit>;
  private waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];

  constructor(command: string, args: readonly string[]) {
    this.child = spawn(command, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d: Buffer) => {
      this.stdout += d.toString();
      this.wake();
    });
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((done, fail) => {
      this.child.on('error', fail);
      this.child.on('close', (code, signal) => {
        const exit = { code, signal, stdout: this.stdout, stderr: this.stderr };
        for (const waiter of this.waiters.splice(0)) waiter.resolve('');
        done(exit);
      });
    });
  }

  private wake(): void {
    this.waiters = this.waiters.filter((w) => {
      const line = this.stdout.split('\n').find((l) => w.pattern.test(l));
      if (line === undefined) return true;
      w.resolve(line);
      return false;
    });
  }

  /**
   * Resolves with the first stdout line matching `pattern`; rejects if the process exits first or,
   * with `timeoutMs`, if the line has not come by then (a hung child then fails its test with its
   * output instead of hanging it).
   */
  async waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const waiter = { pattern, resolve: (_line: string): void => {} };
    const line = await new Promise<string | null>((resolveLine) => {
      waiter.resolve = resolveLine;
      this.waiters.push(waiter);
      if (timeoutMs !== undefined) timer = setTimeout(() => resolveLine(null), timeoutMs);
      this.wake();
    });
    clearTimeout(timer);
    if (line === null) {
      this.waiters = this.waiters.filter((w) => w !== waiter);
      throw new Error(`no line matching ${pattern} after ${timeoutMs} ms:\nstdout: ${this.stdout}\nstderr: ${this.stderr}`);
    }
    if (line === '') {
      throw new Error(`process exited before printing ${pattern}:\nstdout: ${this.stdout}\nstderr: ${this.stderr}`);
    }
    return line;
  }

  exit(): Promise<Exit> {
    return this.exited;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<Exit> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}
