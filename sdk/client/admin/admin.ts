import { ApiKey, apiSpec, ZERO_UUID } from '../../protocol/mod.ts';
import { KafkaError } from '../../protocol/kafka-error.ts';
import type { Transport } from '../../transport/transport.ts';
import { ClusterMetadata } from '../cluster-metadata.ts';
import { type IsolationLevelValue, type TopicPartition, tpKey } from '../consumer/consumer-types.ts';
import { listOffset } from '../consumer/fetcher.ts';
import { fetchCommittedOffsets } from '../consumer/offset-committer.ts';
import { CLIENT_API_VERSIONS } from '../../transport/client-versions.ts';
import { throwIfError } from '../error-from-code.ts';
import { AclAdmin, type AclEntry, type AclFilter } from './acl-admin.ts';
import {
  deleteGroupOffsets,
  deleteGroups,
  describeGroups,
  type GroupDescription,
  type GroupListing,
  groupLag,
  listGroups,
  type OffsetResetSpec,
  type PartitionLag,
  resetGroupOffsets,
} from './group-admin.ts';
import { alterScramCredentials, describeScramCredentials, type ScramCredentialDescription, type ScramCredentialUpsert } from './scram-admin.ts';

/** One API a broker advertises; `client` is the range this SDK speaks, absent when it does not use the API. */
export interface BrokerApiVersion {
  apiKey: number;
  name: string;
  minVersion: number;
  maxVersion: number;
  client?: { minVersion: number; maxVersion: number };
}

export interface NewTopic {
  name: string;
  numPartitions?: number;
  replicationFactor?: number;
  configs?: Readonly<Record<string, string>>;
}

export interface TopicInfo {
  name: string;
  topicId: string;
  isInternal: boolean;
  partitions: { partition: number; leaderId: number }[];
}

/** DescribeConfigs/IncrementalAlterConfigs resource type for topics. */
const TOPIC_RESOURCE = 2;
const ConfigOperation = { set: 0, delete: 1 } as const;

/** Topic and offset administration over any transport. */
export class Admin {
  private readonly metadata: ClusterMetadata;

  constructor(
    readonly transport: Transport,
    private readonly options: { timeoutMs?: number } = {},
  ) {
    this.metadata = new ClusterMetadata(transport, { allowAutoTopicCreation: false, metadataMaxAgeMs: 0 });
  }

  /** Adds ACLs (needs Cluster Alter when the broker authorizes). */
  createAcls(acls: readonly AclEntry[]): Promise<void> {
    return new AclAdmin(this.transport).createAcls(acls);
  }

  /** The ACLs `filter` selects (all without one). */
  describeAcls(filter: AclFilter = {}): Promise<AclEntry[]> {
    return new AclAdmin(this.transport).describeAcls(filter);
  }

  /** Deletes the ACLs any filter selects; returns them. */
  deleteAcls(filters: readonly AclFilter[]): Promise<AclEntry[]> {
    return new AclAdmin(this.transport).deleteAcls(filters);
  }

  private get timeoutMs(): number {
    return this.options.timeoutMs ?? 30_000;
  }

  async createTopics(topics: readonly NewTopic[], options: { validateOnly?: boolean } = {}): Promise<void> {
    const version = await this.transport.apiVersion(ApiKey.CreateTopics);
    const response = await this.transport.send(ApiKey.CreateTopics, version, {
      topics: topics.map((t) => ({
        name: t.name,
        numPartitions: t.numPartitions ?? -1,
        replicationFactor: t.replicationFactor ?? -1,
        assignments: [],
        configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
      })),
      timeoutMs: this.timeoutMs,
      validateOnly: options.validateOnly ?? false,
    });
    for (const t of response.topics) throwIfError(t.errorCode, `create topic ${t.name}`, t.errorMessage);
  }

  async deleteTopics(names: readonly string[]): Promise<void> {
    const version = await this.transport.apiVersion(ApiKey.DeleteTopics);
    const response = await this.transport.send(ApiKey.DeleteTopics, version, {
      topics: version >= 6 ? names.map((name) => ({ name, topicId: ZERO_UUID })) : [],
      topicNames: version < 6 ? [...names] : [],
      timeoutMs: this.timeoutMs,
    });
    for (const t of response.responses) throwIfError(t.errorCode, `delete topic ${t.name}`, t.errorMessage);
    for (const name of names) this.metadata.invalidate(name);
  }

  async listTopics(): Promise<string[]> {
    const all = await this.metadata.fetch(null, { failOnTopicError: false });
    return [...all.values()].filter((t) => !t.isInternal).map((t) => t.name).sort();
  }

