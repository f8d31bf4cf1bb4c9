import type { Admin } from '../../sdk/client/admin/admin.ts';
import { isKafkaError } from '../../sdk/protocol/kafka-error.ts';
import type { StoreSpec } from '../state/store-spec.ts';
import type { Subtopology, Topology } from '../topology/topology.ts';
import type { TopicRef } from '../topology/topology-nodes.ts';
import { deadLetterTopic } from './failure-policy.ts';
import { StreamsError, StreamsErrorCode } from './streams-error.ts';

/** An internal topic's name from the topology's suffix. */
export function internalTopicName(applicationId: string, suffix: string): string {
  return `${applicationId}-${suffix}`;
}

export function changelogTopicName(applicationId: string, store: string): string {
  return `${applicationId}-${store}-changelog`;
}

/** What the runtime learned about the topics a topology uses, before its first task starts. */
export interface TopologyLayout {
  /** Tasks per sub-topology: the partition count its (co-partitioned) source topics share. */
  readonly taskCounts: ReadonlyMap<number, number>;
  /** Partition count of every topic the topology reads or writes by name, internal ones by full name. */
  readonly partitions: ReadonlyMap<string, number>;
  topicName(ref: TopicRef): string;
  changelogTopic(store: string): string;
  /** Retry tier topics (full names) with their delays: the thread reads a record of one only once it is due. */
  readonly retryDelays: ReadonlyMap<string, number>;
}

interface PlannedTopic {
  name: string;
  partitions: number;
  configs: Record<string, string>;
  what: string;
}

/**
 * Works out every sub-topology's task count and every internal topic's partitions, creates the
 * internal topics that are missing (repartition topics, changelogs, the dead-letter topic), and
 * checks the ones that exist: a partition count that differs from what the topology needs would
 * send keys to the wrong tasks, so it stops the start with a clear error.
 *
 * - Sources of one sub-topology must have equal partition counts (they are co-partitioned).
 * - A repartition topic has the partitions given in the topology, else as many as the tasks of
 *   the sub-topology writing it (the most among its writers).
 * - A changelog has one partition per task of its store's sub-topology.
 */
export async function prepareTopics(admin: Admin, topology: Topology, applicationId: string, deadLetterPartitions: number): Promise<TopologyLayout> {
  const topicName = (ref: TopicRef): string => (ref.internal ? internalTopicName(applicationId, ref.name) : ref.name);
  const userSources = [...new Set(topology.subtopologies.flatMap((s) => s.sourceTopics.filter((t) => !t.internal).map((t) => t.name)))];
  const partitions = new Map<string, number>();
  const described = await describeExisting(admin, userSources);
  for (const name of userSources) {
    const found = described.get(name);
    if (found === undefined) throw new StreamsError(StreamsErrorCode.topicMismatch, `source topic "${name}" does not exist; create it before starting the application`);
    partitions.set(name, found);
  }
  // A sink with a partitioner (a user's, or the windowed-key default) needs its topic's partition count.
  const partitionedSinks = [
    ...new Set(
      topology.subtopologies.flatMap((s) => s.sinks.flatMap((n) => (n.partitioner !== undefined && typeof n.topic !== 'function' && !n.topic.internal ? [n.topic.name] : []))),
    ),
  ].filter((name) => !partitions.has(name));
  const sinkCounts = await describeExisting(admin, partitionedSinks);
  for (const name of partitionedSinks) {
    const found = sinkCounts.get(name);
    if (found === undefined) throw new StreamsError(StreamsErrorCode.topicMismatch, `sink topic "${name}" does not exist, and its sink's partitioner needs its partition count; create it before starting the application`);
    partitions.set(name, found);
  }

  const taskCounts = new Map<number, number>();
  const writers = repartitionWriters(topology);
  const pending = [...topology.subtopologies];
  while (pending.length > 0) {
    const ready = pending.findIndex((s) => s.sourceTopics.every((t) => !t.internal || repartitionCount(t.name) !== undefined));
    if (ready < 0) throw new StreamsError(StreamsErrorCode.topicMismatch, 'the repartition topics of the topology depend on each other in a cycle');
    const subtopology = pending.splice(ready, 1)[0]!;
    taskCounts.set(subtopology.id, coPartitionedCount(subtopology, topicName, (ref) => (ref.internal ? repartitionCount(ref.name)! : partitions.get(ref.name)!)));
  }

  function repartitionCount(suffix: string): number | undefined {
    const full = internalTopicName(applicationId, suffix);
    const known = partitions.get(full);
    if (known !== undefined) return known;
    const spec = topology.repartitionTopics.get(suffix);
    if (spec?.retry !== undefined) {
      const count = retryTierCount(suffix);
      if (count !== undefined) partitions.set(full, count);
      return count;
    }
    let count = spec?.partitions ?? copartitionedUserCount(suffix);
    if (count === undefined) {
      const counts = (writers.get(suffix) ?? []).map((id) => taskCounts.get(id));
      if (counts.some((c) => c === undefined) || counts.length === 0) return undefined;
      count = Math.max(...(counts as number[]));
    }
    partitions.set(full, count);
    return count;
  }

  /**
   * A repartition topic read together with user topics (a co-partition group) takes their
   * partition count, as Kafka Streams does, rather than its writers' task count.
   */
  function copartitionedUserCount(suffix: string): number | undefined {
    const reader = topology.subtopologies.find((s) => s.sourceTopics.some((t) => t.internal && t.name === suffix));
    const userCounts = (reader?.sourceTopics ?? []).filter((t) => !t.internal).map((t) => partitions.get(t.name)!);
    return userCounts.length === 0 ? undefined : Math.max(...userCounts);
  }

  /** A retry tier is read by the stage's own tasks beside their other sources: it takes their partition count. */
  function retryTierCount(suffix: string): number | undefined {
    const reader = topology.subtopologies.find((s) => s.sourceTopics.some((t) => t.internal && t.name === suffix))!;
    const other = reader.sourceTopics.find((t) => !t.internal || topology.repartitionTopics.get(t.name)?.retry === undefined);
    if (other === undefined) throw new Error(`invariant: the retry tier "${suffix}" is the only source of its sub-topology`);
    return other.internal ? repartitionCount(other.name) : partitions.get(other.name);
  }

  const planned: PlannedTopic[] = [];
  for (const suffix of topology.repartitionTopics.keys()) {
    const name = internalTopicName(applicationId, suffix);
    const retry = topology.repartitionTopics.get(suffix)!.retry;
    if (retry !== undefined) {
      planned.push({ name, partitions: partitions.get(name)!, configs: { 'cleanup.policy': 'delete' }, what: `retry tier ${retry.tier} of "${retry.stage}"` });
      continue;
    }
    planned.push({ name, partitions: partitions.get(name)!, configs: { 'cleanup.policy': 'delete', 'retention.ms': '-1' }, what: 'repartition topic' });
  }
  for (const subtopology of topology.subtopologies) {
    for (const store of subtopology.stores) {
      if (!store.logged) continue;
      const name = changelogTopicName(applicationId, store.name);
      partitions.set(name, taskCounts.get(subtopology.id)!);
      planned.push({ name, partitions: taskCounts.get(subtopology.id)!, configs: changelogConfigs(store), what: `changelog of store "${store.name}"` });
    }
  }
  const dlq = deadLetterTopic(applicationId);
  planned.push({ name: dlq, partitions: deadLetterPartitions, configs: {}, what: 'dead-letter topic' });
  await createOrCheck(admin, planned);
  const dlqPartitions = (await describeExisting(admin, [dlq])).get(dlq)!;
  partitions.set(dlq, dlqPartitions);

  return {
    taskCounts,
    partitions,
    topicName,
    changelogTopic: (store) => changelogTopicName(applicationId, store),
    retryDelays: new Map([...topology.repartitionTopics.values()].flatMap((spec) => (spec.retry === undefined ? [] : [[internalTopicName(applicationId, spec.name), spec.retry.delayMs] as const]))),
  };
}

