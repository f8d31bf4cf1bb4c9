import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { KafkaError } from '../sdk/protocol/kafka-error.ts';
import { defaultBrokerConfig, type BrokerConfig } from './config.ts';
import { type AcksValue, Acks } from './log/acks.ts';
import { type Clock, systemClock } from './log/clock.ts';
import { type FileSystem, nodeFileSystem } from './log/file-system.ts';
import type { LogConfig } from './log/log-config.ts';
import { type AppendResult, PartitionLog } from './log/partition-log.ts';
import { readCheckpoint, writeCheckpoint } from './log/recovery-checkpoint.ts';
import { markCleanShutdown, takeCleanShutdownMarker } from './log/clean-shutdown.ts';
import { type CleanablePartition, LogCleaner } from './log/cleaner/log-cleaner.ts';
import { DirectoryLock } from '../sdk/platform/directory-lock.ts';
import { loadMetaProperties } from './meta-properties.ts';
import { FetchParking } from './fetch/fetch-parking.ts';
import { readPartitions } from './fetch/read-partitions.ts';
import { defaultFetchSessionCacheOptions, FetchSessionCache } from './fetch/fetch-session-cache.ts';
import type { FetchPartitionResult, FetchRequest } from './fetch/fetch-types.ts';
import { offsetForTimestamp, offsetOfMaxTimestamp, type ListOffsetsResult, ListOffsetsTimestamp } from './list-offsets.ts';
import { describeTopicConfig, effectiveTimestampBounds, isCompacted, isDeletedByRetention, resolveTopicConfig, type TopicConfig } from './topic/topic-config.ts';
import type { CreateTopicOptions, TopicDescription } from './topic/topic-description.ts';
import { isInternalTopic, validateTopicName } from './topic/topic-name.ts';
import { loadTopicMetadata, saveTopicMetadata, type TopicRecord } from './topic/topic-metadata-store.ts';
import { partitionDirName, type TopicState } from './topic/topic-state.ts';
import { SerialQueue } from './serial-queue.ts';
import { BrokerInternalTopics } from './broker-internal-topics.ts';
import type { InternalTopics } from './internal-topics.ts';
import { GroupCoordinator } from './group/group-coordinator.ts';
import type { TopicOffsetsView } from './group/group-host.ts';
import type { GroupCoordinatorOpenOptions } from './group/group-options.ts';
import { buildControlBatch, type ControlRecordTypeName } from '../sdk/record/control-record.ts';
import { BatchAttribute, BatchOffset } from '../sdk/record/batch-header.ts';
import type { RecordBatchBuilder } from '../sdk/record/record-batch-builder.ts';
import { AppendOrigin } from './producer-state/producer-state-manager.ts';
import { ProducerIdAllocator } from './producer-state/producer-id-allocator.ts';
import { defaultTxnConfig, type TxnConfig } from './txn/txn-config.ts';
import { TxnCoordinator } from './txn/txn-coordinator.ts';
import { TxnLog } from './txn/txn-log.ts';
import { TxnCheckBack } from './txn/txn-check-back.ts';
import { IsolationLevel, type IsolationLevelValue } from './fetch/fetch-types.ts';
import { ScramCredentialStore } from './security/scram-credential-store.ts';
import { AclAuthorizer, type AuthorizerOptions, defaultAuthorizerOptions } from './auth/acl-authorizer.ts';
import { AuditLog } from './auth/audit-log.ts';
import { ShareCoordinator, type ShareCoordinatorOptions } from './share/share-coordinator.ts';
import type { ShareLogHost } from './share/share-log-host.ts';
import { lastSequenceOf } from './producer-state/producer-entry.ts';
import { DelayedDelivery, type DelayedDeliveryConfig } from './delay/delayed-delivery.ts';

export interface BrokerOptions {
  config?: Partial<BrokerConfig>;
  /** Defaults to the real filesystem; tests inject a fault-injecting one. */
  fs?: FileSystem;
  clock?: Clock;
  /** Group coordinator settings (session timeout bounds, offsets retention, ...) and its scheduler. */
  groups?: GroupCoordinatorOpenOptions;
  /** Transaction coordinator and producer-state settings. */
  transactions?: Partial<TxnConfig>;
  /** Enables Kafka-style ACL authorization (broker/auth/); without it every request is allowed. */
  authorizer?: Partial<AuthorizerOptions>;
  /** Share-group (KIP-932) settings: defaults for every group and overrides per group id. */
  shareGroups?: ShareCoordinatorOptions;
  /** Delayed delivery (`rill.deliver.at`/`rill.delay.ms` headers): `rill.delay.max.ms` and the in-memory index bound. */
  delayedDelivery?: Partial<DelayedDeliveryConfig>;
}

