import { type Exit, ManagedProcess, type Runtime, runtimeCommand } from './child-process.ts';

/**
 * Runs `rill <args>` under `runtime` with extra environment variables (through env(1), so the test
 * process's own environment is untouched), and optionally text on its stdin (through sh).
 */
export function rillCommand(args: readonly string[], options: { env?: Record<string, string>; stdin?: string; runtime?: Runtime } = {}): ManagedProcess {
  const [command, argv] = runtimeCommand(options.runtime ?? 'node', 'broker/cli/main.ts', args);
  const envArgs = Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`);
  if (options.stdin === undefined) return new ManagedProcess('/usr/bin/env', [...envArgs, command, ...argv]);
  // sh -c 'printf %s "$1" | exec env ... "$@"' sh <stdin> <env...> <command> <args...>
  return new ManagedProcess('/bin/sh', ['-c', 'input=$1; shift; printf %s "$input" | exec /usr/bin/env "$@"', 'sh', options.stdin, ...envArgs, command, ...argv]);
}

export function rillExit(args: readonly string[], options: { env?: Record<string, string>; stdin?: string; runtime?: Runtime } = {}): Promise<Exit> {
  return rillCommand(args, options).exit();
}