  async describeTopics(names: readonly string[]): Promise<TopicInfo[]> {
    const found = await this.metadata.fetch(names);
    return names.map((name) => {
      const t = found.get(name);
      if (t === undefined) throw new KafkaError('UNKNOWN_TOPIC_OR_PARTITION', `topic ${name} does not exist`);
      return { name, topicId: t.topicId, isInternal: t.isInternal, partitions: t.leaders.map((leaderId, partition) => ({ partition, leaderId })) };
    });
  }

  /** Grows `topic` to `totalCount` partitions. */
  async createPartitions(topic: string, totalCount: number, options: { validateOnly?: boolean } = {}): Promise<void> {
    const version = await this.transport.apiVersion(ApiKey.CreatePartitions);
    const response = await this.transport.send(ApiKey.CreatePartitions, version, {
      topics: [{ name: topic, count: totalCount, assignments: null }],
      timeoutMs: this.timeoutMs,
      validateOnly: options.validateOnly ?? false,
    });
    for (const r of response.results) throwIfError(r.errorCode, `create partitions for ${r.name}`, r.errorMessage);
    this.metadata.invalidate(topic);
  }

  /** The topic's configs (all of them, or `keys`), as name → value. */
  async describeTopicConfigs(topic: string, keys?: readonly string[]): Promise<Record<string, string | null>> {
    const version = await this.transport.apiVersion(ApiKey.DescribeConfigs);
    const response = await this.transport.send(ApiKey.DescribeConfigs, version, {
      resources: [{ resourceType: TOPIC_RESOURCE, resourceName: topic, configurationKeys: keys === undefined ? null : [...keys] }],
      includeSynonyms: false,
      includeDocumentation: false,
    });
    const result = response.results[0];
    if (result === undefined) throw new KafkaError('UNKNOWN_SERVER_ERROR', `DescribeConfigs returned nothing for ${topic}`);
    throwIfError(result.errorCode, `describe configs of ${topic}`, result.errorMessage);
    return Object.fromEntries(result.configs.map((c) => [c.name, c.value]));
  }

  /** Sets (string) or removes (null, back to the default) topic configs, leaving the others as they are. */
  async alterTopicConfigs(topic: string, changes: Readonly<Record<string, string | null>>, options: { validateOnly?: boolean } = {}): Promise<void> {
    const version = await this.transport.apiVersion(ApiKey.IncrementalAlterConfigs);
    const response = await this.transport.send(ApiKey.IncrementalAlterConfigs, version, {
      resources: [
        {
          resourceType: TOPIC_RESOURCE,
          resourceName: topic,
          configs: Object.entries(changes).map(([name, value]) => ({
            name,
            configOperation: value === null ? ConfigOperation.delete : ConfigOperation.set,
            value,
          })),
        },
      ],
      validateOnly: options.validateOnly ?? false,
    });
    for (const r of response.responses) throwIfError(r.errorCode, `alter configs of ${r.resourceName}`, r.errorMessage);
  }

  /**
   * Deletes every record below `offset` in each partition (Kafka's DeleteRecords; offset -1 means
   * the high watermark), asking each partition's leader. Returns the new log start offsets (the
   * low watermarks). Throws the first partition's error, e.g. OFFSET_OUT_OF_RANGE past the high
   * watermark.
   */
  async deleteRecords(partitions: readonly (TopicPartition & { offset: number })[]): Promise<(TopicPartition & { lowWatermark: number })[]> {
    const byLeader = new Map<number, Map<string, { partitionIndex: number; offset: bigint }[]>>();
    for (const p of partitions) {
      const leader = await this.metadata.leader(p.topic, p.partition);
      const topics = byLeader.get(leader) ?? new Map<string, { partitionIndex: number; offset: bigint }[]>();
      byLeader.set(leader, topics);
      const list = topics.get(p.topic) ?? [];
      topics.set(p.topic, list);
      list.push({ partitionIndex: p.partition, offset: BigInt(p.offset) });
    }
    const lowWatermarks = new Map<string, number>();
    for (const [nodeId, topics] of byLeader) {
      const version = await this.transport.apiVersion(ApiKey.DeleteRecords, nodeId);
      const response = await this.transport.send(
        ApiKey.DeleteRecords,
        version,
        { topics: [...topics].map(([name, list]) => ({ name, partitions: list })), timeoutMs: this.timeoutMs },
        { nodeId },
      );
      for (const t of response.topics) {
        for (const r of t.partitions) {
          throwIfError(r.errorCode, `delete records of ${t.name}-${r.partitionIndex}`);
          lowWatermarks.set(tpKey(t.name, r.partitionIndex), Number(r.lowWatermark));
        }
      }
    }
    return partitions.map((p) => ({ topic: p.topic, partition: p.partition, lowWatermark: lowWatermarks.get(tpKey(p.topic, p.partition)) ?? -1 }));
  }