const RECOVERY_CHECKPOINT_FILE = 'recovery-point-offset-checkpoint';
/** Kafka's file of log start offsets that DeleteRecords moved inside a segment (same text format). */
const LOG_START_CHECKPOINT_FILE = 'log-start-offset-checkpoint';
const PARTITION_DIR = /^.+-\d+$/;
/** Validation of a batch sealed by `appendBuilt`: its CRC-32C was computed a moment ago, in this process. */
const SEALED_HERE = { checkCrc: false } as const;

function toLogConfig(config: TopicConfig): LogConfig {
  const bounds = effectiveTimestampBounds(config);
  return {
    segmentBytes: config.segmentBytes,
    segmentMs: config.segmentMs,
    retentionBytes: config.retentionBytes,
    retentionMs: config.retentionMs,
    maxMessageBytes: config.maxMessageBytes,
    indexIntervalBytes: config.indexIntervalBytes,
    segmentIndexBytes: config.segmentIndexBytes,
    compact: isCompacted(config.cleanupPolicy),
    delete: isDeletedByRetention(config.cleanupPolicy),
    deleteRetentionMs: config.deleteRetentionMs,
    minCompactionLagMs: config.minCompactionLagMs,
    maxCompactionLagMs: config.maxCompactionLagMs,
    minCleanableDirtyRatio: config.minCleanableDirtyRatio,
    messageTimestampType: config.messageTimestampType,
    messageTimestampBeforeMaxMs: bounds.beforeMaxMs,
    messageTimestampAfterMaxMs: bounds.afterMaxMs,
    minInsyncReplicas: config.minInsyncReplicas,
    delayedDelivery: config.delayedDelivery,
  };
}

/**
 * The broker core: topics and their partition logs in one data directory. Every transport (Kafka
 * wire, HTTP, embedded client) is a thin layer over this object.
 *
 * Topic changes (create, delete, add partitions, alter configs) run one at a time through a serial
 * queue; appends and fetches run concurrently with them and with each other.
 */
export class Broker {
  readonly config: Readonly<BrokerConfig>;
  private readonly topics = new Map<string, TopicState>();
  /** Topic names by topic id, for requests that name topics by id (Fetch v13+, Metadata by id). */
  private readonly topicNamesById = new Map<string, string>();
  private readonly admin = new SerialQueue();
  /** Checkpoint files are replaced through one temp file each, so their writes never overlap. */
  private readonly checkpointWrites = new SerialQueue();
  private readonly parking: FetchParking;
  /** Kafka fetch sessions (KIP-227): the broker's, so a consumer that reconnects keeps its session. */
  readonly fetchSessions: FetchSessionCache;
  private readonly timers: ReturnType<typeof setInterval>[] = [];
  private closed = false;
  private identity = { clusterId: '', nodeId: 0 };
  /** The previous run closed the data directory cleanly (its marker was there when this one opened). */
  private openedAfterCleanShutdown = false;
  private backgroundWork: Promise<void> = Promise.resolve();
  private groupCoordinator: GroupCoordinator | undefined;
  private txnCoordinator: TxnCoordinator | undefined;
  private txnCheckBack: TxnCheckBack | undefined;
  private producerIds: ProducerIdAllocator | undefined;
  private txnConfig: TxnConfig = defaultTxnConfig;
  private credentialStore: ScramCredentialStore | undefined;
  private shareCoordinator: ShareCoordinator | undefined;
  private delayed: DelayedDelivery | undefined;
  /** The ACL authorizer, when enabled by `BrokerOptions.authorizer`; undefined allows everything. */
  authorizer: AclAuthorizer | undefined;
  /** `<dataDir>/audit.log` (bounded, rotated): failed authentications, and denied operations when the authorizer is on. */
  audit!: AuditLog;
  /** Compacts the partitions of topics whose cleanup.policy includes compact (Kafka's log cleaner). */
  readonly logCleaner: LogCleaner;
  /**
   * The internal topics' owners (the coordinators, the HTTP API's stores) create, append to and
   * replay their topics through this, never through the broker itself.
   */
  readonly internalTopics: InternalTopics = new BrokerInternalTopics(this);
  /** What the group coordinator reads of the topics whose offsets it keeps. */
  private readonly topicOffsets: TopicOffsetsView = {
    partitionCount: (topic) => this.topics.get(topic)?.partitions.length,
    partitionOffsets: (topic) =>
      this.topic(topic).partitions.map((log, partition) => ({ partition, logStartOffset: log.logStartOffset, highWatermark: log.highWatermark })),
    offsetForTimestamp: (topic, partition, timestampMs) => this.listOffsets(topic, partition, timestampMs).offset,
  };

