import type { Command } from 'commander';
import { describeApplication, formatApplicationDescription } from '../../streams/ops/application-describe.ts';
import { addOutputOptions, type CliContext, exitCodeOf } from './cli-program.ts';
import { addConnectionOptions, type ConnectionFlags } from './connection-options.ts';
import { withClient } from './client-session.ts';

interface DescribeFlags extends ConnectionFlags {
  applicationId: string;
  json?: boolean;
}

/** `rill streams describe`: a streams application's group, members with their tasks and endpoints, lag, internal topics. Exit 1 when unknown. */
export function addStreamsDescribeCommand(streams: Command, context: CliContext): void {
  const command = streams
    .command('describe')
    .description("show a streams application's group state, its members (client, host, endpoint, tasks), the lag of each partition it consumes, and its internal topics")
    .requiredOption('--application-id <id>', 'the application to describe');
  addConnectionOptions(addOutputOptions(command));
  command.action(
    exitCodeOf(context, (flags: DescribeFlags) =>
      withClient(flags, context.env, async (transport) => {
        const description = await describeApplication(transport, flags.applicationId);
        context.io.out(flags.json === true ? JSON.stringify(description) : formatApplicationDescription(description));
        return 0;
      }),
    ),
  );
}
