import { Admin } from '../../sdk/client/admin/admin.ts';
import type { PartitionLag } from '../../sdk/client/admin/group-admin.ts';
import type { TopicPartition } from '../../sdk/client/consumer/consumer-types.ts';
import type { Transport } from '../../sdk/transport/transport.ts';
import { describeStreamsMember } from '../runtime/streams-assignor.ts';
import { StreamsError, StreamsErrorCode } from '../runtime/streams-error.ts';
import { applicationInternalTopics } from './application-reset.ts';

/** One instance in a streams application's group, as its subscription and assignment describe it. */
export interface ApplicationMember {
  memberId: string;
  clientId: string;
  /** The address the coordinator saw the member connect from. */
  clientHost: string;
  /** The instance id the runtime keeps in its state directory; null for a member that is not a Rill streams instance. */
  instanceId: string | null;
  /** `applicationServer` (host:port where its stores are queried), or null. */
  endpoint: string | null;
  /** Its tasks, as Kafka Streams writes them: `<subtopology>_<partition>`. */
  tasks: string[];
  partitions: TopicPartition[];
}

export interface ApplicationDescription {
  applicationId: string;
  /** The group's state: Stable, PreparingRebalance, CompletingRebalance, Empty or Dead (no group). */
  state: string;
  /** The group's partition assignor (`rill-streams`), empty without members. */
  protocol: string;
  members: ApplicationMember[];
  /** Every partition the application has committed offsets for (its input and repartition topics), with its lag. */
  lag: (PartitionLag & { internal: boolean })[];
  totalLag: number;
  /** Its repartition, changelog and subscription topics. */
  internalTopics: string[];
}

/**
 * Describes a streams application from outside (the group is its applicationId): the group's
 * state, each member with its endpoint and tasks, the lag of every partition it consumes, and its
 * internal topics. An application with no group, no committed offsets and no internal topics is
 * unknown (StreamsError UNKNOWN_APPLICATION).
 */
export async function describeApplication(transport: Transport, applicationId: string): Promise<ApplicationDescription> {
  const admin = new Admin(transport);
  const [[group], lags, topics, groups] = await Promise.all([admin.describeGroups([applicationId], { userData: true }), admin.groupLag(applicationId), admin.listTopics(), admin.listGroups()]);
  const internalTopics = applicationInternalTopics(applicationId, topics, groups.map((g) => g.groupId));
  const known = groups.some((g) => g.groupId === applicationId) || lags.length > 0 || internalTopics.length > 0;
  if (!known) throw new StreamsError(StreamsErrorCode.unknownApplication, `application "${applicationId}" is unknown: it has no consumer group, committed offsets or internal topics`);
  const internal = new Set(internalTopics);
  const members = (group?.members ?? []).map((m) => {
    const info = describeStreamsMember(m.subscriptionUserData ?? null, m.assignmentUserData ?? null);
    return {
      memberId: m.memberId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      instanceId: info.instanceId,
      endpoint: info.endpoint,
      tasks: [...info.tasks].sort((a, b) => a.subtopology - b.subtopology || a.partition - b.partition).map((t) => `${t.subtopology}_${t.partition}`),
      partitions: [...m.assignment].sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1)),
    };
  });
  members.sort((a, b) => (a.memberId < b.memberId ? -1 : 1));
  return {
    applicationId,
    state: group?.groupState ?? 'Dead',
    protocol: group?.protocol ?? '',
    members,
    lag: lags.map((l) => ({ ...l, internal: internal.has(l.topic) })),
    totalLag: lags.reduce((sum, l) => sum + l.lag, 0),
    internalTopics,
  };
}

/** The description as text for a terminal. */
export function formatApplicationDescription(d: ApplicationDescription): string {
  const lines = [`Application "${d.applicationId}": group ${d.state}, ${d.members.length} member${d.members.length === 1 ? '' : 's'}, total lag ${d.totalLag}`];
  lines.push('', 'Members:');
  if (d.members.length === 0) lines.push('  (none: the application is not running)');
  for (const m of d.members) {
    lines.push(`  ${m.memberId}  client ${m.clientId} from ${m.clientHost}${m.endpoint === null ? '' : `, endpoint ${m.endpoint}`}`);
    lines.push(`    tasks: ${m.tasks.length === 0 ? '(none)' : m.tasks.join(' ')}`);
    lines.push(`    partitions: ${m.partitions.length === 0 ? '(none)' : m.partitions.map((p) => `${p.topic}-${p.partition}`).join(' ')}`);
  }
  lines.push('', 'Lag (committed offset, end offset, lag):');
  if (d.lag.length === 0) lines.push('  (nothing committed)');
  for (const l of d.lag) lines.push(`  ${l.topic}-${l.partition}${l.internal ? ' (internal)' : ''}: ${l.committedOffset < 0 ? '-' : l.committedOffset} ${l.highWatermark} ${l.lag}`);
  lines.push('', 'Internal topics:');
  if (d.internalTopics.length === 0) lines.push('  (none)');
  for (const t of d.internalTopics) lines.push(`  ${t}`);
  return lines.join('\n');
}