  /** What the share coordinator reads of the topics its groups consume, and where it dead-letters. */
  private readonly shareLog: ShareLogHost = {
    topicIdOf: (topic) => this.topics.get(topic)?.topicId,
    topicNameOf: (topicId) => this.topicNamesById.get(topicId),
    offsetForTimestamp: (topic, partition, timestampMs) => this.listOffsets(topic, partition, timestampMs).offset,
    partitionCount: (topic) => this.topics.get(topic)?.partitions.length,
    logOffsets: (topic, partition) => {
      const log = this.partitionLog(topic, partition);
      return { logStartOffset: log.logStartOffset, highWatermark: log.highWatermark, lastStableOffset: log.lastStableOffset };
    },
    read: (topic, partition, offset, maxBytes) => this.partitionLog(topic, partition).read(offset, maxBytes).records,
    readCommitted: (topic, partition, offset, maxBytes) => this.partitionLog(topic, partition).readCommitted(offset, maxBytes).records,
    onHighWatermark: (topic, partition, listener) => this.partitionLog(topic, partition).onHighWatermark(listener),
    appendDeadLetters: async (topic, sourcePartition, batch) => {
      if (!this.topics.has(topic)) {
        await this.createTopic(topic, { partitions: 1 }).catch((error: unknown) => {
          if (!(error instanceof KafkaError && error.errorName === 'TOPIC_ALREADY_EXISTS')) throw error;
        });
      }
      const partitions = this.topic(topic).partitions.length;
      await this.append(topic, sourcePartition % partitions, batch, Acks.all);
    },
  };

  private constructor(
    config: BrokerConfig,
    private readonly fs: FileSystem,
    private readonly clock: Clock,
    private readonly lock: DirectoryLock | undefined,
  ) {
    this.config = config;
    this.parking = new FetchParking(config.maxParkedFetches);
    this.fetchSessions = new FetchSessionCache(defaultFetchSessionCacheOptions, () => clock.nowMs());
    this.logCleaner = new LogCleaner({
      fs,
      clock,
      settings: {
        dedupeBufferSizeBytes: config.cleanerDedupeBufferSizeBytes,
        ioBufferLoadFactor: config.cleanerIoBufferLoadFactor,
        ioBufferSizeBytes: config.cleanerIoBufferSizeBytes,
        ioMaxBytesPerSecond: config.cleanerIoMaxBytesPerSecond,
        backoffMs: config.cleanerBackoffMs,
      },
      partitions: () => this.compactedPartitions(),
    });
  }

  private *compactedPartitions(): Generator<CleanablePartition> {
    for (const topic of this.topics.values()) {
      if (!isCompacted(topic.config.cleanupPolicy)) continue;
      for (const [partition, log] of topic.partitions.entries()) yield { topic: topic.name, partition, log };
    }
  }

  static async open(options: BrokerOptions = {}): Promise<Broker> {
    const config: BrokerConfig = { ...defaultBrokerConfig, ...options.config };
    const fs = options.fs ?? nodeFileSystem;
    const clock = options.clock ?? systemClock;
    await fs.mkdir(config.dataDir);
    // Two brokers writing one data directory would interleave segment writes; only the real
    // filesystem can be shared between processes, so only it is locked.
    const lock = fs === nodeFileSystem ? DirectoryLock.acquire(config.dataDir) : undefined;
    const broker = new Broker(config, fs, clock, lock);
    try {
      await broker.load();
      // After the topics load, so groups and their offsets are rebuilt from `__consumer_offsets`.
      broker.groupCoordinator = await GroupCoordinator.open({ internalTopics: broker.internalTopics, topics: broker.topicOffsets }, { clock, ...options.groups });
      await broker.openTransactions({ ...defaultTxnConfig, ...options.transactions });
      broker.shareCoordinator = await ShareCoordinator.open(broker.shareLog, broker.internalTopics, options.shareGroups ?? {}, () => clock.nowMs());
      broker.credentialStore = await ScramCredentialStore.open(fs, config.dataDir);
      const auditLimits = { ...defaultAuthorizerOptions, ...options.authorizer };
      broker.audit = new AuditLog({ dir: config.dataDir, maxBytes: auditLimits.auditLogMaxBytes, maxLinesPerSecond: auditLimits.auditLogMaxLinesPerSecond });
      if (options.authorizer !== undefined) broker.authorizer = await AclAuthorizer.open(fs, config.dataDir, options.authorizer, broker.audit);
      broker.delayed = await DelayedDelivery.open(
        {
          fs,
          dataDir: config.dataDir,
          internalTopics: broker.internalTopics,
          partitionLog: (topic, partition) => broker.topics.get(topic)?.partitions[partition],
          allocateProducerId: () => broker.producerIds!.allocate(),
          nowMs: () => clock.nowMs(),
          openedAfterCleanShutdown: broker.openedAfterCleanShutdown,
        },
        options.delayedDelivery,
      );
    } catch (error) {
      lock?.release();
      throw error;
    }
    broker.startBackgroundTasks();
    return broker;
  }

  /** Consumer groups and their committed offsets (Kafka's group coordinator). */
  get groups(): GroupCoordinator {
    if (this.groupCoordinator === undefined) throw new Error('invariant: the group coordinator is created in Broker.open');
    return this.groupCoordinator;
  }