function changelogConfigs(store: StoreSpec): Record<string, string> {
  return { ...store.changelogConfig, 'cleanup.policy': 'compact' };
}

/** Sub-topology ids writing each repartition topic (by suffix). */
function repartitionWriters(topology: Topology): Map<string, number[]> {
  const writers = new Map<string, number[]>();
  for (const s of topology.subtopologies) {
    for (const sink of s.sinks) {
      if (typeof sink.topic === 'function' || !sink.topic.internal) continue;
      const list = writers.get(sink.topic.name) ?? [];
      list.push(s.id);
      writers.set(sink.topic.name, list);
    }
  }
  return writers;
}

/**
 * Task `p` of a sub-topology reads partition `p` of each of its source topics (a join's two
 * sides, a table and the stream looking it up), so they must have equal partition counts.
 */
function coPartitionedCount(subtopology: Subtopology, topicName: (ref: TopicRef) => string, countOf: (ref: TopicRef) => number): number {
  const counts = subtopology.sourceTopics.map((ref) => [topicName(ref), countOf(ref)] as const);
  const first = counts[0]!;
  const differing = counts.find(([, c]) => c !== first[1]);
  if (differing !== undefined) {
    throw new StreamsError(
      StreamsErrorCode.topicMismatch,
      `topics "${first[0]}" (${first[1]} partitions) and "${differing[0]}" (${differing[1]} partitions) must be co-partitioned: sub-topology ${subtopology.id} reads them together (a join, or processors sharing a store) ` +
        `(task p reads partition p of each; it reads ${counts.map(([n, c]) => `"${n}" ${c}`).join(', ')}); give them the same partition count, or repartition one side ` +
        '(stream.repartition({ partitions }) before the join)',
    );
  }
  return first[1];
}

async function describeExisting(admin: Admin, names: readonly string[]): Promise<Map<string, number>> {
  const existing = new Map<string, number>();
  const all = new Set(await admin.listTopics());
  const present = names.filter((n) => all.has(n));
  if (present.length === 0) return existing;
  for (const t of await admin.describeTopics(present)) existing.set(t.name, t.partitions.length);
  return existing;
}

async function createOrCheck(admin: Admin, planned: readonly PlannedTopic[]): Promise<void> {
  const existing = await describeExisting(admin, planned.map((t) => t.name));
  const missing = planned.filter((t) => !existing.has(t.name));
  for (const topic of missing) {
    try {
      await admin.createTopics([{ name: topic.name, numPartitions: topic.partitions, configs: topic.configs }]);
    } catch (error) {
      // Another instance of the application created it first; it is checked below like any other.
      if (!isKafkaError(error, 'TOPIC_ALREADY_EXISTS')) throw error;
    }
  }
  const now = missing.length === 0 ? existing : await describeExisting(admin, planned.map((t) => t.name));
  for (const topic of planned) {
    const count = now.get(topic.name);
    if (count === undefined) throw new StreamsError(StreamsErrorCode.topicMismatch, `the ${topic.what} "${topic.name}" could not be created`);
    if (topic.what !== 'dead-letter topic' && count !== topic.partitions) {
      throw new StreamsError(
        StreamsErrorCode.topicMismatch,
        `the ${topic.what} "${topic.name}" has ${count} partitions, but the topology needs ${topic.partitions}; delete it (and reset the application) or fix the topology`,
      );
    }
  }
}
