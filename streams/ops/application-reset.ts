import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Admin } from '../../sdk/client/admin/admin.ts';
import type { GroupMemberDescription } from '../../sdk/client/admin/group-admin.ts';
import type { TopicPartition } from '../../sdk/client/consumer/consumer-types.ts';
import { DirectoryLock } from '../../sdk/platform/directory-lock.ts';
import { isKafkaError } from '../../sdk/protocol/kafka-error.ts';
import type { Transport } from '../../sdk/transport/transport.ts';
import { deadLetterTopic } from '../runtime/failure-policy.ts';
import { decodeStreamTime } from '../runtime/stream-time-metadata.ts';
import { StreamsError, StreamsErrorCode } from '../runtime/streams-error.ts';

/**
 * Where the inputs go back to: their log start, their end, the first offset at or after a time
 * (or a duration before now), or explicit offsets (input partitions not listed keep their
 * committed offset).
 */
export type ResetTarget = 'earliest' | 'latest' | { timestampMs: number } | { durationAgoMs: number } | { offsets: readonly (TopicPartition & { offset: number })[] };

export interface ResetApplicationOptions {
  applicationId: string;
  /** The topics the application reads; by default every non-internal topic its group has committed offsets for. */
  inputTopics?: readonly string[];
  /** 'earliest' by default. */
  to?: ResetTarget;
  /** 'delete' (the default; the application recreates them on start) or 'truncate' (DeleteRecords up to the end, keeping topic configs). */
  internalTopics?: 'delete' | 'truncate';
  /** The application's `stateDir`: its `<stateDir>/<applicationId>` task directories are wiped. Without it local state is left alone (and the plan warns). */
  stateDir?: string;
  /** Work out and return the plan without changing anything. */
  dryRun?: boolean;
  /** The time `durationAgoMs` counts back from; `Date.now()` by default. */
  nowMs?: number;
}

export interface InputPartitionReset extends TopicPartition {
  /** The committed offset before the reset, -1 when none. */
  fromOffset: number;
  toOffset: number;
  /** The committed offset carried a stream time (offset metadata, runtime/stream-time-metadata.ts); the reset commits without metadata, clearing it. */
  hadStreamTime: boolean;
}

export interface InternalTopicReset {
  topic: string;
  kind: 'repartition' | 'changelog' | 'subscription' | 'retry';
  action: 'delete' | 'truncate';
  partitions: number;
  /** Records in it now (end minus start offsets, summed over partitions). */
  records: number;
  /** The group has committed offsets on it (a repartition or subscription topic the application reads). */
  committedPartitions: number;
}

/** What a reset does (or, for a dry run, would do), in order. */
export interface ResetPlan {
  applicationId: string;
  dryRun: boolean;
  /** The target in words: "earliest", "2026-12-06T05:00:00.000Z (1h ago)", ... */
  to: string;
  inputs: InputPartitionReset[];
  internalTopics: InternalTopicReset[];
  /** Local state removed: `<stateDir>/<applicationId>` entries (task directories); null when no stateDir was given. */
  stateDirectory: { path: string; entries: string[] } | null;
  /** Topics of the application left as they are (its dead-letter topic). */
  kept: string[];
  warnings: string[];
}

/** The members that made a reset refuse: the application is running somewhere. */
export class ApplicationActiveError extends StreamsError {
  constructor(
    readonly applicationId: string,
    readonly members: readonly Pick<GroupMemberDescription, 'memberId' | 'clientId' | 'clientHost' | 'groupInstanceId'>[],
  ) {
    super(
      StreamsErrorCode.applicationActive,
      `application "${applicationId}" has ${members.length} active member${members.length === 1 ? '' : 's'} (` +
        members.map((m) => `member ${m.memberId}, client ${m.clientId}, host ${m.clientHost}${m.groupInstanceId === null ? '' : `, instance ${m.groupInstanceId}`}`).join('; ') +
        '); stop every instance (and wait for their sessions to expire) before resetting it',
    );
  }
}

/** Suffixes of the topics a streams application creates for itself (streams/runtime/internal-topics.ts, dsl/foreign-key-join.ts, dsl/retry-ladder.ts). */
const INTERNAL_SUFFIXES: readonly (readonly [RegExp, InternalTopicReset['kind']])[] = [
  [/-repartition$/, 'repartition'],
  [/-changelog$/, 'changelog'],
  [/-subscription-(registration|response)-topic$/, 'subscription'],
  [/-SUBSCRIPTION-(REGISTRATION|RESPONSE)-\d+-topic$/, 'subscription'],
  // A retry ladder's tiers (dsl/retry-ladder.ts): records waiting there belong to the run being reset.
  [/-retry-\d+$/, 'retry'],
];