  /** Per partition, the first offset with a timestamp at or after `timestampMs` (-1 when none). */
  offsetsForTimes(partitions: readonly TopicPartition[], timestampMs: number, isolationLevel: IsolationLevelValue = 1): Promise<(TopicPartition & { offset: number })[]> {
    return Promise.all(partitions.map(async (tp) => ({ ...tp, offset: await listOffset(this.metadata, tp.topic, tp.partition, timestampMs, isolationLevel) })));
  }

  /** Log start and end (high watermark, or last stable offset for read_committed) of every partition of `topic`. */
  async topicOffsets(topic: string, isolationLevel: IsolationLevelValue = 0): Promise<{ partition: number; earliest: number; latest: number }[]> {
    const [info] = await this.describeTopics([topic]);
    return Promise.all(
      info!.partitions.map(async ({ partition }) => ({
        partition,
        earliest: await listOffset(this.metadata, topic, partition, -2, isolationLevel),
        latest: await listOffset(this.metadata, topic, partition, -1, isolationLevel),
      })),
    );
  }

  listGroups(): Promise<GroupListing[]> {
    return listGroups(this.metadata);
  }

  /** Each group's state, chosen assignor, and members with their subscriptions and assignments (and the assignor's bytes with `userData`). */
  describeGroups(groupIds: readonly string[], options: { userData?: boolean } = {}): Promise<GroupDescription[]> {
    return describeGroups(this.metadata, groupIds, options);
  }

  /** Per partition: the group's committed offset, the high watermark and the lag between them. */
  groupLag(groupId: string, topics?: readonly string[]): Promise<PartitionLag[]> {
    return groupLag(this.metadata, groupId, topics);
  }

  /** Moves an empty group's offsets for `topic` (fails with the coordinator's error while it has members). */
  resetGroupOffsets(groupId: string, topic: string, spec: OffsetResetSpec): Promise<(TopicPartition & { offset: number })[]> {
    return resetGroupOffsets(this.metadata, groupId, topic, spec);
  }

  deleteGroups(groupIds: readonly string[]): Promise<void> {
    return deleteGroups(this.metadata, groupIds);
  }

  /** Removes a group's committed offsets for `partitions` (OffsetDelete); refused for topics its members consume. */
  deleteGroupOffsets(groupId: string, partitions: readonly TopicPartition[]): Promise<void> {
    return deleteGroupOffsets(this.metadata, groupId, partitions);
  }

  /** The group's committed offset and metadata for every partition it has committed (or for `partitions`). */
  async committedOffsets(groupId: string, partitions?: readonly TopicPartition[]): Promise<(TopicPartition & { offset: number; metadata: string | null })[]> {
    const committed = await fetchCommittedOffsets(this.metadata, groupId, partitions ?? null);
    return [...committed.values()].filter((c) => c.offset >= 0).sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
  }

  /** Creates or replaces SCRAM credentials and deletes others (Kafka's AlterUserScramCredentials); PLAIN logins verify against them too. */
  alterScramCredentials(changes: Parameters<typeof alterScramCredentials>[1]): Promise<void> {
    return alterScramCredentials(this.transport, changes);
  }

  describeScramCredentials(users?: readonly string[]): Promise<ScramCredentialDescription[]> {
    return describeScramCredentials(this.transport, users);
  }
  /**
   * The APIs and version ranges the bootstrap broker advertises (ApiVersions, as Kafka's
   * kafka-broker-api-versions tool shows them), with the range this SDK speaks for each.
   */
  async apiVersions(): Promise<BrokerApiVersion[]> {
    const version = await this.transport.apiVersion(ApiKey.ApiVersions);
    const response = await this.transport.send(ApiKey.ApiVersions, version, { clientSoftwareName: 'rill-admin', clientSoftwareVersion: '0.1.0' });
    throwIfError(response.errorCode, 'ApiVersions');
    return response.apiKeys
      .map(({ apiKey, minVersion, maxVersion }) => {
        const ours = CLIENT_API_VERSIONS[apiKey as ApiKey];
        return { apiKey, name: apiSpec(apiKey)?.name ?? `unknown(${apiKey})`, minVersion, maxVersion, ...(ours === undefined ? {} : { client: { minVersion: ours.minVersion, maxVersion: ours.maxVersion } }) };
      })
      .sort((a, b) => a.apiKey - b.apiKey);
  }
}
