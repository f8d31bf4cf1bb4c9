import { type Command, Option } from 'commander';
import { GroupConfigAdmin } from '../../sdk/client/admin/group-config-admin.ts';
import { isKafkaError } from '../../sdk/protocol/kafka-error.ts';
import { CliFailure, ExitCode, UsageError } from './cli-errors.ts';
import { type CliContext, exitCodeOf } from './cli-program.ts';
import { type ClientFlags, clientCommand, printJson } from './client-command.ts';
import { withClient } from './client-session.ts';
import { keyValue, repeated } from './option-parsers.ts';
import { textTable } from './text-table.ts';

interface AlterFlags extends ClientFlags {
  config?: [string, string][];
  deleteConfig?: string[];
}

/** `rill groups describe-config|alter-config`: a group's configs on the GROUP config resource (share-group settings). */
export function addGroupConfigCommands(groups: Command, context: CliContext): void {
  clientCommand(groups, 'describe-config <group>', "show a group's configs (share.* and rill.share.*), overrides marked").action(
    exitCodeOf(context, async (group: string, flags: ClientFlags) =>
      withClient(flags, context.env, async (transport) => {
        const entries = await new GroupConfigAdmin(transport).describeGroupConfigs(group);
        if (flags.json === true) printJson(context, { group, configs: entries });
        else for (const line of textTable([['config', 'value', 'source'], ...entries.map((e) => [e.name, e.value ?? '', e.isOverride ? 'group' : 'default'])])) context.io.out(line);
        return ExitCode.ok;
      }),
    ),
  );

  clientCommand(groups, 'alter-config <group>', "set or delete a group's configs, all or none (IncrementalAlterConfigs on the group)")
    .addOption(new Option('-c, --config <name=value>', 'set a config, repeatable (e.g. share.delivery.count.limit=3, rill.share.retry.backoff.ms=1000,10000)').argParser(keyValue))
    .addOption(new Option('-d, --delete-config <name>', 'remove an override (back to the default), repeatable').argParser(repeated))
    .action(
      exitCodeOf(context, async (group: string, flags: AlterFlags) => {
        const changes: Record<string, string | null> = {};
        for (const [name, value] of flags.config ?? []) {
          if (name in changes) throw new UsageError(`--config ${name} is given twice`);
          changes[name] = value;
        }
        for (const name of flags.deleteConfig ?? []) {
          if (name in changes) throw new UsageError(`--config and --delete-config both name ${name}`);
          changes[name] = null;
        }
        if (Object.keys(changes).length === 0) throw new UsageError('groups alter-config needs at least one --config or --delete-config');
        return withClient(flags, context.env, async (transport) => {
          try {
            await new GroupConfigAdmin(transport).alterGroupConfigs(group, changes);
          } catch (error) {
            if (isKafkaError(error, 'INVALID_CONFIG') || isKafkaError(error, 'INVALID_REQUEST')) throw new CliFailure(`group "${group}": ${error.message.replace(/^[A-Z_]+: /, '')}`);
            throw error;
          }
          if (flags.json === true) printJson(context, { group, changes });
          else context.io.out(`altered ${Object.keys(changes).length} config${Object.keys(changes).length === 1 ? '' : 's'} of group ${group}`);
          return ExitCode.ok;
        });
      }),
    );
}