function internalKind(topic: string): InternalTopicReset['kind'] | undefined {
  return INTERNAL_SUFFIXES.find(([pattern]) => pattern.test(topic))?.[1];
}

/**
 * The internal topics of `applicationId` among `topics`: named `<applicationId>-...` with an
 * internal suffix, and not claimed by another application whose id is longer and also prefixes
 * the name (the topics of "orders-v2" are not those of "orders"). Applications are known by their
 * consumer groups.
 */
export function applicationInternalTopics(applicationId: string, topics: readonly string[], groupIds: readonly string[]): string[] {
  const prefix = `${applicationId}-`;
  const rivals = groupIds.filter((g) => g !== applicationId && g.startsWith(prefix));
  return topics.filter((t) => t.startsWith(prefix) && internalKind(t) !== undefined && !rivals.some((g) => t.startsWith(`${g}-`))).sort();
}

function describeTarget(to: ResetTarget, nowMs: number): string {
  if (to === 'earliest' || to === 'latest') return to;
  if ('timestampMs' in to) return new Date(to.timestampMs).toISOString();
  if ('durationAgoMs' in to) return `${new Date(nowMs - to.durationAgoMs).toISOString()} (${to.durationAgoMs} ms ago)`;
  return 'explicit offsets';
}

function validate(options: ResetApplicationOptions): void {
  if (typeof options.applicationId !== 'string' || !/^[\w.\-]{1,249}$/.test(options.applicationId)) {
    throw new StreamsError(StreamsErrorCode.invalidConfig, `applicationId "${String(options.applicationId)}" must be 1 to 249 of letters, digits, '.', '_', '-'`);
  }
  const to = options.to ?? 'earliest';
  if (typeof to === 'object') {
    if ('timestampMs' in to && (!Number.isSafeInteger(to.timestampMs) || to.timestampMs < 0)) throw new StreamsError(StreamsErrorCode.invalidConfig, `timestampMs must be a non-negative integer, got ${to.timestampMs}`);
    if ('durationAgoMs' in to && (!Number.isSafeInteger(to.durationAgoMs) || to.durationAgoMs < 0)) throw new StreamsError(StreamsErrorCode.invalidConfig, `durationAgoMs must be a non-negative integer, got ${to.durationAgoMs}`);
    if ('offsets' in to) {
      for (const o of to.offsets) {
        if (!Number.isSafeInteger(o.offset) || o.offset < 0) throw new StreamsError(StreamsErrorCode.invalidConfig, `offset for ${o.topic}-${o.partition} must be a non-negative integer, got ${o.offset}`);
      }
    }
  }
  if (options.internalTopics !== undefined && options.internalTopics !== 'delete' && options.internalTopics !== 'truncate') {
    throw new StreamsError(StreamsErrorCode.invalidConfig, `internalTopics must be "delete" or "truncate", got "${String(options.internalTopics)}"`);
  }
}

/**
 * Resets a streams application so its next start reprocesses its inputs from `to` (Kafka Streams'
 * `kafka-streams-application-reset`, KIP-171): refuses while the application's group has members;
 * moves the group's committed offsets on the input topics (clearing the stream time they carry in
 * their metadata, so windows and suppression start from the replayed records' times); removes the
 * group's offsets on its internal topics and deletes those topics (or truncates them and commits
 * their new start); wipes its local task state when `stateDir` is given. Returns the plan, which a
 * dry run only computes. Print it with `formatResetPlan`.
 */
