import type { Admin } from '../../sdk/client/admin/admin.ts';
import { Consumer } from '../../sdk/client/consumer/consumer.ts';
import type { ConsumerBatch, TopicPartition } from '../../sdk/client/consumer/consumer-types.ts';
import { Producer } from '../../sdk/client/producer/producer.ts';
import { wireSerde } from '../../sdk/serde/basic-serdes.ts';
import type { ConsumerGroupMetadata } from '../../sdk/client/producer/producer-types.ts';
import { isKafkaError } from '../../sdk/protocol/kafka-error.ts';
import { openTaskStore } from '../state/open-task-store.ts';
import type { StateStore } from '../state/state-store.ts';
import type { TaskId } from '../topology/processor.ts';
import { PunctuationType } from '../topology/punctuation.ts';
import { PartitionGroup } from './partition-group.ts';
import type { Topology } from '../topology/topology.ts';
import { ChangelogRestorer } from './changelog-restorer.ts';
import { actionFor, deadLetterRecord, RecordFailureError } from './failure-policy.ts';
import { StreamsError } from './streams-error.ts';
import type { TopologyLayout } from './internal-topics.ts';
import { ProducerCollector } from './producer-collector.ts';
import type { ResolvedStreamsConfig } from './streams-config.ts';
import { StreamsAssignor } from './streams-assignor.ts';
import type { QueryView } from '../query/query-view.ts';
import type { StreamsMetrics } from './streams-metrics.ts';
import { FlushFailureError, type InputRecord, type RecordFailure, type Task, type TaskHost } from './task.ts';
import { type CommittedOffset, TaskManager } from './task-manager.ts';
import { retrying } from '../../sdk/client/retry.ts';
import { TRANSIENT_RETRY } from './transient-retry.ts';
import { RetryTierGate } from './retry-tier-gate.ts';

/** How the thread tells the application what happens to it. */
export interface ThreadEvents {
  rebalancing(): void;
  running(): void;
}

/** Snapshot handling the thread delegates: loading a new task's stores, and writing after commits. */
export interface TaskSnapshots {
  load(task: Task, id: TaskId): Promise<void>;
  /** After a successful commit: snapshot the stores that are due (in the background). */
  afterCommit(tasks: readonly Task[]): void;
  /** Waits for snapshot writes in flight, then writes a last one of each store (graceful shutdown). */
  finish(tasks: readonly Task[]): Promise<void>;
}

/**
 * Send and commit errors after which this process cannot go on: the record or the request will
 * fail again however often it is retried.
 */
