import { type Command, CommanderError } from 'commander';
import { KafkaError } from '../../sdk/protocol/kafka-error.ts';
import { StreamsError } from '../../streams/runtime/streams-error.ts';
import { CliFailure, ExitCode, UsageError } from './cli-errors.ts';
import type { CommandIo } from './cli-io.ts';
import { buildProgram, type CliContext } from './cli-program.ts';
import { JobModuleError } from './load-job.ts';

/**
 * Exit codes: 0 ok, 1 failure (the command ran and failed), 2 usage error (the command line is wrong).
 * Failures print one sentence; stack traces only with --verbose.
 */
export async function runCli(argv: readonly string[], io: CommandIo, env: CliContext['env']): Promise<number> {
  const context: CliContext = { io, env, exitCode: ExitCode.ok };
  const program = buildProgram(context);
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return ExitCode.usage;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return context.exitCode;
  } catch (error) {
    return exitCodeFor(error, io, argv.includes('--verbose'), commandPath(program, argv));
  }
}

/** The command the arguments name (`rill streams reset`), for pointing at its help. */
function commandPath(program: Command, argv: readonly string[]): string {
  const names = [program.name()];
  let command = program;
  for (const arg of argv) {
    const sub = command.commands.find((c) => c.name() === arg || c.aliases().includes(arg));
    if (sub === undefined) break;
    names.push(sub.name());
    command = sub;
  }
  return names.join(' ');
}

function exitCodeFor(error: unknown, io: CommandIo, verbose: boolean, command: string): number {
  if (error instanceof CommanderError) {
    // Commander has already printed help, the version, or its one-line complaint.
    return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  }
  if (error instanceof UsageError) {
    // Several problems (a config file's bad keys) come one per line.
    const lines = error.message.split('\n');
    if (lines.length === 1) io.err(`rill: ${error.message} (see ${command} --help)`);
    else for (const line of lines) io.err(`rill: ${line}`);
    return ExitCode.usage;
  }
  if (error instanceof JobModuleError) {
    io.err(`rill: ${error.message}`);
    return error.exitCode;
  }
  if (error instanceof KafkaError || error instanceof StreamsError || error instanceof CliFailure) {
    io.err(`rill: ${error.message}`);
    if (verbose && error.stack !== undefined) io.err(error.stack);
    return ExitCode.failure;
  }
  const message = error instanceof Error ? error.message : String(error);
  io.err(`rill: unexpected failure: ${message}${verbose ? '' : ' (--verbose prints the stack trace)'}`);
  if (verbose && error instanceof Error && error.stack !== undefined) io.err(error.stack);
  return ExitCode.failure;
}
