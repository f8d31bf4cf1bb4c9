import type { Command } from 'commander';
import { type CliContext, exitCodeOf } from './cli-program.ts';
import { startConfigReference } from './start-config-reference.ts';
import { addStartOptions, resolveStartValues } from './start-settings.ts';

/** Declares `rill start` on the program: every setting as a flag, an environment variable and a config file key. */
export function addStartCommand(program: Command, context: CliContext): void {
  const command = program
    .command('start')
    .description('open the broker and serve until SIGINT or SIGTERM')
    .addHelpText('after', '\nEvery flag is also an environment variable (shown) and a key of the --config file (the flag name: "kafka-port: 9092").\nPrecedence: flag, then environment variable, then config file, then default.');
  addStartOptions(command).option('--verbose', 'print stack traces of failures');
  command.action(
    exitCodeOf(context, async () => {
      if (command.getOptionValue('printConfigReference') === true) {
        context.io.out(startConfigReference());
        return 0;
      }
      const values = resolveStartValues(command, context.env);
      // The broker and its listeners load only for this command, so other commands start fast.
      const { startCommand } = await import('./start-command.ts');
      return startCommand(values, context.io, context.env);
    }),
  );
}
