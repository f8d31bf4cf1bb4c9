import type { RecordHeader } from '../../sdk/record/record.ts';
import type { Serde } from '../../sdk/serde/serde.ts';
import type { StateStore } from '../state/state-store.ts';
import { openTaskStore, type StoreEnvironment } from '../state/open-task-store.ts';
import type { StoreSpec } from '../state/store-spec.ts';
import type { TaskStore } from '../state/task-store.ts';
import { actionFor, deadLetterRecord, type FailurePolicy, RecordFailureError } from '../runtime/failure-policy.ts';
import { type OutputRecord, type RecordCollector, valueBytes } from '../runtime/record-collector.ts';
import { type StreamsMetricsSnapshot, StreamsMetrics } from '../runtime/streams-metrics.ts';
import { StreamsError } from '../runtime/streams-error.ts';
import { type RecordFailure, Task } from '../runtime/task.ts';
import { GlobalStores } from '../runtime/global-stores.ts';
import { RetryTierGate } from '../runtime/retry-tier-gate.ts';
import { PunctuationType } from '../topology/punctuation.ts';
import type { Topology } from '../topology/topology.ts';
import type { TopicRef } from '../topology/topology-nodes.ts';

export interface TestDriverOptions {
  applicationId?: string;
  /** Wall-clock start, ms since the epoch (default 0); moved only by `advanceWallClockTime`. */
  wallClockMs?: number;
  failures?: FailurePolicy;
  /** Bound on records in flight per task (default 1000), as in the runtime. */
  maxInFlightRecords?: number;
  /** Opens each task's stores; default: the state layer's `openTaskStore`, as in production. */
  openStore?: (spec: StoreSpec, env: StoreEnvironment) => TaskStore;
}

/** A record read back from an output topic, deserialized. */
export interface TestRecord<K, V> {
  key: K;
  value: V;
  timestamp: number;
  headers: readonly RecordHeader[];
}

/**
 * Runs a topology without a broker: one task per sub-topology (partition 0), records piped in
 * one at a time, each processed to the end (its asynchronous stages awaited, its repartitioned
 * records processed downstream, the stream-time punctuations it made due fired) and committed
 * before `pipe` resolves, so a test never races its own topology. Wall-clock punctuations fire
 * from `advanceWallClockTime`. The tasks, operators and stores are the runtime's own. Records
 * moved to a retry tier are read back once the wall clock reaches their due time (a pipe or
 * `advanceWallClockTime` past it), in the order they were moved.
 */
export class TopologyTestDriver {
  readonly applicationId: string;
  private readonly tasks: Task[] = [];
  private readonly taskByTopic = new Map<string, Task>();
  private readonly outputs = new Map<string, OutputRecord[]>();
  private readonly offsets = new Map<string, number>();
  private readonly internalQueue: OutputRecord[] = [];
  private readonly failures: FailurePolicy;
  private readonly counters: StreamsMetrics;
  private readonly internalTopics: ReadonlySet<string>;
  /** Retry tier topics → their delays, and the records moved to them not read back yet, in the order they were moved. */
  private readonly retryDelays: ReadonlyMap<string, number>;
  private retrying: { record: OutputRecord; dueMs: number }[] = [];
  private fatal: RecordFailureError | StreamsError | undefined;
  private readonly globals: GlobalStores;
  private wallClockMs: number;
  private piping: Promise<void> = Promise.resolve();
  /** Steps (pipes, clock advances) started and not finished: a step starts at once only when none is. */
  private pendingSteps = 0;

  constructor(topology: Topology, options: TestDriverOptions = {}) {
    this.applicationId = options.applicationId ?? 'test-driver';
    this.wallClockMs = options.wallClockMs ?? 0;
    this.failures = options.failures ?? {};
    this.counters = new StreamsMetrics(this.applicationId);
    const openStore = options.openStore ?? openTaskStore;
    const collector: RecordCollector = {
      send: (record) => this.collect(record),
      partitionCount: () => 1,
    };
    this.internalTopics = new Set([...topology.repartitionTopics.keys()].map((name) => this.topicName({ name, internal: true })));
    this.retryDelays = new Map([...topology.repartitionTopics.values()].flatMap((spec) => (spec.retry === undefined ? [] : [[this.topicName({ name: spec.name, internal: true }), spec.retry.delayMs] as const])));
    this.globals = new GlobalStores(topology.globalStores.values(), this.failures, () => this.counters.recordsSkipped++);
    for (const subtopology of topology.subtopologies) {
      const task: Task = new Task(
        { subtopology: subtopology.id, partition: 0 },
        subtopology,
        (name) => topology.childrenOf(name),
        {
          applicationId: this.applicationId,
          collector,
          topicName: (ref) => this.topicName(ref),
          openStore: (spec, taskId) =>
            openStore(spec, {
              partition: taskId.partition,
              writeChangelog: (record) => this.collect({ ...record, topic: `${this.applicationId}-${spec.name}-changelog`, partition: taskId.partition }),
              changelogTimestampMs: () => Math.max(0, task.streamTimeMs),
            }),
          globalStore: (name) => this.globals.store(name),
          onFailure: (failure) => this.onFailure(failure),
          nowMs: () => this.wallClockMs,
        },
        { maxInFlightRecords: options.maxInFlightRecords ?? 1000 },
      );
      task.initialize();
      this.tasks.push(task);
      this.counters.task(task.id);
      for (const ref of subtopology.sourceTopics) this.taskByTopic.set(this.topicName(ref), task);
    }
  }

