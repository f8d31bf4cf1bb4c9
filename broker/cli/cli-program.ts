import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { addApiVersionsCommand } from './api-versions-command.ts';
import type { CommandIo } from './cli-io.ts';
import { addAclsCommand } from './acls-command.ts';
import { addCompletionCommand } from './completion-command.ts';
import { addReplayCommand } from './replay-command.ts';
import { addRunCommand } from './run-command-definition.ts';
import { addStartCommand } from './start-command-definition.ts';
import { addStreamsCommand } from './streams-command.ts';
import { addUsersCommand } from './users-command.ts';
import { addTopicsCommand } from './topics-command.ts';
import { addConsumeCommand } from './consume-command.ts';
import { addProduceCommand } from './produce-command.ts';
import { addGroupsCommand } from './groups-command.ts';
import { addBenchCommand } from './bench-command.ts';

/** What every command's action gets: where to write, the environment, and where to put its exit code. */
export interface CliContext {
  readonly io: CommandIo;
  readonly env: Readonly<Record<string, string | undefined>>;
  exitCode: number;
}

/** Adds `--json` (one JSON document on stdout, for scripts) and `--verbose` (stack traces of failures). */
export function addOutputOptions(command: Command): Command {
  return command.addOption(new Option('--json', 'print the result as JSON')).addOption(new Option('--verbose', 'print stack traces of failures'));
}

/** Wraps an action so its returned exit code lands in the context. */
export function exitCodeOf<A extends unknown[]>(context: CliContext, work: (...args: A) => Promise<number>): (...args: A) => Promise<void> {
  return async (...args) => {
    context.exitCode = await work(...args);
  };
}

function version(): string {
  for (const candidate of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(candidate, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'rill' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      continue;
    }
  }
  return 'unknown';
}

/** The `rill` command tree: one place that wires every command. */
export function buildProgram(context: CliContext): Command {
  const { io } = context;
  const program = new Command('rill')
    .description('Rill: stream processing for TypeScript on a durable, Kafka-compatible broker')
    .version(version(), '-V, --version', 'print the version')
    .helpCommand(true)
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.out(text.replace(/\n$/, '')),
      writeErr: (text) => io.err(text.replace(/\n$/, '')),
      outputError: (text, write) => write(`rill: ${text.replace(/^error: /, '')}`),
    });
  addStartCommand(program, context);
  addRunCommand(program, context);
  addStreamsCommand(program, context);
  addReplayCommand(program, context);
  addAclsCommand(program, context);
  addUsersCommand(program, context);
  addCompletionCommand(program, context);
  addApiVersionsCommand(program, context);
  addTopicsCommand(program, context);
  addConsumeCommand(program, context);
  addProduceCommand(program, context);
  addGroupsCommand(program, context);
  addBenchCommand(program, context);
  return program;
}