  /** Delayed delivery (broker/delay/): records held back until the time their headers name. */
  get delayedDelivery(): DelayedDelivery {
    if (this.delayed === undefined) throw new Error('invariant: delayed delivery is opened in Broker.open');
    return this.delayed;
  }

  /** Share groups (KIP-932): membership, acquisition, acknowledgements, dead letters, durable state. */
  get shareGroups(): ShareCoordinator {
    if (this.shareCoordinator === undefined) throw new Error('invariant: the share coordinator is created in Broker.open');
    return this.shareCoordinator;
  }

  /** SASL/SCRAM credentials by user, in the data directory; PLAIN and SCRAM listeners verify against them. */
  get scramCredentials(): ScramCredentialStore {
    if (this.credentialStore === undefined) throw new Error('invariant: the SCRAM credential store is opened in Broker.open');
    return this.credentialStore;
  }

  /** The transaction coordinator (KIP-98): InitProducerId, AddPartitionsToTxn, EndTxn and the rest. */
  get transactions(): TxnCoordinator {
    if (this.txnCoordinator === undefined) throw new Error('invariant: the transaction coordinator is created in Broker.open');
    return this.txnCoordinator;
  }

  /** Transaction check-back: checker registrations, pending checks, answers (txn/txn-check-back.ts). */
  get transactionChecks(): TxnCheckBack {
    if (this.txnCheckBack === undefined) throw new Error('invariant: the transaction check-back is created in Broker.open');
    return this.txnCheckBack;
  }

  /**
   * After the topics load: the producer-id block, then `__transaction_state`, completing any
   * transaction a crash left between its PrepareCommit/PrepareAbort record and its markers.
   */
  private async openTransactions(config: TxnConfig): Promise<void> {
    this.txnConfig = config;
    const producerIds = await ProducerIdAllocator.open(this.fs, this.config.dataDir);
    this.producerIds = producerIds;
    this.txnCoordinator = new TxnCoordinator(
      {
        nowMs: () => this.clock.nowMs(),
        allocateProducerId: () => producerIds.allocate(),
        partitionExists: (topic, partition) => this.topics.get(topic)?.partitions[partition] !== undefined,
        writeMarker: (topic, partition, producerId, producerEpoch, type) => this.appendMarker(topic, partition, producerId, producerEpoch, type),
      },
      new TxnLog(this.internalTopics, () => this.clock.nowMs()),
      config,
      () => this.groupCoordinator?.txnOffsetSink,
    );
    this.txnCheckBack = new TxnCheckBack(this.internalTopics, this.txnCoordinator, config, {
      nowMs: () => this.clock.nowMs(),
      // The audit log opens after the coordinators; checks resumed at load run on the first tick, after it.
      log: (fields) => this.audit?.transactionCheck({ event: String(fields['event']), ...fields }),
    });
    this.txnCoordinator.attachCheckBack(this.txnCheckBack);
    await this.txnCoordinator.load();
  }

  /** Writes a transaction marker (a control batch) for the coordinator, acknowledged once fsynced. */
  private async appendMarker(topic: string, partition: number, producerId: number, producerEpoch: number, type: ControlRecordTypeName): Promise<void> {
    const batch = buildControlBatch({ producerId, producerEpoch, type, coordinatorEpoch: 0, timestamp: this.clock.nowMs() });
    await this.partitionLog(topic, partition).append(batch, Acks.all, AppendOrigin.coordinator);
  }

  /** The data directory's cluster id, fixed when the directory was first used. */
  get clusterId(): string {
    return this.identity.clusterId;
  }

  private async load(): Promise<void> {
    this.identity = await loadMetaProperties(this.fs, this.config.dataDir, this.config.nodeId);
    const cleanShutdown = await takeCleanShutdownMarker(this.fs, this.config.dataDir);
    this.openedAfterCleanShutdown = cleanShutdown;
    const records = await loadTopicMetadata(this.fs, this.config.dataDir);
    if (records === undefined) {
      await this.assertNoPartitionDirs();
      return;
    }
    const recoveryPoints = await readCheckpoint(this.fs, join(this.config.dataDir, RECOVERY_CHECKPOINT_FILE));
    const logStartOffsets = await readCheckpoint(this.fs, join(this.config.dataDir, LOG_START_CHECKPOINT_FILE));
    for (const record of records) {
      const config = resolveTopicConfig(record.config, this.config.topicDefaults);
      const partitions: PartitionLog[] = [];
      for (let p = 0; p < record.partitions; p++) {
        const dirName = partitionDirName(record.name, p);
        partitions.push(await this.openLog(dirName, config, recoveryPoints.get(dirName) ?? 0, logStartOffsets.get(dirName) ?? 0, cleanShutdown));
      }
      this.topicNamesById.set(record.topicId, record.name);
      this.topics.set(record.name, {
        name: record.name,
        topicId: record.topicId,
        createdMs: record.createdMs,
        configOverrides: { ...record.config },
        config,
        partitions,
      });
    }
    await this.removeOrphanPartitionDirs();
  }

