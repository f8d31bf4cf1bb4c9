import { ApiKey, type MetadataResponse, ZERO_UUID } from '../protocol/mod.ts';
import { ErrorCode } from '../protocol/error-codes.ts';
import { KafkaError } from '../protocol/kafka-error.ts';
import type { Transport } from '../transport/transport.ts';
import { errorFromCode, throwIfError } from './error-from-code.ts';
import { retrying } from './retry.ts';

export interface TopicMetadata {
  name: string;
  topicId: string;
  isInternal: boolean;
  /** Leader node id by partition index. */
  leaders: number[];
}

export const CoordinatorType = { group: 0, transaction: 1 } as const;
export type CoordinatorTypeValue = (typeof CoordinatorType)[keyof typeof CoordinatorType];

export interface ClusterMetadataOptions {
  /** Metadata older than this is refreshed on the next lookup (Kafka's metadata.max.age.ms). */
  metadataMaxAgeMs?: number;
  allowAutoTopicCreation?: boolean;
}

/** Bound on cached topics: a client touching more topics than this refetches the oldest on use. */
const MAX_CACHED_TOPICS = 10_000;

/** Topic → partition leaders and coordinator lookups, cached over a transport. */
export class ClusterMetadata {
  private readonly topics = new Map<string, { metadata: TopicMetadata; fetchedMs: number }>();
  private readonly coordinators = new Map<string, number>();
  /** Topic lookups in progress, shared by concurrent callers; at most MAX_CACHED_TOPICS. */
  private readonly lookups = new Map<string, Promise<TopicMetadata>>();
  private readonly maxAgeMs: number;
  private readonly autoCreate: boolean;

  constructor(
    readonly transport: Transport,
    options: ClusterMetadataOptions = {},
  ) {
    this.maxAgeMs = options.metadataMaxAgeMs ?? 300_000;
    this.autoCreate = options.allowAutoTopicCreation ?? true;
  }

  /**
   * The topic's partitions and leaders, fetching them if unknown or stale; waits out
   * LEADER_NOT_AVAILABLE. Concurrent lookups of one topic share one Metadata request.
   */
  topic(name: string): Promise<TopicMetadata> {
    const cached = this.topics.get(name);
    if (cached !== undefined && Date.now() - cached.fetchedMs < this.maxAgeMs) return Promise.resolve(cached.metadata);
    const pending = this.lookups.get(name);
    if (pending !== undefined) return pending;
    const lookup = this.lookup(name);
    if (this.lookups.size < MAX_CACHED_TOPICS) {
      this.lookups.set(name, lookup);
      const forget = (): void => {
        if (this.lookups.get(name) === lookup) this.lookups.delete(name);
      };
      lookup.then(forget, forget);
    }
    return lookup;
  }

  private async lookup(name: string): Promise<TopicMetadata> {
    const fetched = await retrying(() => this.fetch([name]));
    const topic = fetched.get(name);
    if (topic === undefined) throw new Error(`invariant: Metadata for ${name} did not include it`);
    return topic;
  }

  invalidate(topic?: string): void {
    if (topic === undefined) {
      this.topics.clear();
      this.lookups.clear();
    } else {
      this.topics.delete(topic);
      this.lookups.delete(topic);
    }
  }

  async leader(topic: string, partition: number): Promise<number> {
    const metadata = await this.topic(topic);
    const leader = metadata.leaders[partition];
    if (leader === undefined) throw new KafkaError('UNKNOWN_TOPIC_OR_PARTITION', `${topic} has no partition ${partition}`);
    if (leader < 0) {
      this.invalidate(topic);
      throw new KafkaError('LEADER_NOT_AVAILABLE', `${topic}-${partition} has no leader`);
    }
    return leader;
  }

  /** Fetches metadata for `names` (all topics when null), caching every topic it returns. */
  async fetch(names: readonly string[] | null, options: { failOnTopicError?: boolean } = {}): Promise<Map<string, TopicMetadata>> {
    const version = await this.transport.apiVersion(ApiKey.Metadata);
    const response: MetadataResponse = await this.transport.send(ApiKey.Metadata, version, {
      topics: names === null ? null : names.map((name) => ({ topicId: ZERO_UUID, name })),
      allowAutoTopicCreation: version >= 4 ? this.autoCreate : true,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
    const result = new Map<string, TopicMetadata>();
    for (const t of response.topics) {
      if (t.name === null) continue;
      if (t.errorCode !== 0) {
        if (options.failOnTopicError === false) continue;
        throw errorFromCode(t.errorCode, `metadata for topic ${t.name}`);
      }
      const leaders: number[] = [];
      for (const p of t.partitions) leaders[p.partitionIndex] = p.errorCode === ErrorCode.LEADER_NOT_AVAILABLE ? -1 : p.leaderId;
      const metadata: TopicMetadata = { name: t.name, topicId: t.topicId, isInternal: t.isInternal, leaders };
      if (this.topics.size >= MAX_CACHED_TOPICS) this.topics.delete(this.topics.keys().next().value!);
      this.topics.set(t.name, { metadata, fetchedMs: Date.now() });
      result.set(t.name, metadata);
    }
    return result;
  }

  /** The node coordinating a consumer group or transactional id (FindCoordinator), cached until invalidated. */
  async coordinator(type: CoordinatorTypeValue, key: string): Promise<number> {
    const cacheKey = `${type}:${key}`;
    const cached = this.coordinators.get(cacheKey);
    if (cached !== undefined) return cached;
    const nodeId = await retrying(async () => {
      const version = await this.transport.apiVersion(ApiKey.FindCoordinator);
      const response = await this.transport.send(ApiKey.FindCoordinator, version, {
        key: version < 4 ? key : '',
        keyType: type,
        coordinatorKeys: version >= 4 ? [key] : [],
      });
      if (version >= 4) {
        const c = response.coordinators[0];
        if (c === undefined) throw new KafkaError('COORDINATOR_NOT_AVAILABLE', `FindCoordinator returned no coordinator for ${key}`);
        throwIfError(c.errorCode, `FindCoordinator ${key}`, c.errorMessage);
        return c.nodeId;
      }
      throwIfError(response.errorCode, `FindCoordinator ${key}`, response.errorMessage);
      return response.nodeId;
    });
    if (this.coordinators.size >= MAX_CACHED_TOPICS) this.coordinators.delete(this.coordinators.keys().next().value!);
    this.coordinators.set(cacheKey, nodeId);
    return nodeId;
  }

  invalidateCoordinator(type: CoordinatorTypeValue, key: string): void {
    this.coordinators.delete(`${type}:${key}`);
  }
}
