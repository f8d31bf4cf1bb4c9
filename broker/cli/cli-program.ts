import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import type { CommandIo } from './cli-io.ts';
import { replayCommand } from './replay-command.ts';
import { runCommand } from './run-command.ts';
import { startCommand } from './start-command.ts';
import { streamsCommand } from './streams-command.ts';
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

/** Commands whose flags are still parsed by their own module: every argument after the command name is handed over. */
function passThrough(context: CliContext, name: string, description: string, run: (args: readonly string[], io: CommandIo) => Promise<number>): Command {
  return new Command(name)
    .description(description)
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[args...]')
    .action(exitCodeOf(context, (args: string[]) => run(args, context.io)));
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
  program.addCommand(passThrough(context, 'start', 'open the broker and serve until SIGINT or SIGTERM', startCommand));
  program.addCommand(passThrough(context, 'run', 'run a stream job module until SIGINT or SIGTERM', runCommand));
  program.addCommand(passThrough(context, 'streams', 'reset or compare streams applications', streamsCommand));
  program.addCommand(passThrough(context, 'replay', 'copy a range of a topic into another, exactly once', replayCommand));
  addTopicsCommand(program, context);
  addConsumeCommand(program, context);
  addProduceCommand(program, context);
  addGroupsCommand(program, context);
  addBenchCommand(program, context);
  return program;
}
