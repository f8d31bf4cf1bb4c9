import { UsageError } from './parse-start-options.ts';
import type { CommandIo } from './start-command.ts';
import { streamsDiffCommand } from './streams-diff-command.ts';
import { streamsResetCommand } from './streams-reset-command.ts';

/** `rill streams <reset|diff>`. */
export function streamsCommand(args: readonly string[], io: CommandIo): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'reset':
      return streamsResetCommand(rest, io);
    case 'diff':
      return streamsDiffCommand(rest, io);
    default:
      throw new UsageError(sub === undefined ? 'rill streams needs a subcommand: reset or diff' : `unknown streams subcommand "${sub}"; use reset or diff`);
  }
}