  private topicName(ref: TopicRef): string {
    return ref.internal ? `${this.applicationId}-${ref.name}` : ref.name;
  }

  private collect(record: OutputRecord): void {
    const delayMs = this.retryDelays.get(record.topic);
    if (delayMs !== undefined) {
      this.retrying.push({ record, dueMs: RetryTierGate.dueMs(record.headers, delayMs) });
      return;
    }
    if (this.internalTopics.has(record.topic)) {
      this.internalQueue.push(record);
      return;
    }
    const list = this.outputs.get(record.topic) ?? [];
    list.push(record);
    this.outputs.set(record.topic, list);
  }

  private onFailure(failure: RecordFailure): void {
    if (failure.kind === 'late') this.counters.task(failure.taskId).lateRecordsDropped++;
    if (failure.error instanceof StreamsError) {
      this.fatal ??= failure.error;
      return;
    }
    const action = actionFor(this.failures, failure);
    if (action === 'dlq') {
      this.collect(deadLetterRecord(this.applicationId, failure));
      this.counters.recordsDeadLettered++;
    } else if (action === 'skip') {
      this.counters.recordsSkipped++;
    } else if (action === 'fail') {
      this.fatal ??= new RecordFailureError(failure);
    }
  }

  /** The figures the runtime would report for failed and late records (dead-lettered, skipped, late per task). */
  metrics(): StreamsMetricsSnapshot {
    return this.counters.snapshot();
  }

  /**
   * Processes one record of `topic` to the end (and everything it sends through repartition
   * topics), then commits. Rejects with the failure when a record fails under the 'fail' policy.
   */
  pipe(topic: string, key: Uint8Array | null, value: Uint8Array | null, options: { timestamp?: number; headers?: readonly RecordHeader[] } = {}): Promise<void> {
    return this.step(() => this.process(topic, key, value, options.timestamp ?? this.wallClockMs, options.headers ?? []));
  }

  /** Runs `step` after the steps before it, or at once (synchronously up to its first wait) when there are none. */
  private step(step: () => Promise<void>): Promise<void> {
    const run = this.pendingSteps === 0 ? step() : this.piping.then(step);
    this.pendingSteps++;
    const finished = (): void => {
      this.pendingSteps--;
    };
    this.piping = run.then(finished, finished);
    return run;
  }

  private async process(topic: string, key: Uint8Array | null, value: Uint8Array | null, timestamp: number, headers: readonly RecordHeader[]): Promise<void> {
    if (this.fatal !== undefined) throw this.fatal;
    if (this.globals.reads(topic)) {
      // A global table's topic updates the table at once; later records of any topic see the change.
      const offset = this.offsets.get(topic) ?? 0;
      this.offsets.set(topic, offset + 1);
      this.globals.apply({ topic, partition: 0, offset, key, value });
      return;
    }
    this.feed(topic, key, value, timestamp, headers);
    await this.complete();
  }

  /** Processes everything started to the end (repartitioned records, stream-time punctuations), then commits. */
  private async complete(): Promise<void> {
    for (;;) {
      await Promise.all(this.tasks.map((t) => t.drained()));
      if (this.tasks.some((t) => t.punctuate(PunctuationType.STREAM_TIME, t.streamTimeMs))) continue;
      const next = this.internalQueue.shift();
      if (next !== undefined) {
        this.feed(next.topic, next.key, valueBytes(next.value), next.timestamp, next.headers);
        continue;
      }
      const due = this.retrying.filter((r) => r.dueMs <= this.wallClockMs);
      if (due.length > 0) {
        this.retrying = this.retrying.filter((r) => r.dueMs > this.wallClockMs);
        for (const { record } of due) this.feed(record.topic, record.key, valueBytes(record.value), record.timestamp, record.headers);
        continue;
      }
      for (const task of this.tasks) task.prepareCommit();
      if (this.internalQueue.length > 0 || this.tasks.some((t) => t.inFlight > 0)) continue;
      for (const task of this.tasks) task.commitSucceeded();
      break;
    }
    if (this.fatal !== undefined) throw this.fatal;
  }