export async function resetApplication(transport: Transport, options: ResetApplicationOptions): Promise<ResetPlan> {
  validate(options);
  const { applicationId } = options;
  const to = options.to ?? 'earliest';
  const nowMs = options.nowMs ?? Date.now();
  const mode = options.internalTopics ?? 'delete';
  const admin = new Admin(transport);

  const [group] = await admin.describeGroups([applicationId]);
  if (group !== undefined && group.members.length > 0) throw new ApplicationActiveError(applicationId, group.members);

  const committed = await admin.committedOffsets(applicationId);
  const allTopics = await admin.listTopics();
  const groupIds = (await admin.listGroups()).map((g) => g.groupId);
  const internal = applicationInternalTopics(applicationId, allTopics, groupIds);
  const internalSet = new Set(internal);
  if (committed.length === 0 && internal.length === 0 && !groupIds.includes(applicationId)) {
    throw new StreamsError(StreamsErrorCode.unknownApplication, `application "${applicationId}" is unknown: it has no consumer group, committed offsets or internal topics`);
  }

  const inputTopics = [...new Set(options.inputTopics ?? committed.map((c) => c.topic).filter((t) => !internalSet.has(t)))].sort();
  const existing = new Set(allTopics);
  const missing = inputTopics.filter((t) => !existing.has(t));
  if (missing.length > 0) throw new StreamsError(StreamsErrorCode.topicMismatch, `input topic${missing.length === 1 ? '' : 's'} ${missing.map((t) => `"${t}"`).join(', ')} of application "${applicationId}" do${missing.length === 1 ? 'es' : ''} not exist`);
  if (typeof to === 'object' && 'offsets' in to) {
    const unknown = to.offsets.find((o) => !inputTopics.includes(o.topic));
    if (unknown !== undefined) throw new StreamsError(StreamsErrorCode.invalidConfig, `offset given for ${unknown.topic}-${unknown.partition}, which is not an input topic of "${applicationId}" (inputs: ${inputTopics.join(', ') || 'none'})`);
  }

  const committedByKey = new Map(committed.map((c) => [`${c.topic}\u0000${c.partition}`, c]));
  const inputs: InputPartitionReset[] = [];
  for (const topic of inputTopics) {
    const offsets = await admin.topicOffsets(topic);
    const at = typeof to === 'object' && 'timestampMs' in to ? to.timestampMs : typeof to === 'object' && 'durationAgoMs' in to ? nowMs - to.durationAgoMs : undefined;
    const byTime = at === undefined ? undefined : await admin.offsetsForTimes(offsets.map((o) => ({ topic, partition: o.partition })), at, 0);
    for (const o of offsets) {
      const before = committedByKey.get(`${topic}\u0000${o.partition}`);
      const fromOffset = before?.offset ?? -1;
      let toOffset: number;
      if (to === 'earliest') toOffset = o.earliest;
      else if (to === 'latest') toOffset = o.latest;
      else if ('offsets' in to) {
        const given = to.offsets.find((g) => g.topic === topic && g.partition === o.partition);
        if (given === undefined) {
          if (fromOffset < 0) continue;
          toOffset = fromOffset;
        } else {
          if (given.offset < o.earliest || given.offset > o.latest) {
            throw new StreamsError(StreamsErrorCode.invalidConfig, `offset ${given.offset} for ${topic}-${o.partition} is outside its log (${o.earliest} to ${o.latest})`);
          }
          toOffset = given.offset;
        }
      } else {
        const found = byTime!.find((b) => b.partition === o.partition)!.offset;
        toOffset = found < 0 ? o.latest : found;
      }
      inputs.push({ topic, partition: o.partition, fromOffset, toOffset, hadStreamTime: before !== undefined && decodeStreamTime(before.metadata) !== undefined });
    }
  }

  const internalTopics: InternalTopicReset[] = [];
  for (const topic of internal) {
    const offsets = await admin.topicOffsets(topic);
    internalTopics.push({
      topic,
      kind: internalKind(topic)!,
      action: mode,
      partitions: offsets.length,
      records: offsets.reduce((sum, o) => sum + (o.latest - o.earliest), 0),
      committedPartitions: committed.filter((c) => c.topic === topic).length,
    });
  }

  const warnings: string[] = [];
  let stateDirectory: ResetPlan['stateDirectory'] = null;
  if (options.stateDir !== undefined) {
    const path = join(options.stateDir, applicationId);
    stateDirectory = { path, entries: existsSync(path) ? readdirSync(path).filter((e) => !KEPT_STATE_ENTRIES.has(e)).sort() : [] };
  } else if (internalTopics.some((t) => t.kind === 'changelog')) {
    warnings.push('no stateDir given: the local state of every instance must be wiped too (reset with stateDir on each host), or restored stores keep their pre-reset contents');
  }
  if (inputTopics.length === 0) warnings.push('no input topics found: the group has committed no offsets on non-internal topics; pass inputTopics');
  const dlq = deadLetterTopic(applicationId);
  const plan: ResetPlan = {
    applicationId,
    dryRun: options.dryRun === true,
    to: describeTarget(to, nowMs),
    inputs,
    internalTopics,
    stateDirectory,
    kept: existing.has(dlq) ? [dlq] : [],
    warnings,
  };
  if (plan.dryRun) return plan;
  await execute(admin, plan, stateDirectory);
  return plan;
}