  /**
   * A data directory with partition directories but no catalogue lost its topics.json; opening it
   * would treat every partition as an orphan, so refuse instead of deleting data.
   */
  private async assertNoPartitionDirs(): Promise<void> {
    const found: string[] = [];
    for (const entry of await this.fs.readdir(this.config.dataDir)) {
      if (PARTITION_DIR.test(entry) && (await this.fs.isDirectory(join(this.config.dataDir, entry)))) found.push(entry);
    }
    if (found.length > 0) {
      throw new KafkaError(
        'KAFKA_STORAGE_ERROR',
        `${this.config.dataDir} holds partition directories (${found.slice(0, 3).join(', ')}${found.length > 3 ? ', ...' : ''}) but no topics.json; refusing to open it`,
      );
    }
  }

  /** Partition directories no topic owns are leftovers of a delete interrupted by a crash. */
  private async removeOrphanPartitionDirs(): Promise<void> {
    const owned = new Set<string>();
    for (const topic of this.topics.values()) {
      for (let p = 0; p < topic.partitions.length; p++) owned.add(partitionDirName(topic.name, p));
    }
    for (const entry of await this.fs.readdir(this.config.dataDir)) {
      if (!PARTITION_DIR.test(entry) || owned.has(entry)) continue;
      const path = join(this.config.dataDir, entry);
      if (await this.fs.isDirectory(path)) await this.fs.removeDirectory(path);
    }
  }

  private openLog(dirName: string, config: TopicConfig, recoveryPoint: number, logStartOffset = 0, cleanShutdown = false): Promise<PartitionLog> {
    return PartitionLog.open({
      dir: join(this.config.dataDir, dirName),
      topicPartition: dirName,
      fs: this.fs,
      clock: this.clock,
      config: toLogConfig(config),
      recoveryPoint,
      logStartOffset,
      cleanShutdown,
    });
  }

  private startBackgroundTasks(): void {
    const every = (intervalMs: number, task: () => Promise<void>): void => {
      const timer = setInterval(() => {
        this.backgroundWork = this.backgroundWork.then(task).catch(() => undefined);
      }, intervalMs);
      // Housekeeping must never keep a process alive that has nothing else to do.
      (timer as { unref?: () => void }).unref?.();
      this.timers.push(timer);
    };
    every(this.config.retentionCheckIntervalMs, () => this.applyRetention().then(() => undefined));
    if (this.config.cleanerEnable) this.logCleaner.start();
    every(this.config.checkpointIntervalMs, () => this.writeCheckpoints());
    every(this.txnConfig.abortTimedOutIntervalMs, () => this.transactions.runTimers());
    every(this.txnConfig.producerIdExpirationCheckIntervalMs, async () => {
      for (const topic of this.topics.values()) for (const log of topic.partitions) log.expireProducers(this.txnConfig.producerIdExpirationMs);
    });
  }

  private assertOpen(): void {
    if (this.closed) throw new KafkaError('BROKER_NOT_AVAILABLE', 'the broker is shut down');
  }

  private topic(name: string): TopicState {
    const topic = this.topics.get(name);
    if (topic === undefined) throw new KafkaError('UNKNOWN_TOPIC_OR_PARTITION', `topic "${name}" does not exist`);
    return topic;
  }

  private partitionLog(topicName: string, partition: number): PartitionLog {
    const topic = this.topic(topicName);
    const log = Number.isInteger(partition) ? topic.partitions[partition] : undefined;
    if (log === undefined) {
      throw new KafkaError(
        'UNKNOWN_TOPIC_OR_PARTITION',
        `topic "${topicName}" has ${topic.partitions.length} partitions; partition ${partition} does not exist`,
      );
    }
    return log;
  }

  private topicRecords(): TopicRecord[] {
    return [...this.topics.values()].map((t) => ({
      name: t.name,
      topicId: t.topicId,
      createdMs: t.createdMs,
      partitions: t.partitions.length,
      config: t.configOverrides,
    }));
  }

  private persistTopics(): Promise<void> {
    return saveTopicMetadata(this.fs, this.config.dataDir, this.topicRecords());
  }

  /** Fetches parked in long polls right now (a gauge for metrics and tests). */
  get parkedFetchCount(): number {
    return this.parking.parkedCount;
  }

  hasTopic(name: string): boolean {
    return this.topics.has(name);
  }

  /** The name of the topic with id `topicId` (a UUID string), undefined when there is none. */
  topicNameById(topicId: string): string | undefined {
    return this.topicNamesById.get(topicId);
  }

  listTopics(options: { includeInternal?: boolean } = {}): string[] {
    return [...this.topics.keys()].filter((n) => options.includeInternal === true || !isInternalTopic(n)).sort();
  }