  private feed(topic: string, key: Uint8Array | null, value: Uint8Array | null, timestamp: number, headers: readonly RecordHeader[]): void {
    const task = this.taskByTopic.get(topic);
    if (task === undefined) throw new Error(`no source of the topology reads "${topic}"`);
    const offset = this.offsets.get(topic) ?? 0;
    this.offsets.set(topic, offset + 1);
    task.accept({ topic, partition: 0, offset, timestamp, key, value, headers });
  }

  /** A typed handle to pipe records into `topic` with serdes. */
  inputTopic<K, V>(topic: string, serdes: { key?: Serde<K>; value?: Serde<V> } = {}): TestInputTopic<K, V> {
    return new TestInputTopic(this, topic, serdes);
  }

  /** A typed handle to read what the topology wrote to `topic`. */
  outputTopic<K, V>(topic: string, serdes: { key?: Serde<K>; value?: Serde<V> } = {}): TestOutputTopic<K, V> {
    return new TestOutputTopic(() => {
      const list = this.outputs.get(topic) ?? [];
      this.outputs.set(topic, []);
      return list;
    }, serdes);
  }

  /** The store named `name` of the task that owns it, or the global store of that name. */
  store<S extends StateStore>(name: string): S {
    const global = this.globals.store(name);
    if (global !== undefined) return global as unknown as S;
    for (const task of this.tasks) {
      try {
        return task.store(name) as S;
      } catch {
        // Not this task's store; the next task may own it.
      }
    }
    throw new Error(`no task of the topology has a store named "${name}"`);
  }

  /**
   * Moves the wall clock on by `ms` (after the steps before it) and fires the wall-clock
   * punctuations now due, each once, as Kafka Streams' driver does: synchronously when no pipe is
   * pending. Resolves once their work is processed and committed; rejects as `pipe` does.
   */
  advanceWallClockTime(ms: number): Promise<void> {
    if (!Number.isFinite(ms) || ms < 0) throw new Error(`the wall clock only moves forward, got ${ms} ms`);
    return this.step(async () => {
      if (this.fatal !== undefined) throw this.fatal;
      this.wallClockMs += ms;
      for (const task of this.tasks) task.punctuate(PunctuationType.WALL_CLOCK_TIME, this.wallClockMs);
      await this.complete();
    });
  }

  close(): void {
    for (const task of this.tasks) task.close();
  }
}

function serializeOrNull<T>(serde: Serde<T> | undefined, value: T): Uint8Array | null {
  if (value === null || value === undefined) return null;
  if (serde === undefined) {
    if (value instanceof Uint8Array) return value;
    throw new Error('pass a serde for values that are not bytes');
  }
  return serde.serialize(value);
}

export class TestInputTopic<K, V> {
  constructor(
    private readonly driver: TopologyTestDriver,
    private readonly topic: string,
    private readonly serdes: { key?: Serde<K>; value?: Serde<V> },
  ) {}

  pipe(key: K, value: V, options: { timestamp?: number; headers?: readonly RecordHeader[] } = {}): Promise<void> {
    return this.driver.pipe(this.topic, serializeOrNull(this.serdes.key, key), serializeOrNull(this.serdes.value, value), options);
  }

  /** Pipes each pair in order, awaiting each. */
  async pipeAll(pairs: Iterable<readonly [K, V]>, options: { timestamp?: number } = {}): Promise<void> {
    for (const [key, value] of pairs) await this.pipe(key, value, options);
  }
}

export class TestOutputTopic<K, V> {
  constructor(
    private readonly take: () => OutputRecord[],
    private readonly serdes: { key?: Serde<K>; value?: Serde<V> },
  ) {}

  private decode<T>(serde: Serde<T> | undefined, bytes: Uint8Array | null): T {
    if (bytes === null) return null as T;
    return serde === undefined ? (bytes as T) : serde.deserialize(bytes);
  }

  /** Every record written since the last read, in order. */
  readRecords(): TestRecord<K, V>[] {
    return this.take().map((r) => ({ key: this.decode(this.serdes.key, r.key), value: this.decode(this.serdes.value, valueBytes(r.value)), timestamp: r.timestamp, headers: r.headers }));
  }

  readKeyValues(): [K, V][] {
    return this.readRecords().map((r) => [r.key, r.value]);
  }

  readValues(): V[] {
    return this.readRecords().map((r) => r.value);
  }
}