/** Entries of `<stateDir>/<applicationId>` a reset keeps: the lock and the instance id (which names the transactional id). */
const KEPT_STATE_ENTRIES = new Set(['.lock', 'instance-id']);

async function execute(admin: Admin, plan: ResetPlan, stateDirectory: ResetPlan['stateDirectory']): Promise<void> {
  const { applicationId } = plan;
  // Wipe local state first: a running instance on this host holds its lock, and fails the reset before anything moved.
  if (stateDirectory !== null && existsSync(stateDirectory.path)) {
    let lock: DirectoryLock;
    try {
      lock = DirectoryLock.acquire(stateDirectory.path);
    } catch (error) {
      if (isKafkaError(error)) throw new ApplicationActiveError(applicationId, [{ memberId: '(local)', clientId: '(state directory lock)', clientHost: stateDirectory.path, groupInstanceId: null }]);
      throw error;
    }
    try {
      for (const entry of stateDirectory.entries) rmSync(join(stateDirectory.path, entry), { recursive: true, force: true });
    } finally {
      lock.release();
    }
  }
  const byTopic = new Map<string, InputPartitionReset[]>();
  for (const input of plan.inputs) byTopic.set(input.topic, [...(byTopic.get(input.topic) ?? []), input]);
  for (const [topic, list] of byTopic) {
    // Committed without metadata: the stream time of the old run goes with it.
    await admin.resetGroupOffsets(applicationId, topic, { to: 'offsets', offsets: list.map((p) => ({ topic, partition: p.partition, offset: p.toOffset })) });
  }
  for (const internal of plan.internalTopics) {
    const partitions = Array.from({ length: internal.partitions }, (_, partition) => ({ topic: internal.topic, partition }));
    if (internal.action === 'delete') {
      // The broker keeps a group's offsets for a deleted topic; a recreated one would start from them.
      if (internal.committedPartitions > 0) await admin.deleteGroupOffsets(applicationId, partitions);
      await admin.deleteTopics([internal.topic]);
    } else {
      const starts = await admin.deleteRecords(partitions.map((p) => ({ ...p, offset: -1 })));
      if (internal.committedPartitions > 0) {
        await admin.resetGroupOffsets(applicationId, internal.topic, { to: 'offsets', offsets: starts.map((s) => ({ topic: s.topic, partition: s.partition, offset: s.lowWatermark })) });
      }
    }
  }
}

/** The plan as lines a person reads: one per input partition, internal topic and state directory. */
export function formatResetPlan(plan: ResetPlan): string {
  const lines = [`${plan.dryRun ? 'Dry run: would reset' : 'Reset'} application "${plan.applicationId}" to ${plan.to}`];
  lines.push(plan.inputs.length === 0 ? 'Input offsets: none' : 'Input offsets:');
  for (const p of plan.inputs) {
    lines.push(`  ${p.topic}-${p.partition}: ${p.fromOffset < 0 ? 'none' : p.fromOffset} -> ${p.toOffset}${p.hadStreamTime ? ' (stream time cleared)' : ''}`);
  }
  lines.push(plan.internalTopics.length === 0 ? 'Internal topics: none' : 'Internal topics:');
  for (const t of plan.internalTopics) {
    lines.push(`  ${t.action} ${t.topic} (${t.kind}, ${t.partitions} partition${t.partitions === 1 ? '' : 's'}, ${t.records} record${t.records === 1 ? '' : 's'}${t.committedPartitions > 0 ? ', committed offsets removed' : ''})`);
  }
  if (plan.stateDirectory === null) lines.push('Local state: not touched (no state directory given)');
  else lines.push(`Local state: wipe ${plan.stateDirectory.path}${plan.stateDirectory.entries.length === 0 ? ' (nothing there)' : ` (${plan.stateDirectory.entries.join(', ')})`}`);
  for (const topic of plan.kept) lines.push(`Kept: ${topic}`);
  for (const warning of plan.warnings) lines.push(`Warning: ${warning}`);
  return lines.join('\n');
}
