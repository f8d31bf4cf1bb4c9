import type { Command } from 'commander';
import { Admin, type BrokerApiVersion } from '../../sdk/client/admin/admin.ts';
import { addOutputOptions, type CliContext, exitCodeOf } from './cli-program.ts';
import { addConnectionOptions, type ConnectionFlags } from './connection-options.ts';
import { withClient } from './client-session.ts';

function range(v: { minVersion: number; maxVersion: number }): string {
  return v.minVersion === v.maxVersion ? `${v.minVersion}` : `${v.minVersion}–${v.maxVersion}`;
}

/** The broker's APIs as a markdown table: the README's Kafka compatibility table is this output, checked by a test. */
export function apiVersionsMarkdown(apis: readonly BrokerApiVersion[]): string {
  const rows = apis.map((a) => `| ${a.name} | ${a.apiKey} | ${range(a)} | ${a.client === undefined ? '—' : range(a.client)} |`);
  return ['| API | Key | Broker versions | SDK client versions |', '| --- | ---: | --- | --- |', ...rows].join('\n');
}

/** `rill api-versions`: what a broker advertises (Kafka's kafka-broker-api-versions), for any Kafka-compatible broker. */
export function addApiVersionsCommand(program: Command, context: CliContext): void {
  const command = program
    .command('api-versions')
    .description('list the Kafka APIs and versions the broker advertises, beside the ones this client speaks')
    .option('--markdown', 'print a markdown table');
  addConnectionOptions(command);
  addOutputOptions(command);
  command.action(
    exitCodeOf(context, async (flags: ConnectionFlags & { json?: boolean; markdown?: boolean }) => {
      const apis = await withClient(flags, context.env, (transport) => new Admin(transport).apiVersions());
      if (flags.json === true) context.io.out(JSON.stringify(apis));
      else if (flags.markdown === true) context.io.out(apiVersionsMarkdown(apis));
      else for (const a of apis) context.io.out(`${a.name.padEnd(32)} ${String(a.apiKey).padStart(3)}  ${range(a).padEnd(6)}  ${a.client === undefined ? 'not used by the SDK' : `SDK ${range(a.client)}`}`);
      return 0;
    }),
  );
}