  /** A topic's partition count and resolved config, without describing every partition (hot paths). */
  topicLayout(name: string): { partitions: number; config: Readonly<TopicConfig> } {
    const topic = this.topic(name);
    return { partitions: topic.partitions.length, config: topic.config };
  }

  describeTopic(name: string): TopicDescription {
    const topic = this.topic(name);
    return {
      name: topic.name,
      topicId: topic.topicId,
      internal: isInternalTopic(topic.name),
      partitions: topic.partitions.map((log, partition) => ({
        partition,
        logStartOffset: log.logStartOffset,
        highWatermark: log.highWatermark,
        logEndOffset: log.logEndOffset,
        sizeBytes: log.sizeBytes,
        offline: log.isOffline,
        ...(isCompacted(topic.config.cleanupPolicy) ? { cleaner: this.logCleaner.status(log) } : {}),
      })),
      configs: describeTopicConfig(topic.configOverrides, this.config.topicDefaults),
    };
  }

  private validatePartitionCount(count: number): void {
    if (!Number.isInteger(count) || count < 1 || count > this.config.maxPartitionsPerTopic) {
      throw new KafkaError(
        'INVALID_PARTITIONS',
        `partition count must be an integer from 1 to ${this.config.maxPartitionsPerTopic}, got ${count}`,
      );
    }
  }

  /** Internal topics are exempt: their set is fixed, and the broker cannot work without them. */
  private validatePartitionBudget(topic: string, added: number): void {
    if (isInternalTopic(topic)) return;
    let existing = 0;
    for (const t of this.topics.values()) if (!isInternalTopic(t.name)) existing += t.partitions.length;
    if (existing + added > this.config.maxPartitions) {
      throw new KafkaError(
        'POLICY_VIOLATION',
        `adding ${added} partitions to the ${existing} that exist would exceed the broker's limit of ${this.config.maxPartitions} (maxPartitions)`,
      );
    }
  }

  /** Checks a creation request without changing anything (CreateTopics' `validate_only`). */
  validateCreateTopic(name: string, options: CreateTopicOptions = {}): void {
    validateTopicName(name);
    if (this.topics.has(name)) throw new KafkaError('TOPIC_ALREADY_EXISTS', `topic "${name}" already exists`);
    const partitions = options.partitions ?? this.config.defaultPartitions;
    this.validatePartitionCount(partitions);
    this.validatePartitionBudget(name, partitions);
    resolveTopicConfig(options.config ?? {}, this.config.topicDefaults);
  }

  createTopic(name: string, options: CreateTopicOptions = {}): Promise<TopicDescription> {
    return this.admin.run(async () => {
      this.assertOpen();
      this.validateCreateTopic(name, options);
      const partitionCount = options.partitions ?? this.config.defaultPartitions;
      const overrides = { ...(options.config ?? {}) };
      const config = resolveTopicConfig(overrides, this.config.topicDefaults);
      // Logs first, metadata last: a crash in between leaves only empty orphan directories,
      // which the next open removes.
      const partitions: PartitionLog[] = [];
      for (let p = 0; p < partitionCount; p++) {
        partitions.push(await this.openLog(partitionDirName(name, p), config, 0));
      }
      const topicId = randomUUID();
      this.topicNamesById.set(topicId, name);
      this.topics.set(name, {
        name,
        topicId,
        createdMs: this.clock.nowMs(),
        configOverrides: overrides,
        config,
        partitions,
      });
      await this.persistTopics();
      await this.writeCheckpoints();
      return this.describeTopic(name);
    });
  }

  deleteTopic(name: string): Promise<void> {
    return this.admin.run(async () => {
      this.assertOpen();
      const topic = this.topic(name);
      // Metadata first: once it no longer names the topic, its directories are orphans that a
      // crash mid-delete leaves for the next open to remove.
      this.topics.delete(name);
      this.topicNamesById.delete(topic.topicId);
      await this.persistTopics();
      await this.logCleaner.forget(topic.partitions);
      for (const log of topic.partitions) await log.delete();
      // A later topic of the same name must not inherit these partitions' recovery points.
      await this.writeCheckpoints();
    });
  }

  /** Grows a topic to `totalCount` partitions (Kafka's CreatePartitions; partitions never shrink). */
  createPartitions(name: string, totalCount: number, options: { validateOnly?: boolean } = {}): Promise<void> {
    return this.admin.run(async () => {
      this.assertOpen();
      const topic = this.topic(name);
      this.validatePartitionCount(totalCount);
      if (totalCount <= topic.partitions.length) {
        throw new KafkaError(
          'INVALID_PARTITIONS',
          `topic "${name}" has ${topic.partitions.length} partitions; the new count ${totalCount} must be larger`,
        );
      }
      this.validatePartitionBudget(name, totalCount - topic.partitions.length);
      if (options.validateOnly === true) return;
      for (let p = topic.partitions.length; p < totalCount; p++) {
        topic.partitions.push(await this.openLog(partitionDirName(name, p), topic.config, 0));
      }
      await this.persistTopics();
      await this.writeCheckpoints();
    });
  }

