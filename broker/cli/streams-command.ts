import type { Command } from 'commander';
import type { CliContext } from './cli-program.ts';
import { addStreamsDescribeCommand } from './streams-describe-command.ts';
import { addStreamsDiffCommand } from './streams-diff-command.ts';
import { addStreamsResetCommand } from './streams-reset-command.ts';

/** `rill streams <reset|describe|diff>`: operations on streams applications. */
export function addStreamsCommand(program: Command, context: CliContext): void {
  const streams = program.command('streams').description('reset, describe or compare streams applications');
  addStreamsResetCommand(streams, context);
  addStreamsDescribeCommand(streams, context);
  addStreamsDiffCommand(streams, context);
}
