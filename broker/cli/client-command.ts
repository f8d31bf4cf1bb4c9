import type { Command } from 'commander';
import { addOutputOptions, type CliContext } from './cli-program.ts';
import type { ConnectionFlags } from './connection-options.ts';
import { addConnectionOptions } from './connection-options.ts';

/** What every client command's options hold besides its own: the connection flags, --json and --verbose. */
export interface ClientFlags extends ConnectionFlags {
  json?: boolean;
  verbose?: boolean;
}

/** A subcommand of `parent` that talks to a broker: connection flags (listed under their own heading in its help), --json and --verbose. */
export function clientCommand(parent: Command, nameAndArgs: string, description: string): Command {
  const command = parent.command(nameAndArgs).description(description).optionsGroup('Connection options:');
  return addOutputOptions(addConnectionOptions(command).optionsGroup('Output options:')).optionsGroup('Options:');
}

/** Prints one JSON document (for --json) on stdout. */
export function printJson(context: CliContext, value: unknown): void {
  context.io.out(JSON.stringify(value));
}
