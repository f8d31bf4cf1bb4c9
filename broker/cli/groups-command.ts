import { type Command, Option } from 'commander';
import { Admin } from '../../sdk/client/admin/admin.ts';
import type { GroupDescription, PartitionLag } from '../../sdk/client/admin/group-admin.ts';
import { isKafkaError } from '../../sdk/protocol/kafka-error.ts';
import { CliFailure, ExitCode, UsageError } from './cli-errors.ts';
import { type CliContext, exitCodeOf } from './cli-program.ts';
import { addGroupConfigCommands } from './group-config-commands.ts';
import { parseDuration, parseTime } from './cli-values.ts';
import { type ClientFlags, clientCommand, printJson } from './client-command.ts';
import { topicFailure, withClient } from './client-session.ts';
import { nonNegativeInteger } from './option-parsers.ts';
import { textTable } from './text-table.ts';

interface ResetFlags extends ClientFlags {
  topic: string;
  toEarliest?: boolean;
  toLatest?: boolean;
  toOffset?: number;
  toDatetime?: string;
  byDuration?: string;
  dryRun?: boolean;
  execute?: boolean;
}

/** A group's state, members and per-partition committed offsets with lag, as `groups describe` prints it. */
export interface GroupDescriptionOutput {
  group: string;
  state: string;
  protocolType: string;
  protocol: string;
  members: { memberId: string; clientId: string; host: string; assignment: { topic: string; partition: number }[] }[];
  offsets: (PartitionLag & { memberId: string | null })[];
}

/** A group the coordinator does not know: Dead, no members, nothing committed. */
function unknownGroup(description: GroupDescription, lag: readonly PartitionLag[]): boolean {
  return description.groupState === 'Dead' && description.members.length === 0 && lag.length === 0;
}

async function describeGroup(admin: Admin, group: string): Promise<GroupDescriptionOutput> {
  const [description] = await admin.describeGroups([group]);
  const committedLag = await admin.groupLag(group);
  if (unknownGroup(description!, committedLag)) throw new CliFailure(`group "${group}" does not exist (rill groups list shows the groups)`);
  // Every partition of the topics the group committed or its members subscribe to, committed or not.
  const topics = new Set([...committedLag.map((l) => l.topic), ...description!.members.flatMap((m) => m.subscribedTopics)]);
  const lag = topics.size === 0 ? committedLag : await admin.groupLag(group, [...topics].sort());
  const owner = new Map<string, string>();
  for (const m of description!.members) for (const tp of m.assignment) owner.set(`${tp.topic}\0${tp.partition}`, m.memberId);
  return {
    group,
    state: description!.groupState,
    protocolType: description!.protocolType,
    protocol: description!.protocol,
    members: description!.members.map((m) => ({ memberId: m.memberId, clientId: m.clientId, host: m.clientHost, assignment: m.assignment })),
    offsets: lag.map((l) => ({ ...l, memberId: owner.get(`${l.topic}\0${l.partition}`) ?? null })),
  };
}

type ResetTarget = { to: 'earliest' } | { to: 'latest' } | { to: 'offset'; offset: number } | { to: 'time'; timestampMs: number };

function resetTarget(flags: ResetFlags): ResetTarget {
  const chosen: ResetTarget[] = [];
  if (flags.toEarliest === true) chosen.push({ to: 'earliest' });
  if (flags.toLatest === true) chosen.push({ to: 'latest' });
  if (flags.toOffset !== undefined) chosen.push({ to: 'offset', offset: flags.toOffset });
  if (flags.toDatetime !== undefined) chosen.push({ to: 'time', timestampMs: parseTime('to-datetime', flags.toDatetime) });
  if (flags.byDuration !== undefined) chosen.push({ to: 'time', timestampMs: Date.now() - parseDuration('by-duration', flags.byDuration) });
  if (chosen.length !== 1) throw new UsageError('give exactly one of --to-earliest, --to-latest, --to-offset, --to-datetime and --by-duration');
  if (flags.dryRun === true && flags.execute === true) throw new UsageError('give --dry-run or --execute, not both');
  return chosen[0]!;
}

/** The offset each partition of `topic` moves to: the target clamped to the partition's log start and end. */
async function plannedOffsets(admin: Admin, topic: string, target: ResetTarget): Promise<{ partition: number; offset: number }[]> {
  const bounds = await admin.topicOffsets(topic);
  if (target.to === 'time') {
    const found = await admin.offsetsForTimes(
      bounds.map((b) => ({ topic, partition: b.partition })),
      target.timestampMs,
      0,
    );
    // No record at or after the time: the end, as Kafka's tool does.
    return found.map((f) => ({ partition: f.partition, offset: f.offset < 0 ? bounds.find((b) => b.partition === f.partition)!.latest : f.offset }));
  }
  return bounds.map((b) => ({
    partition: b.partition,
    offset: target.to === 'earliest' ? b.earliest : target.to === 'latest' ? b.latest : Math.min(Math.max(target.offset, b.earliest), b.latest),
  }));
}