  /**
   * Changes topic configs incrementally: a string sets a config, `null` returns it to the default.
   * All changes are validated before any takes effect.
   */
  alterTopicConfig(name: string, changes: Record<string, string | null>, options: { validateOnly?: boolean } = {}): Promise<void> {
    return this.admin.run(async () => {
      this.assertOpen();
      const topic = this.topic(name);
      const overrides = { ...topic.configOverrides };
      for (const [key, value] of Object.entries(changes)) {
        if (value === null) delete overrides[key];
        else overrides[key] = value;
      }
      const config = resolveTopicConfig(overrides, this.config.topicDefaults);
      if (options.validateOnly === true) return;
      topic.configOverrides = overrides;
      topic.config = config;
      for (const log of topic.partitions) log.updateConfig(toLogConfig(config));
      await this.persistTopics();
    });
  }

  /**
   * Appends sealed RecordBatch v2 bytes (one or more batches) to a partition. Resolves per `acks`:
   * `all` after the bytes are fsynced, `leader` and `none` once they reach the OS.
   */
  async append(topic: string, partition: number, batches: Uint8Array, acks: AcksValue = Acks.all): Promise<AppendResult> {
    this.assertOpen();
    const log = this.partitionLog(topic, partition);
    this.verifyTransactionalWrite(topic, partition, batches);
    if (!log.logConfig.delayedDelivery) return log.append(batches, acks);
    return this.delayedDelivery.route(topic, partition, log, batches, acks) ?? log.append(batches, acks);
  }

  /**
   * `append` of the batch `builder` holds, sealed here. Bytes no caller has held since the builder
   * computed their CRC-32C are not checksummed a second time (for small messages, such as MQTT's,
   * the second pass was 6-8 % of the broker's CPU); every other check still applies. A topic with delayed
   * delivery takes `append`'s path, which may keep the batch back.
   */
  async appendBuilt(topic: string, partition: number, builder: RecordBatchBuilder, acks: AcksValue = Acks.all): Promise<AppendResult> {
    this.assertOpen();
    const log = this.partitionLog(topic, partition);
    const batch = builder.seal();
    if (log.logConfig.delayedDelivery) return this.append(topic, partition, batch, acks);
    this.verifyTransactionalWrite(topic, partition, batch);
    return log.append(batch, acks, AppendOrigin.client, SEALED_HERE);
  }

  /**
   * The last sequence number an idempotent producer (at `producerEpoch`) appended to a partition,
   * -1 when the partition holds no state for it: what the MQTT listener checks to know whether a
   * retried QoS 2 message is already in the log.
   */
  producerLastSequence(topic: string, partition: number, producerId: number, producerEpoch: number): number {
    this.assertOpen();
    const entry = this.partitionLog(topic, partition).producerState.entry(producerId);
    return entry === undefined || entry.producerEpoch !== producerEpoch ? -1 : lastSequenceOf(entry);
  }

  /**
   * A transactional batch is accepted only into a partition its open transaction holds, checked
   * in the same synchronous step as the append, so no write can open a transaction on a partition
   * that the coordinator would never write a marker to (a hanging transaction).
   */
  private verifyTransactionalWrite(topic: string, partition: number, batches: Uint8Array): void {
    if (batches.length < BatchOffset.records) return;
    const dv = new DataView(batches.buffer, batches.byteOffset, batches.byteLength);
    const attributes = dv.getInt16(BatchOffset.attributes);
    if ((attributes & (BatchAttribute.transactional | BatchAttribute.control)) !== BatchAttribute.transactional) return;
    const producerId = Number(dv.getBigInt64(BatchOffset.producerId));
    const error = this.transactions.transactionalWriteError(producerId, dv.getInt16(BatchOffset.producerEpoch), topic, partition);
    if (error !== undefined) {
      throw new KafkaError(error, `producer ${producerId} has no open transaction holding ${topic}-${partition}; add the partition to the transaction first`);
    }
  }

  /**
   * Reads several partitions at once, parking until `minBytes` are available, `maxWaitMs` passes,
   * `signal` aborts or the broker closes. Errors are per partition, as on the wire.
   */
  async fetch(request: FetchRequest, signal?: AbortSignal): Promise<FetchPartitionResult[]> {
    this.assertOpen();
    const deadlineMs = this.clock.nowMs() + Math.max(0, request.maxWaitMs);
    for (;;) {
      const { results, bytes, sources, seenHighWatermarks } = readPartitions(request, (t, p) => this.partitionLog(t, p));
      const hasError = results.some((r) => r.error !== undefined);
      const waitMs = deadlineMs - this.clock.nowMs();
      if (bytes >= request.minBytes || hasError || waitMs <= 0 || this.closed) return results;
      const reason = await this.parking.park(sources, seenHighWatermarks, waitMs, signal);
      if (reason !== 'data') return readPartitions(request, (t, p) => this.partitionLog(t, p)).results;
    }
  }

