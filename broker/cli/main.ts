#!/usr/bin/env node
import { CommanderError } from 'commander';
import { KafkaError } from '../../sdk/protocol/kafka-error.ts';
import { StreamsError } from '../../streams/runtime/streams-error.ts';
import { CliFailure, ExitCode, UsageError } from './cli-errors.ts';
import { processIo } from './cli-io.ts';
import { buildProgram, type CliContext } from './cli-program.ts';
import { JobModuleError } from './load-job.ts';

/**
 * Exit codes: 0 ok, 1 failure (the command ran and failed), 2 usage error (the command line is wrong).
 * Failures print one sentence; stack traces only with --verbose.
 */
async function main(argv: readonly string[]): Promise<number> {
  const context: CliContext = { io: processIo, env: process.env, exitCode: ExitCode.ok };
  const program = buildProgram(context);
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return ExitCode.usage;
  }
  await program.parseAsync([...argv], { from: 'user' });
  return context.exitCode;
}

function exitCodeFor(error: unknown, verbose: boolean): number {
  const io = processIo;
  if (error instanceof CommanderError) {
    // Commander has already printed help, the version, or its one-line complaint.
    return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  }
  if (error instanceof UsageError) {
    io.err(`rill: ${error.message} (see rill --help)`);
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

const argv = process.argv.slice(2);
main(argv).then(
  (code) => process.exit(code),
  (error: unknown) => process.exit(exitCodeFor(error, argv.includes('--verbose'))),
);