/** `rill groups list|describe|reset-offsets|delete`: consumer groups, their members, committed offsets and lag. */
export function addGroupsCommand(program: Command, context: CliContext): void {
  const groups = program.command('groups').description('list, describe, reset and delete consumer groups');
  addGroupConfigCommands(groups, context);

  clientCommand(groups, 'list', 'list the consumer groups with their states').action(
    exitCodeOf(context, async (flags: ClientFlags) =>
      withClient(flags, context.env, async (transport) => {
        const listed = await new Admin(transport).listGroups();
        if (flags.json === true) printJson(context, listed.map((g) => ({ group: g.groupId, state: g.groupState, protocolType: g.protocolType })));
        else if (listed.length > 0) for (const line of textTable([['group', 'state', 'protocol type'], ...listed.map((g) => [g.groupId, g.groupState, g.protocolType])])) context.io.out(line);
        return ExitCode.ok;
      }),
    ),
  );

  clientCommand(groups, 'describe <group>', 'show state, members, assignments, committed offsets and lag per partition').action(
    exitCodeOf(context, async (group: string, flags: ClientFlags) =>
      withClient(flags, context.env, async (transport) => {
        const d = await describeGroup(new Admin(transport), group);
        if (flags.json === true) {
          printJson(context, d);
          return ExitCode.ok;
        }
        context.io.out(`group ${d.group}: ${d.state}${d.protocol === '' ? '' : ` (${d.protocolType}, ${d.protocol})`}, ${d.members.length} member${d.members.length === 1 ? '' : 's'}`);
        for (const m of d.members) {
          const assigned = m.assignment.map((tp) => `${tp.topic}-${tp.partition}`).join(', ');
          context.io.out(`  ${m.memberId} (${m.clientId}@${m.host}): ${assigned === '' ? 'no partitions' : assigned}`);
        }
        if (d.offsets.length > 0) {
          const rows = d.offsets.map((o) => [o.topic, o.partition, o.committedOffset < 0 ? '-' : o.committedOffset, o.highWatermark, o.lag, o.memberId ?? '-']);
          for (const line of textTable([['topic', 'partition', 'committed', 'log end', 'lag', 'member'], ...rows])) context.io.out(`  ${line}`);
        }
        return ExitCode.ok;
      }),
    ),
  );

  clientCommand(groups, 'reset-offsets <group>', "move an empty group's committed offsets for a topic (a preview unless --execute)")
    .addOption(new Option('-t, --topic <topic>', 'the topic whose offsets move').makeOptionMandatory())
    .addOption(new Option('--to-earliest', 'to the log start of each partition'))
    .addOption(new Option('--to-latest', 'to the log end of each partition'))
    .addOption(new Option('--to-offset <n>', 'to this offset (clamped to each partition\'s log start and end)').argParser(nonNegativeInteger))
    .addOption(new Option('--to-datetime <time>', 'to the first record at or after an ISO 8601 time or ms since the epoch'))
    .addOption(new Option('--by-duration <duration>', 'to the first record at or after this long ago (PT1H, 15m, 2d)'))
    .addOption(new Option('--dry-run', 'show the new offsets without committing them (the default)'))
    .addOption(new Option('--execute', 'commit the new offsets'))
    .action(
      exitCodeOf(context, async (group: string, flags: ResetFlags) => {
        const target = resetTarget(flags);
        return withClient(flags, context.env, async (transport) => {
          const admin = new Admin(transport);
          const [description] = await admin.describeGroups([group]);
          const members = description!.members.length;
          if (members > 0) throw new CliFailure(`group "${group}" has ${members} active member${members === 1 ? '' : 's'}; stop ${members === 1 ? 'it' : 'them'} first (only an empty group's offsets can be reset)`);
          let planned: { partition: number; offset: number }[];
          try {
            planned = await plannedOffsets(admin, flags.topic, target);
          } catch (error) {
            throw topicFailure(flags.topic, error);
          }
          const current = new Map((await admin.committedOffsets(group, planned.map((p) => ({ topic: flags.topic, partition: p.partition })))).map((c) => [c.partition, c.offset]));
          const rows = planned.map((p) => ({ topic: flags.topic, partition: p.partition, currentOffset: current.get(p.partition) ?? -1, newOffset: p.offset }));
          const execute = flags.execute === true;
          if (execute) {
            try {
              await admin.resetGroupOffsets(group, flags.topic, { to: 'offsets', offsets: planned.map((p) => ({ topic: flags.topic, partition: p.partition, offset: p.offset })) });
            } catch (error) {
              if (isKafkaError(error, 'UNKNOWN_MEMBER_ID') || isKafkaError(error, 'ILLEGAL_GENERATION')) {
                throw new CliFailure(`group "${group}" gained members while resetting; stop them and run it again`);
              }
              throw error;
            }
          }
          if (flags.json === true) {
            printJson(context, { group, executed: execute, offsets: rows });
            return ExitCode.ok;
          }
          const table = rows.map((r) => [r.topic, r.partition, r.currentOffset < 0 ? '-' : r.currentOffset, r.newOffset]);
          for (const line of textTable([['topic', 'partition', 'current', 'new'], ...table])) context.io.out(line);
          context.io.out(execute ? `reset the offsets of group ${group} on ${flags.topic}` : 'dry run: nothing committed; run again with --execute to commit these offsets');
          return ExitCode.ok;
        });
      }),
    );

  clientCommand(groups, 'delete <groups...>', 'delete empty groups with their committed offsets').action(
    exitCodeOf(context, async (names: string[], flags: ClientFlags) =>
      withClient(flags, context.env, async (transport) => {
        const admin = new Admin(transport);
        for (const group of names) {
          try {
            await admin.deleteGroups([group]);
          } catch (error) {
            if (isKafkaError(error, 'GROUP_ID_NOT_FOUND')) throw new CliFailure(`group "${group}" does not exist (rill groups list shows the groups)`);
            if (isKafkaError(error, 'NON_EMPTY_GROUP')) throw new CliFailure(`group "${group}" has active members; stop them first`);
            throw error;
          }
          if (flags.json !== true) context.io.out(`deleted group ${group}`);
        }
        if (flags.json === true) printJson(context, { deleted: names });
        return ExitCode.ok;
      }),
    ),
  );
}
