import { type Command, Option } from 'commander';
import { Admin } from '../../sdk/client/admin/admin.ts';
import { isKafkaError } from '../../sdk/protocol/kafka-error.ts';
import { CliFailure, ExitCode, UsageError } from './cli-errors.ts';
import { type CliContext, exitCodeOf } from './cli-program.ts';
import { type ClientFlags, clientCommand, printJson } from './client-command.ts';
import { topicFailure, withClient } from './client-session.ts';
import { keyValue, nonNegativeInteger, positiveInteger, repeated } from './option-parsers.ts';
import { textTable } from './text-table.ts';

interface CreateFlags extends ClientFlags {
  partitions?: number;
  replicationFactor?: number;
  config?: [string, string][];
}

interface AlterFlags extends ClientFlags {
  config?: [string, string][];
  deleteConfig?: string[];
}

interface AddPartitionsFlags extends ClientFlags {
  partitions: number;
}

/** A topic's partitions with their log start and end offsets, and its configs. */
export interface TopicDescriptionOutput {
  topic: string;
  topicId: string;
  partitions: { partition: number; leader: number; logStartOffset: number; highWatermark: number }[];
  configs: Record<string, string | null>;
}

function configObject(pairs: readonly [string, string][] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of pairs ?? []) {
    if (name in out) throw new UsageError(`--config ${name} is given twice`);
    out[name] = value;
  }
  return out;
}

async function describeTopic(admin: Admin, topic: string): Promise<TopicDescriptionOutput> {
  try {
    const [info] = await admin.describeTopics([topic]);
    const offsets = await admin.topicOffsets(topic, 0);
    const configs = await admin.describeTopicConfigs(topic);
    return {
      topic,
      topicId: info!.topicId,
      partitions: info!.partitions.map((p) => {
        const o = offsets.find((x) => x.partition === p.partition)!;
        return { partition: p.partition, leader: p.leaderId, logStartOffset: o.earliest, highWatermark: o.latest };
      }),
      configs: Object.fromEntries(Object.entries(configs).sort(([a], [b]) => (a < b ? -1 : 1))),
    };
  } catch (error) {
    throw topicFailure(topic, error);
  }
}

function printDescription(context: CliContext, d: TopicDescriptionOutput): void {
  context.io.out(`topic ${d.topic} (id ${d.topicId}), ${d.partitions.length} partition${d.partitions.length === 1 ? '' : 's'}`);
  for (const line of textTable([['partition', 'leader', 'log start offset', 'log end offset'], ...d.partitions.map((p) => [p.partition, p.leader, p.logStartOffset, p.highWatermark])])) {
    context.io.out(`  ${line}`);
  }
  context.io.out('configs:');
  for (const line of textTable(Object.entries(d.configs).map(([k, v]) => [k, v ?? '(null)']))) context.io.out(`  ${line}`);
}