  /**
   * Kafka's ListOffsets for one partition: a `ListOffsetsTimestamp` (-1 to -5), or the first offset
   * whose record timestamp is at or after `timestamp`. Offsets past what `isolationLevel` may read
   * are not answered.
   */
  listOffsets(topic: string, partition: number, timestamp: number, isolationLevel: IsolationLevelValue = IsolationLevel.readUncommitted): ListOffsetsResult {
    this.assertOpen();
    const log = this.partitionLog(topic, partition);
    const readableEnd = (): number => (isolationLevel === IsolationLevel.readCommitted ? log.lastStableOffset : log.highWatermark);
    if (timestamp === ListOffsetsTimestamp.earliest || timestamp === ListOffsetsTimestamp.earliestLocal) return { offset: log.logStartOffset, timestamp: -1 };
    if (timestamp === ListOffsetsTimestamp.latest) return { offset: readableEnd(), timestamp: -1 };
    if (timestamp === ListOffsetsTimestamp.maxTimestamp) return offsetOfMaxTimestamp(log, readableEnd());
    if (timestamp === ListOffsetsTimestamp.latestTiered) return { offset: -1, timestamp: -1 };
    if (timestamp < 0) {
      throw new KafkaError('INVALID_REQUEST', `unsupported ListOffsets timestamp ${timestamp}; use -1 to -5 or a time in ms`);
    }
    return offsetForTimestamp(log, timestamp);
  }

  /**
   * Rolls active segments past segment.ms, then deletes segments past their topic's retention
   * (topics whose cleanup.policy includes delete); returns how many went.
   */
  async applyRetention(): Promise<number> {
    let deleted = 0;
    for (const topic of this.topics.values()) {
      for (const log of topic.partitions) {
        if (log.isOffline) continue;
        // Once the roll is durable the high watermark has passed the sealed segment, so retention may take it now.
        if (log.rollIfAged()) await log.flush().catch(() => undefined);
        deleted += await log.applyRetention();
      }
    }
    return deleted;
  }

  /**
   * DeleteRecords (KIP-107) for one partition: `offset` -1 means the high watermark. Answers once
   * the new log start offset is durable in the log start checkpoint, so a restart never serves
   * the deleted records again. Internal topics refuse, as in Kafka. Returns the low watermark.
   */
  async deleteRecords(topic: string, partition: number, offset: number): Promise<number> {
    this.assertOpen();
    if (isInternalTopic(topic)) throw new KafkaError('INVALID_TOPIC_EXCEPTION', `cannot delete records of the internal topic "${topic}"`);
    const log = this.partitionLog(topic, partition);
    const lowWatermark = await log.deleteRecordsBefore(offset === -1 ? log.highWatermark : offset);
    await this.writeCheckpoints();
    return lowWatermark;
  }

  private partitionOffsets(offsetOf: (log: PartitionLog) => number): Map<string, number> {
    const entries = new Map<string, number>();
    for (const topic of this.topics.values()) {
      topic.partitions.forEach((log, p) => entries.set(partitionDirName(topic.name, p), offsetOf(log)));
    }
    return entries;
  }

  /**
   * Writes the recovery point and log start offset checkpoints, one write at a time (each file is
   * replaced through its one temp file). Both are rewritten whenever topics change, so a later
   * topic of a deleted one's name never inherits its offsets.
   */
  private writeCheckpoints(): Promise<void> {
    return this.checkpointWrites.run(async () => {
      const dir = this.config.dataDir;
      await writeCheckpoint(this.fs, join(dir, RECOVERY_CHECKPOINT_FILE), this.partitionOffsets((log) => log.recoveryPoint));
      await writeCheckpoint(this.fs, join(dir, LOG_START_CHECKPOINT_FILE), this.partitionOffsets((log) => log.logStartOffset));
    });
  }

  /** Flushes every partition, writes the recovery checkpoint and releases the data directory. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    await this.logCleaner.stop();
    this.parking.close();
    // Before the logs close: the coordinators wait for their writes.
    await this.txnCoordinator?.close();
    await this.groupCoordinator?.close();
    await this.shareCoordinator?.close();
    await this.delayed?.close();
    await this.admin.run(async () => {
      await this.backgroundWork;
      const failures: unknown[] = [];
      let anyOffline = false;
      for (const topic of this.topics.values()) {
        for (const log of topic.partitions) {
          const offline = log.isOffline;
          anyOffline ||= offline;
          await log.close().catch((error: unknown) => {
            if (!offline) failures.push(error);
          });
        }
      }
      await this.writeCheckpoints();
      if (failures.length === 0 && !anyOffline) await markCleanShutdown(this.fs, this.config.dataDir);
      this.lock?.release();
      if (failures.length > 0) throw new AggregateError(failures, `${failures.length} partitions failed to close cleanly`);
    });
  }
}