const FATAL_ERRORS = ['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD', 'TOPIC_AUTHORIZATION_FAILED', 'GROUP_AUTHORIZATION_FAILED', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED', 'CLUSTER_AUTHORIZATION_FAILED', 'UNSUPPORTED_VERSION', 'INVALID_CONFIG'] as const;

function isFatal(error: unknown): boolean {
  return error instanceof RecordFailureError || error instanceof FlushFailureError || error instanceof StreamsError || FATAL_ERRORS.some((name) => isKafkaError(error, name));
}

/**
 * The process's stream thread: one consumer in the application's group, one producer
 * (transactional under exactly-once), the tasks the group assigns, and the loop that feeds them
 * records and commits every `commitIntervalMs`.
 *
 * A commit drains every task (no record in flight), flushes the stores' held-back writes to their
 * changelogs, waits for every send, then commits outputs, changelog records and input offsets in
 * one transaction (exactly-once) or flushes and commits offsets (at-least-once). When anything in
 * it fails, the transaction is aborted (or the producer replaced, fencing the old one), the stores
 * drop their held-back writes, and every task restores from its changelog's committed end and
 * reads its inputs again from the committed offsets: processing resumes; it never exits for it.
 */
export class StreamThread {
  private readonly consumer: Consumer<Uint8Array, Uint8Array>;
  private readonly restoreConsumer: Consumer<Uint8Array, Uint8Array>;
  private producer: Producer<Uint8Array, Uint8Array | string>;
  private readonly collector: ProducerCollector;
  private readonly assignor: StreamsAssignor;
  private readonly tasks: TaskManager;
  private readonly restorer: ChangelogRestorer;
  private readonly exactlyOnce: boolean;
  /** Processing and commits run one at a time; a revocation waits for the batch being processed. */
  private turn: Promise<void> = Promise.resolve();
  /** The generation the current tasks were assigned in: offsets are committed under it (KIP-447 fencing). */
  private generation: ConsumerGroupMetadata | undefined;
  private lastCommitMs = Date.now();
  private dirty = false;
  private stopping = false;
  private fatal: unknown = undefined;
  private wake: (() => void) | undefined;
  private inTransaction = false;
  /** Input buffers of the running tasks that read several partitions, ordering their records by timestamp. */
  private readonly groups = new Map<Task, PartitionGroup>();
  /** Retry tier partitions held until their next record is due. */
  private readonly tiers: RetryTierGate;

  constructor(
    private readonly topology: Topology,
    private readonly config: ResolvedStreamsConfig,
    private readonly layout: TopologyLayout,
    private readonly admin: Admin,
    private readonly instanceId: string,
    private readonly metrics: StreamsMetrics,
    private readonly snapshots: TaskSnapshots,
    private readonly events: ThreadEvents,
    /** The process's global stores, which every task's processors may read. */
    private readonly globalStore?: (name: string) => StateStore | undefined,
  ) {
    this.exactlyOnce = config.guarantee === 'exactly_once';
    this.tiers = new RetryTierGate(layout.retryDelays);
    const subtopologies = topology.subtopologies.map((s) => ({ id: s.id, sourceTopics: s.sourceTopics.map((ref) => layout.topicName(ref)) }));
    this.assignor = new StreamsAssignor(() => subtopologies, { instanceId, endpoint: config.applicationServer ?? null, ownedTasks: () => this.tasks.owned() });
    this.consumer = new Consumer(config.transport, {
      groupId: config.applicationId,
      ...(config.staticMembership ? { groupInstanceId: instanceId } : {}),
      assignors: [this.assignor],
      isolationLevel: 'read_committed',
      enableAutoCommit: false,
      autoOffsetReset: 'earliest',
      sessionTimeoutMs: config.sessionTimeoutMs,
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      rebalanceTimeoutMs: config.rebalanceTimeoutMs,
      maxPrefetchBytes: config.maxPrefetchBytes,
      maxWaitMs: Math.min(500, config.commitIntervalMs),
    });
    this.restoreConsumer = new Consumer(config.transport, { isolationLevel: 'read_committed', autoOffsetReset: 'none', maxWaitMs: 100 });
    this.restorer = new ChangelogRestorer(this.restoreConsumer, admin);
    this.producer = this.newProducer();
    const changelogTopics = new Set(topology.subtopologies.flatMap((s) => s.stores.filter((st) => st.logged).map((st) => layout.changelogTopic(st.name))));
    this.collector = new ProducerCollector(this.producer, layout.partitions, (topic) => changelogTopics.has(topic));
    this.tasks = new TaskManager(topology, layout, (id, streamTimeMs) => this.taskHost(id, streamTimeMs), { maxInFlightRecords: config.maxInFlightRecordsPerTask }, metrics, {
      pause: (partitions) => this.consumer.pause(partitions),
      resume: (partitions) => this.consumer.resume(partitions),
      committed: (partitions) => this.consumer.committed(partitions),
      seekTo: (committed) => this.seekTo(committed),
      loadSnapshots: (task, id) => this.snapshots.load(task, id),
      restore: async (targets, onProgress, signal) => {
        if (targets.length > 0) await this.restorer.restore(targets, onProgress, signal);
      },
      onRestoreFailed: (error) => void this.fail(error),
      onAllRunning: () => {
        this.events.running();
        // The loop's wait may be longer than the new tasks' first wall-clock punctuation.
        this.wake?.();
      },
    });
  }

  private newProducer(): Producer<Uint8Array, Uint8Array | string> {
    return new Producer(this.config.transport, {
      valueSerde: wireSerde,
      transactionalId: this.exactlyOnce ? `${this.config.applicationId}-${this.instanceId}` : undefined,
      transactionTimeoutMs: this.config.transactionTimeoutMs,
      idempotent: true,
      lingerMs: 0,
    });
  }

  private taskHost(id: TaskId, streamTimeMs: () => number): TaskHost {
    return {
      applicationId: this.config.applicationId,
      collector: this.collector,
      topicName: (ref) => this.layout.topicName(ref),
      openStore: (spec) => {
        const changelog = this.layout.changelogTopic(spec.name);
        return openTaskStore(spec, {
          partition: id.partition,
          writeChangelog: (record) =>
            this.collector.send({ topic: changelog, partition: id.partition, key: record.key, value: record.value, timestamp: record.timestamp, headers: record.headers }),
          changelogTimestampMs: () => Math.max(0, streamTimeMs()),
        });
      },
      globalStore: (name) => this.globalStore?.(name),
      onFailure: (failure) => this.onRecordFailure(failure),
      nowMs: () => Date.now(),
    };
  }

  private onRecordFailure(failure: RecordFailure): void {
    if (failure.kind === 'late') this.metrics.task(failure.taskId).lateRecordsDropped++;
    // An operator's StreamsError (a full suppression buffer) is the application's condition, not the record's: no policy skips it.
    if (failure.error instanceof StreamsError) return this.fail(failure.error);
    const action = actionFor(this.config.failures, failure);
    if (action === 'dlq') {
      this.collector.send(deadLetterRecord(this.config.applicationId, failure));
      this.metrics.recordsDeadLettered++;
    } else if (action === 'skip') {
      this.metrics.recordsSkipped++;
    } else if (action === 'fail') {
      this.fail(new RecordFailureError(failure));
    }
  }

  private fail(error: unknown): void {
    this.fatal ??= error;
    this.wake?.();
  }

  /** Runs one step (a batch's processing, a commit, a rebalance callback) after the previous ones. */
  private exclusive<T>(step: () => Promise<T>): Promise<T> {
    const run = this.turn.then(step);
    this.turn = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** The loop; resolves when the thread stops (`stop()`), rejects with what made it fail. */
  async run(): Promise<void> {
    if (this.exactlyOnce) await this.beginTransaction();
    const sourceTopics = [...new Set(this.topology.subtopologies.flatMap((s) => s.sourceTopics.map((ref) => this.layout.topicName(ref))))];
    this.consumer.subscribe(sourceTopics, {
      onPartitionsRevoked: () => this.exclusive(() => this.onRevoked()),
      onPartitionsLost: () => this.exclusive(() => this.onLost()),
      onPartitionsAssigned: () => this.exclusive(async () => this.onAssigned()),
    });
    this.events.rebalancing();
    const iterator = this.consumer.batches();
    // One pending next() at a time, listened to once: the loop passes many times while no batch
    // comes, and a listener per pass would pile up on the same promise.
    let next: Promise<unknown> | undefined;
    let arrived: { result: IteratorResult<ConsumerBatch<Uint8Array, Uint8Array>> } | { error: unknown } | undefined;
    try {
      while (!this.stopping && this.fatal === undefined) {
        next ??= iterator.next().then(
          (result) => {
            arrived = { result };
            this.wake?.();
          },
          (error: unknown) => {
            arrived = { error };
            this.wake?.();
          },
        );
        const waitMs = Math.max(0, Math.min(this.lastCommitMs + this.config.commitIntervalMs, this.nextWallClockPunctuationMs(), this.idleDeadlineMs(), this.tiers.nextDueMs()) - Date.now());
        if (arrived === undefined) await this.waitFor(waitMs);
        const settled = arrived;
        if (settled !== undefined) {
          next = undefined;
          arrived = undefined;
          if ('error' in settled) throw settled.error;
          if (settled.result.done === true) break;
          await this.exclusive(() => this.process(settled.result.value));
        }
        if (this.fatal === undefined && this.groups.size > 0) await this.exclusive(() => this.processAllBuffered());
        if (this.fatal === undefined && this.tiers.nextDueMs() <= Date.now()) await this.exclusive(async () => this.resumeDueTiers());
        if (this.fatal === undefined && this.nextWallClockPunctuationMs() <= Date.now()) await this.exclusive(() => this.punctuateWallClock());
        if (this.fatal === undefined && (Date.now() - this.lastCommitMs >= this.config.commitIntervalMs || this.overBounds())) {
          await this.exclusive(() => this.commit());
        }
      }
      if (this.fatal !== undefined) throw this.fatal;
      await this.exclusive(() => this.commit());
      await this.snapshots.finish(this.tasks.running());
    } finally {
      // A generator's return() waits for a pending next(), which may wait for data forever; the
      // consumer's close() ends that iteration instead.
      if (next === undefined) await iterator.return(undefined).catch(() => undefined);
    }
  }

  /** Resolves once `waitMs` passed or the thread was woken (a batch arrived, stop, failure, new tasks running). */
  private waitFor(waitMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    return new Promise<void>((resolve) => {
      timer = setTimeout(resolve, waitMs);
      this.wake = resolve;
    }).finally(() => {
      clearTimeout(timer);
      this.wake = undefined;
    });
  }

  /** When the earliest wait of a task on its empty input partitions runs out (`maxTaskIdleMs`), Infinity without one. */
  private idleDeadlineMs(): number {
    let next = Infinity;
    for (const group of this.groups.values()) next = Math.min(next, group.idleDeadlineMs);
    return next;
  }

  /** When the earliest wall-clock punctuation of a running task is due, Infinity without one. */
  private nextWallClockPunctuationMs(): number {
    let next = Infinity;
    for (const task of this.tasks.running()) next = Math.min(next, task.nextWallClockPunctuationMs);
    return next;
  }

  /** Fires the due wall-clock punctuations of each running task, once its records in flight finished. */
  private async punctuateWallClock(): Promise<void> {
    for (const task of this.tasks.running()) {
      if (task.nextWallClockPunctuationMs > Date.now()) continue;
      await task.drained();
      if (this.fatal !== undefined || !this.tasks.running().includes(task)) return;
      if (task.punctuate(PunctuationType.WALL_CLOCK_TIME, Date.now())) this.dirty = true;
    }
    this.collector.dispatch();
  }

  private overBounds(): boolean {
    for (const task of this.tasks.running()) if (task.pendingWrites >= this.config.maxPendingWritesPerTask) return true;
    return false;
  }

  private async process(batch: ConsumerBatch<Uint8Array, Uint8Array>): Promise<void> {
    const task = this.tasks.taskFor(batch.topic, batch.partition);
    if (task === undefined) {
      // Fetched before the partition was paused for its task's restore: read it again afterwards.
      const first = batch.records[0];
      if (first !== undefined && this.tasks.isRestoring(batch.topic, batch.partition)) this.consumer.seek({ topic: batch.topic, partition: batch.partition }, first.offset);
      return;
    }
    const delayMs = this.tiers.delayOf(batch.topic);
    if (delayMs !== undefined) return this.processTier(task, batch, delayMs);
    const records = batch.records;
    const last = records[records.length - 1];
    if (last !== undefined) this.metrics.task(task.id).lag = Math.max(0, batch.highWatermark - last.offset - 1);
    const group = this.groupOf(task);
    if (group !== undefined) {
      const full = group.add(batch.topic, batch.partition, records);
      await this.processBuffered(task, group);
      // Paused only when its records stay buffered (the task waits for another input): a pause
      // drops what the consumer fetched ahead, which it would otherwise fetch again.
      if (full && group.holdsTooMuch(batch.topic, batch.partition)) this.consumer.pause([{ topic: batch.topic, partition: batch.partition }]);
      return;
    }
    for (let i = 0; i < records.length; i++) {
      const accepted = this.accept(task, records[i]!);
      if (accepted !== true && !(await accepted)) return;
    }
    this.metrics.recordsIn += records.length;
    this.metrics.task(task.id).recordsProcessed += records.length;
    this.dirty = true;
    this.collector.dispatch();
  }

  /**
   * Hands one record to its task once it has room, then fires the stream-time punctuations the
   * record made due; false once the task is gone. Synchronous (true) unless it has to wait, so
   * the common path costs no promise per record.
   */
  private accept(task: Task, record: InputRecord): true | Promise<boolean> {
    if (task.isFull) return this.acceptWhenNotFull(task, record);
    task.accept(record);
    return task.streamTimePunctuationDue ? this.punctuateStreamTime(task, record) : true;
  }

  private async acceptWhenNotFull(task: Task, record: InputRecord): Promise<boolean> {
    this.collector.dispatch();
    await task.whenNotFull();
    if (this.tasks.taskFor(record.topic, record.partition) !== task) return false;
    task.accept(record);
    return task.streamTimePunctuationDue ? this.punctuateStreamTime(task, record) : true;
  }

  private async punctuateStreamTime(task: Task, record: InputRecord): Promise<boolean> {
    this.collector.dispatch();
    await task.drained();
    if (this.tasks.taskFor(record.topic, record.partition) !== task) return false;
    task.punctuate(PunctuationType.STREAM_TIME, task.streamTimeMs);
    return true;
  }

  /** The input buffers of a task with several input partitions (undefined for one: its records go straight in). */
  private groupOf(task: Task): PartitionGroup | undefined {
    let group = this.groups.get(task);
    if (group === undefined) {
      // Retry tiers are read by their due times (processTier), not merged in by timestamp.
      const topics = this.topology.subtopologies[task.id.subtopology]!.sourceTopics.map((ref) => this.layout.topicName(ref)).filter((topic) => this.tiers.delayOf(topic) === undefined);
      if (topics.length < 2) return undefined;
      group = new PartitionGroup(topics.map((topic) => ({ topic, partition: task.id.partition })), this.config.maxTaskIdleMs);
      this.groups.set(task, group);
    }
    return group;
  }

  /** Processes a task's buffered records in timestamp order for as long as it need not wait; resumes partitions it paused. */
  private async processBuffered(task: Task, group: PartitionGroup): Promise<void> {
    let accepted = 0;
    for (let next = group.next(Date.now(), this.lagOf); next !== undefined; next = group.next(Date.now(), this.lagOf)) {
      const done = this.accept(task, next.record);
      if (done !== true && !(await done)) return;
      accepted++;
    }
    const resumable = group.resumable();
    if (resumable.length > 0) this.consumer.resume(resumable);
    if (accepted === 0) return;
    this.metrics.recordsIn += accepted;
    this.metrics.task(task.id).recordsProcessed += accepted;
    this.dirty = true;
    this.collector.dispatch();
  }

  private readonly lagOf = (tp: TopicPartition): number | undefined => this.consumer.currentLag(tp);

  /** Runs the tasks whose buffered records no longer wait (their idle time ran out, or a fetch showed a partition caught up). */
  private async processAllBuffered(): Promise<void> {
    for (const [task, group] of this.groups) {
      if (!group.isEmpty && this.tasks.running().includes(task)) await this.processBuffered(task, group);
    }
  }

  /** Buffered records are dropped when tasks are rewound or suspended: the consumer reads them again from the committed offsets. */
  private clearGroups(): void {
    for (const group of this.groups.values()) group.clear();
    this.groups.clear();
    this.tiers.clear();
  }

  /**
   * A batch of a retry tier: its records go to the task in order while they are due; at the first
   * one that is not, the partition is sought back to it and paused until it is due (its later
   * records are due no earlier: one delay per tier, appended in failure order).
   */
  private async processTier(task: Task, batch: ConsumerBatch<Uint8Array, Uint8Array>, delayMs: number): Promise<void> {
    let accepted = 0;
    for (const record of batch.records) {
      const dueMs = RetryTierGate.dueMs(record.headers, delayMs);
      if (dueMs > Date.now()) {
        const tp = { topic: batch.topic, partition: batch.partition };
        this.consumer.pause([tp]);
        this.consumer.seek(tp, record.offset);
        this.tiers.hold(tp, dueMs);
        break;
      }
      const done = this.accept(task, record);
      if (done !== true && !(await done)) return;
      accepted++;
    }
    if (accepted === 0) return;
    this.metrics.recordsIn += accepted;
    this.metrics.task(task.id).recordsProcessed += accepted;
    this.dirty = true;
    this.collector.dispatch();
  }

  /** Resumes the held tier partitions now due whose task still runs here (a restoring task's partitions stay paused until its restore ends). */
  private resumeDueTiers(): void {
    const due = this.tiers.takeDue(Date.now()).filter((tp) => this.tasks.taskFor(tp.topic, tp.partition) !== undefined);
    if (due.length > 0) this.consumer.resume(due);
  }

  /** Drains every running task and flushes their stores until nothing more is in flight or held back. */
  private async drainAndFlush(tasks: readonly Task[]): Promise<void> {
    for (;;) {
      await Promise.all(tasks.map((t) => t.drained()));
      for (const task of tasks) task.prepareCommit();
      if (tasks.every((t) => t.inFlight === 0)) return;
    }
  }

  private async commit(): Promise<void> {
    this.lastCommitMs = Date.now();
    if (!this.dirty || this.fatal !== undefined) return;
    const startedMs = Date.now();
    const tasks = this.tasks.running();
    try {
      await this.drainAndFlush(tasks);
      // Drained, and no record is taken while this step runs: the positions are final.
      const offsets = tasks.flatMap((t) => t.committableOffsets());
      if (this.exactlyOnce) {
        // The offsets go into the transaction while its records are still being written, as Kafka's
        // producer sends them: they count only if the transaction commits, and EndTxn goes out
        // once both are done. Each waits for a durable write on the broker; one after the other,
        // they stalled processing twice per commit.
        const group = offsets.length > 0 ? (this.generation ?? this.consumer.groupMetadata()) : undefined;
        await settleBoth(this.collector.flush(), group === undefined ? undefined : this.producer.sendOffsets(offsets, group));
        await this.producer.commitTransaction();
        this.inTransaction = false;
      } else {
        // At-least-once: offsets are committed only once every output they cover is written.
        await this.collector.flush();
        if (offsets.length > 0) await this.consumer.commit(offsets);
      }
    } catch (error) {
      await this.recover(error);
      return;
    }
    for (const task of tasks) task.commitSucceeded((store) => this.collector.changelogEnd(this.layout.changelogTopic(store), task.id.partition));
    this.collector.reset();
    this.dirty = false;
    this.metrics.recordCommit(Date.now() - startedMs);
    this.snapshots.afterCommit(tasks);
    if (this.exactlyOnce) await this.beginTransaction();
  }

  /** Opens the next transaction; the first of a new producer (InitProducerId) waits out a broker restart. */
  private async beginTransaction(): Promise<void> {
    await retrying(() => this.producer.beginTransaction(), TRANSIENT_RETRY);
    this.inTransaction = true;
  }

  /**
   * A commit failed: back to the last committed state. The transaction is aborted (or, when the
   * producer cannot abort, replaced: the new producer's InitProducerId aborts it and fences the
   * old one), held-back writes dropped, and every running task restores and rewinds.
   */
  private async recover(error: unknown): Promise<void> {
    this.metrics.commitsFailed++;
    if (isFatal(error)) {
      this.fail(error);
      return;
    }
    await this.abortTransaction();
    for (const task of this.tasks.running()) task.commitFailed();
    this.dirty = false;
    this.clearGroups();
    this.tasks.rewindAll();
    if (this.exactlyOnce) await this.beginTransaction().catch((e: unknown) => this.fail(e));
  }

  private async abortTransaction(): Promise<void> {
    if (this.exactlyOnce && this.inTransaction) {
      try {
        await this.producer.abortTransaction();
      } catch {
        const old = this.producer;
        this.producer = this.newProducer();
        await old.close().catch(() => undefined);
      }
      this.inTransaction = false;
    }
    this.collector.reset(this.producer);
  }

  private seekTo(committed: readonly CommittedOffset[]): void {
    for (const c of committed) {
      if (c.offset >= 0) this.consumer.seek(c, c.offset);
      else this.consumer.seekToBeginning([c]);
    }
  }

  private async onRevoked(): Promise<void> {
    this.events.rebalancing();
    await this.commit();
    this.clearGroups();
    this.tasks.suspendAll();
  }

  /** The group moved on without this member: nothing may be committed; the tasks go back to their committed state. */
  private async onLost(): Promise<void> {
    this.events.rebalancing();
    await this.abortTransaction();
    for (const task of this.tasks.running()) task.commitFailed();
    this.dirty = false;
    this.clearGroups();
    this.tasks.suspendAll();
    if (this.exactlyOnce) await this.beginTransaction();
  }

  private onAssigned(): void {
    this.metrics.rebalances++;
    this.generation = this.consumer.groupMetadata();
    this.clearGroups();
    this.tasks.assign(this.assignor.assignedTasks);
  }

  /** What interactive queries read: the tasks this process holds with their states, and every host's tasks. */
  queryView(): QueryView {
    return { tasks: this.tasks.held(), hosts: this.assignor.hostTasks };
  }

  /** Asks the loop to stop after a last commit. */
  stop(): void {
    this.stopping = true;
    this.wake?.();
  }

  /** Closes the consumers (leaving the group) and the producer; the tasks are closed without committing. */
  async close(): Promise<void> {
    await this.consumer.close().catch(() => undefined);
    await this.restoreConsumer.close().catch(() => undefined);
    if (this.inTransaction) await this.producer.abortTransaction().catch(() => undefined);
    await this.producer.close().catch(() => undefined);
    await this.tasks.restoresSettled();
    this.tasks.closeAll();
  }
}

/** Waits for both (neither left running behind a failure of the other), then throws the first failure. */
async function settleBoth(first: Promise<void>, second: Promise<void> | undefined): Promise<void> {
  const [a, b] = await Promise.allSettled([first, second]);
  if (a.status === 'rejected') throw a.reason;
  if (b.status === 'rejected') throw b.reason;
}