/** `rill topics create|list|describe|delete|alter|add-partitions`, over the Kafka protocol against any compatible broker. */
export function addTopicsCommand(program: Command, context: CliContext): void {
  const topics = program.command('topics').description('create, list, describe, alter and delete topics');

  clientCommand(topics, 'create <topic>', 'create a topic')
    .addOption(new Option('-p, --partitions <count>', 'number of partitions (default: the broker default)').argParser(positiveInteger))
    .addOption(new Option('-r, --replication-factor <n>', 'replicas per partition (Rill keeps 1; default: the broker default)').argParser(positiveInteger))
    .addOption(new Option('-c, --config <name=value>', 'a topic config, repeatable (e.g. retention.ms=86400000)').argParser(keyValue))
    .action(
      exitCodeOf(context, async (topic: string, flags: CreateFlags) => {
        const configs = configObject(flags.config);
        return withClient(flags, context.env, async (transport) => {
          const admin = new Admin(transport);
          try {
            await admin.createTopics([{ name: topic, numPartitions: flags.partitions, replicationFactor: flags.replicationFactor, configs }]);
          } catch (error) {
            if (isKafkaError(error, 'TOPIC_ALREADY_EXISTS')) throw new CliFailure(`topic "${topic}" already exists`);
            throw error;
          }
          const [info] = await admin.describeTopics([topic]);
          const partitions = info!.partitions.length;
          if (flags.json === true) printJson(context, { topic, topicId: info!.topicId, partitions, configs });
          else context.io.out(`created topic ${topic} with ${partitions} partition${partitions === 1 ? '' : 's'}`);
          return ExitCode.ok;
        });
      }),
    );

  clientCommand(topics, 'list', 'list the topics (internal ones excluded)').action(
    exitCodeOf(context, async (flags: ClientFlags) =>
      withClient(flags, context.env, async (transport) => {
        const admin = new Admin(transport);
        const names = await admin.listTopics();
        const infos = names.length === 0 ? [] : await admin.describeTopics(names);
        if (flags.json === true) printJson(context, infos.map((t) => ({ topic: t.name, partitions: t.partitions.length })));
        else if (infos.length > 0) for (const line of textTable([['topic', 'partitions'], ...infos.map((t) => [t.name, t.partitions.length])])) context.io.out(line);
        return ExitCode.ok;
      }),
    ),
  );

  clientCommand(topics, 'describe <topic>', 'show partitions with their log start and end offsets, and configs').action(
    exitCodeOf(context, async (topic: string, flags: ClientFlags) =>
      withClient(flags, context.env, async (transport) => {
        const description = await describeTopic(new Admin(transport), topic);
        if (flags.json === true) printJson(context, description);
        else printDescription(context, description);
        return ExitCode.ok;
      }),
    ),
  );

  clientCommand(topics, 'delete <topics...>', 'delete topics and their records').action(
    exitCodeOf(context, async (names: string[], flags: ClientFlags) =>
      withClient(flags, context.env, async (transport) => {
        const admin = new Admin(transport);
        for (const name of names) {
          try {
            await admin.deleteTopics([name]);
          } catch (error) {
            throw topicFailure(name, error);
          }
          if (flags.json !== true) context.io.out(`deleted topic ${name}`);
        }
        if (flags.json === true) printJson(context, { deleted: names });
        return ExitCode.ok;
      }),
    ),
  );

  clientCommand(topics, 'alter <topic>', 'set or delete topic configs (IncrementalAlterConfigs; other configs stay as they are)')
    .addOption(new Option('-c, --config <name=value>', 'set a config, repeatable').argParser(keyValue))
    .addOption(new Option('-d, --delete-config <name>', 'remove an override (back to the default), repeatable').argParser(repeated))
    .action(
      exitCodeOf(context, async (topic: string, flags: AlterFlags) => {
        const changes: Record<string, string | null> = configObject(flags.config);
        for (const name of flags.deleteConfig ?? []) {
          if (name in changes) throw new UsageError(`--config and --delete-config both name ${name}`);
          changes[name] = null;
        }
        if (Object.keys(changes).length === 0) throw new UsageError('topics alter needs at least one --config or --delete-config');
        return withClient(flags, context.env, async (transport) => {
          const admin = new Admin(transport);
          try {
            await admin.describeTopics([topic]);
            await admin.alterTopicConfigs(topic, changes);
          } catch (error) {
            throw topicFailure(topic, error);
          }
          if (flags.json === true) printJson(context, { topic, changes });
          else context.io.out(`altered ${Object.keys(changes).length} config${Object.keys(changes).length === 1 ? '' : 's'} of topic ${topic}`);
          return ExitCode.ok;
        });
      }),
    );

  clientCommand(topics, 'add-partitions <topic>', 'grow a topic to a new total number of partitions')
    .addOption(new Option('-p, --partitions <total>', 'the new total partition count').argParser(nonNegativeInteger).makeOptionMandatory())
    .action(
      exitCodeOf(context, async (topic: string, flags: AddPartitionsFlags) =>
        withClient(flags, context.env, async (transport) => {
          const admin = new Admin(transport);
          let before: number;
          try {
            const [info] = await admin.describeTopics([topic]);
            before = info!.partitions.length;
          } catch (error) {
            throw topicFailure(topic, error);
          }
          if (flags.partitions <= before) throw new CliFailure(`topic "${topic}" already has ${before} partitions; --partitions is the new total and must be larger`);
          await admin.createPartitions(topic, flags.partitions);
          if (flags.json === true) printJson(context, { topic, partitions: flags.partitions, previousPartitions: before });
          else context.io.out(`topic ${topic} now has ${flags.partitions} partitions (was ${before})`);
          return ExitCode.ok;
        }),
      ),
    );
}
