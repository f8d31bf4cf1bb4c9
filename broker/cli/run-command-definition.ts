import { type Command, Option } from 'commander';
import { type CliContext, exitCodeOf } from './cli-program.ts';
import { addConnectionOptions } from './connection-options.ts';
import { parseRunOptions, type RunFlags } from './parse-run-options.ts';

/** Declares `rill run <job-module>` on the program. */
export function addRunCommand(program: Command, context: CliContext): void {
  const command = program
    .command('run')
    .description('run a stream job module until SIGINT or SIGTERM')
    .argument('<job-module>', 'a module whose default export is defineJob({...}) of rill/streams')
    .option('--embedded', 'run against a broker opened in this process instead of --bootstrap')
    .option('--data-dir <dir>', "the embedded broker's data directory (required with --embedded)")
    .option('--kafka-port <port>', 'also serve the embedded broker over Kafka on 127.0.0.1:<port> (0 picks one)')
    .option('--application-id <id>', "override the job's applicationId (the group, internal topic prefix)")
    .option('--state-dir <dir>', "where task state is kept (overrides the job's config)")
    .addOption(new Option('--guarantee <guarantee>', "override the job's processing guarantee").choices(['exactly_once', 'at_least_once']))
    .option('--http-port <port>', "serve the application's queries, /metrics and /health on 127.0.0.1:<port>")
    .option('--describe', "print the job's topology and exit, without connecting")
    .option('--verbose', 'print stack traces of failures');
  addConnectionOptions(command);
  command.action(
    exitCodeOf(context, async (modulePath: string, flags: RunFlags) => {
      const source = command.getOptionValueSource('bootstrap');
      const options = parseRunOptions(modulePath, flags, source === 'cli' || source === 'env');
      // The streams runtime loads only for this command, so other commands start fast.
      const { runCommand } = await import('./run-command.ts');
      return runCommand(options, context.io, context.env);
    }),
  );
}
