import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';

/** Every server this benchmark started and has not stopped yet, so an exit on failure can still kill them. */
const running = new Set<ServerProcess>();
let exitHooksInstalled = false;

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  // 'exit' handlers cannot wait, so this is the last resort: SIGKILL whatever is left.
  process.on('exit', () => {
    for (const server of running) server.killNow();
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void Promise.all([...running].map((s) => s.stop())).finally(() => process.exit(130));
    });
  }
}

export interface ServerSpec {
  /** Shown in errors and in "unavailable: ..." lines. */
  name: string;
  command: string;
  args: readonly string[];
  env?: Readonly<Record<string, string>>;
  cwd?: string;
  /** Printed on stdout or stderr once the server accepts clients. */
  ready: RegExp;
  readyTimeoutMs?: number;
}

/**
 * A peer server as a child process in its own process group, so stopping it also stops whatever
 * it forked (Erlang's helpers, shell wrappers).
 */
export class ServerProcess {
  private log = '';
  private readonly exited: Promise<number | null>;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    const append = (d: Uint8Array): void => {
      // Bounded: only the tail matters for error messages and readiness.
      this.log = (this.log + new TextDecoder().decode(d)).slice(-64 * 1024);
    };
    child.stdout!.on('data', append);
    child.stderr!.on('data', append);
    this.exited = new Promise((resolve) => child.once('close', (code) => resolve(code)));
  }

  static async start(spec: ServerSpec): Promise<ServerProcess> {
    installExitHooks();
    const child = spawn(spec.command, [...spec.args], {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const server = new ServerProcess(spec.name, child);
    running.add(server);
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${spec.name} did not get ready within ${spec.readyTimeoutMs ?? 30_000} ms: ${server.tail()}`)),
          spec.readyTimeoutMs ?? 30_000,
        );
        const check = (): void => {
          if (spec.ready.test(server.log)) {
            clearTimeout(timer);
            resolve();
          }
        };
        child.stdout!.on('data', check);
        child.stderr!.on('data', check);
        child.once('error', (error) => {
          clearTimeout(timer);
          reject(new Error(`${spec.name} could not be started: ${error.message}`));
        });
        child.once('close', (code) => {
          clearTimeout(timer);
          reject(new Error(`${spec.name} exited with ${code} before it was ready: ${server.tail()}`));
        });
      });
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  /** Everything the server printed so far (its last 64 KiB). */
  output(): string {
    return this.log;
  }

  private tail(): string {
    return this.log.trim().split('\n').slice(-5).join(' | ');
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** SIGTERM to the whole group (a clean shutdown), SIGKILL if it is still there after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (!running.delete(this)) return;
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.signalGroup('SIGTERM');
    const timer = setTimeout(() => this.signalGroup('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
    // Children that outlived the group leader (none expected) go too.
    this.signalGroup('SIGKILL');
  }

  killNow(): void {
    this.signalGroup('SIGKILL');
  }

  private signalGroup(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.pid, signal);
    } catch {
      // The group is already gone.
    }
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago (the server is started right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('invariant: a TCP server has a port');
      server.close(() => resolve(address.port));
    });
  });
}

/** Whether an executable is on PATH (or at an absolute path). */
export async function hasExecutable(command: string): Promise<boolean> {
  const { accessSync, constants } = await import('node:fs');
  const dirs = command.includes('/') ? [''] : (process.env.PATH ?? '').split(':').map((d) => `${d}/`);
  return dirs.some((d) => {
    try {
      accessSync(`${d}${command}`, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
