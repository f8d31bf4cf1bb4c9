import type { ConsumerRecord } from '../../sdk/client/consumer/consumer-types.ts';
import type { Serde } from '../../sdk/serde/serde.ts';
import type { StateStore } from '../state/state-store.ts';
import type { TaskStore } from '../state/task-store.ts';
import { acceptsNull } from '../topology/nullable-serde.ts';
import { isPromiseLike, type Processor, type TaskId } from '../topology/processor.ts';
import { PunctuationType, type PunctuationTypeValue } from '../topology/punctuation.ts';
import { StreamRecord } from '../topology/stream-record.ts';
import type { Subtopology } from '../topology/topology.ts';
import type { StoreSpec } from '../state/store-spec.ts';
import type { TopicRef } from '../topology/topology-nodes.ts';
import { Job, laneOf } from './job.ts';
import { NodeRunner, type NodeEnvironment } from './node-runner.ts';
import type { RecordCollector } from './record-collector.ts';
import { PunctuationQueue } from './punctuation-queue.ts';
import { sinkProcessor } from './sink-processor.ts';
import { encodeStreamTime } from './stream-time-metadata.ts';
import { StreamsError } from './streams-error.ts';

/** An input record as the consumer hands it over: bytes, deserialized by the task's source. */
export type InputRecord = ConsumerRecord<Uint8Array, Uint8Array>;

/** An input record the task could not process: its bytes are still in the job, for the dead-letter topic. */
export interface RecordFailure {
  /** 'late': not a failure of the record but a drop (its windows closed), routed the same way so the policy can dead-letter it. */
  readonly kind: 'deserialization' | 'processing' | 'late';
  readonly taskId: TaskId;
  readonly job: Job;
  readonly error: unknown;
  /** Set when a punctuator failed (its job then stands for no input record). */
  readonly punctuation?: PunctuationOrigin;
}

/** Which punctuation a failure comes from. */
export interface PunctuationOrigin {
  readonly node: string;
  readonly type: PunctuationTypeValue;
  readonly timestampMs: number;
}

/** What a task needs from whoever runs it (the runtime, or the test driver). */
export interface TaskHost {
  readonly applicationId: string;
  readonly collector: RecordCollector;
  /** The full name of a topic the topology refers to (internal ones get the application id prefix). */
  topicName(ref: TopicRef): string;
  /** This task's instance of a store, at its committed state. */
  openStore(spec: StoreSpec, taskId: TaskId): TaskStore;
  /** The process's global store named `name` (shared by every task), if the topology has one. */
  globalStore?(name: string): StateStore | undefined;
  /** Reports a record that failed; the host writes it to the dead-letter topic, counts it, or stops. */
  onFailure(failure: RecordFailure): void;
  nowMs(): number;
}

export interface TaskOptions {
  /** Bound on input records accepted and not finished (in flight or waiting behind their key). */
  maxInFlightRecords: number;
}

const passThrough: Processor<unknown, unknown, unknown, unknown> = { process: () => undefined };

/**
 * One sub-topology working on one partition number of its input topics. Records are processed
 * synchronously while every operator answers synchronously; an operator that returns a promise
 * makes its input record "in flight": later records with the same key wait behind it, records
 * with other keys go on, up to `maxInFlightRecords`. `drained()` resolves when nothing is in flight,
 * which is when a commit may take the task's positions and stores.
 */
export class Task {
  private readonly sources = new Map<string, { runner: NodeRunner; keySerde: Serde<unknown>; valueSerde: Serde<unknown> }>();
  private readonly runners: NodeRunner[] = [];
  private readonly stores = new Map<string, TaskStore>();
  /** Keys with a record in flight → records of that key waiting, in input order. */
  private readonly busyLanes = new Map<string, QueuedRecord[]>();
  private unfinished = 0;
  private detached = 0;
  private idleWaiters: (() => void)[] = [];
  private roomWaiters: (() => void)[] = [];
  /** Next offset to commit per input topic-partition (`topic\0partition`). */
  private readonly positions = new Map<string, { topic: string; partition: number; offset: number }>();
  /** The entry of `positions` the last record moved (undefined after `positions` is cleared). */
  private lastPosition: { readonly topic: string; readonly partition: number; offset: number } | undefined;
  private streamTime = -1;
  private committedStreamTime = -1;
  private readonly punctuations = new PunctuationQueue();
  /** The punctuator running now, and the last one fired while its work is in flight (failures are blamed on them). */
  private firing: PunctuationOrigin | undefined;
  private lastFired: PunctuationOrigin | undefined;
  private closed = false;
  private initialized = false;
  /** One callback for every job (not a closure per record). */
  private readonly onSettled = (job: Job): void => this.settled(job);

  constructor(
    readonly id: TaskId,
    subtopology: Subtopology,
    childrenOf: (name: string) => readonly string[],
    private readonly host: TaskHost,
    private readonly options: TaskOptions,
  ) {
    const env: NodeEnvironment = {
      applicationId: host.applicationId,
      taskId: id,
      store: (name) => this.store(name),
      globalStore: (name) => host.globalStore?.(name),
      streamTimeMs: () => this.streamTime,
      nowMs: () => host.nowMs(),
      trackDetached: (work) => this.trackDetached(work),
      lateRecord: (record, reason) => {
        const job = record.metadata instanceof Job ? record.metadata : detachedJob(id, record.timestamp, new Error(reason));
        this.host.onFailure({ kind: 'late', taskId: id, job, error: new Error(reason) });
      },
      schedule: (node, intervalMs, type, punctuator) => {
        if (this.closed) throw new Error(`processor "${node}" scheduled a punctuation on a closed task`);
        return this.punctuations.add(node, intervalMs, type, punctuator, host.nowMs());
      },
    };
    for (const spec of subtopology.stores) this.stores.set(spec.name, host.openStore(spec, id));
    const byName = new Map<string, NodeRunner>();
    for (const node of subtopology.nodes) {
      let runner: NodeRunner;
      if (node.kind === 'source') {
        runner = new NodeRunner(node.name, passThrough, [], env);
        for (const topic of node.topics) this.sources.set(host.topicName(topic), { runner, keySerde: node.keySerde, valueSerde: node.valueSerde });
      } else if (node.kind === 'sink') {
        runner = new NodeRunner(node.name, sinkProcessor(node, host.collector, (ref) => host.topicName(ref)), [], env);
      } else {
        runner = new NodeRunner(node.name, node.supplier(), node.stores, env);
      }
      byName.set(node.name, runner);
      this.runners.push(runner);
    }
    for (const runner of this.runners) for (const child of childrenOf(runner.name)) runner.children.push(byName.get(child)!);
  }

  /**
   * Runs the processors' `init()`, once, after the stores were restored (as Kafka Streams does), so
   * a processor that reads its stores in `init()` sees their committed contents. The task manager
   * calls it when the task's restore finished; a task driven directly (unit tests) initializes at
   * its first record at the latest.
   */
  initialize(): void {
    if (this.initialized) return;
    this.initialized = true;
    for (const runner of this.runners) runner.init();
  }

  /** The largest timestamp among the records accepted so far, -1 before the first. */
  get streamTimeMs(): number {
    return this.streamTime;
  }

  /** Input records accepted and not finished, plus work that descends from no input record (punctuations', flushes'). */
  get inFlight(): number {
    return this.unfinished + this.detached;
  }

  /** No room for another input record: the bound is reached, or a punctuation's work is in flight (it is a barrier). */
  get isFull(): boolean {
    return this.unfinished >= this.options.maxInFlightRecords || this.detached > 0;
  }

  /** Writes held back in the task's stores since the last commit. */
  get pendingWrites(): number {
    let total = 0;
    for (const s of this.stores.values()) total += s.pendingWrites;
    return total;
  }

  store(name: string): StateStore {
    const store = this.stores.get(name);
    if (store === undefined) throw new Error(`task ${this.id.subtopology}_${this.id.partition} has no store named "${name}"`);
    return store.store;
  }

  /** The runtime's handle of one of the task's stores (restore, snapshots, commits). */
  taskStore(name: string): TaskStore {
    const store = this.stores.get(name);
    if (store === undefined) throw new Error(`invariant: task ${this.id.subtopology}_${this.id.partition} has no store named "${name}"`);
    return store;
  }

  /** Every store of the task with its name. */
  taskStores(): ReadonlyMap<string, TaskStore> {
    return this.stores;
  }

  /** Takes one input record (of a topic this task's sources read); returns once it is started or queued behind its key. */
  accept(input: InputRecord): void {
    if (this.closed) throw new Error('invariant: a record reached a closed task');
    if (!this.initialized) this.initialize();
    const source = this.sources.get(input.topic);
    if (source === undefined) throw new Error(`invariant: task ${this.id.subtopology}_${this.id.partition} reads no topic "${input.topic}"`);
    this.advancePosition(input);
    if (input.timestamp > this.streamTime) this.streamTime = input.timestamp;
    const job = new Job(input.topic, input.partition, input.offset, input.timestamp, input.key, input.value, input.headers, this.onSettled);
    job.streamTimeMs = this.streamTime;
    let record: StreamRecord<unknown, unknown>;
    try {
      const key = deserialize(source.keySerde, input.key, 'key');
      record = new StreamRecord(key, deserialize(source.valueSerde, input.value, 'value'), input.timestamp, input.headers, job);
      job.key = key;
      job.keySerde = source.keySerde;
    } catch (error) {
      this.host.onFailure({ kind: 'deserialization', taskId: this.id, job, error });
      return;
    }
    this.unfinished++;
    if (this.busyLanes.size > 0) {
      job.lane = laneOf(input.key);
      const waiting = this.busyLanes.get(job.lane);
      if (waiting !== undefined) {
        waiting.push({ job, runner: source.runner, record });
        return;
      }
    }
    this.run(job, source.runner, record);
  }

  /**
   * Moves the input partition's next offset past `input`. Consecutive records almost always come
   * from the same partition, so its entry is kept at hand and updated in place instead of a key
   * string and an entry object per record (`committableOffsets` copies the entries).
   */
  private advancePosition(input: InputRecord): void {
    let position = this.lastPosition;
    if (position === undefined || position.topic !== input.topic || position.partition !== input.partition) {
      const key = `${input.topic}\u0000${input.partition}`;
      position = this.positions.get(key);
      if (position === undefined) {
        position = { topic: input.topic, partition: input.partition, offset: input.offset + 1 };
        this.positions.set(key, position);
      }
      this.lastPosition = position;
    }
    position.offset = input.offset + 1;
  }

  private run(job: Job, runner: NodeRunner, record: StreamRecord<unknown, unknown>): void {
    try {
      runner.forward(record);
    } catch (error) {
      job.fail(error);
    }
    if (job.pending > 0) {
      job.lane ??= laneOf(job.rawKey);
      if (!this.busyLanes.has(job.lane)) this.busyLanes.set(job.lane, []);
      job.holdsLane = true;
    }
    job.started();
  }

  private settled(job: Job): void {
    if (job.failed) this.host.onFailure({ kind: 'processing', taskId: this.id, job, error: job.error });
    this.unfinished--;
    if (job.holdsLane) this.startWaiting(job.lane!);
    this.wakeWaiters();
  }

  /** Runs the records queued behind a key until one of them goes asynchronous (it then holds the lane). */
  private startWaiting(lane: string): void {
    const waiting = this.busyLanes.get(lane)!;
    for (let next = waiting.shift(); next !== undefined; next = waiting.shift()) {
      this.run(next.job, next.runner, next.record);
      if (next.job.holdsLane) return;
    }
    this.busyLanes.delete(lane);
  }

  private trackDetached(work: PromiseLike<unknown>): void {
    const punctuation = this.firing ?? this.lastFired;
    this.detached++;
    const done = (): void => {
      if (--this.detached === 0) this.lastFired = undefined;
      this.wakeWaiters();
    };
    work.then(done, (error: unknown) => {
      done();
      this.failDetached(error, punctuation);
    });
  }

  private failDetached(error: unknown, punctuation: PunctuationOrigin | undefined): void {
    const job = detachedJob(this.id, punctuation?.timestampMs ?? -1, error);
    this.host.onFailure(punctuation === undefined ? { kind: 'processing', taskId: this.id, job, error } : { kind: 'processing', taskId: this.id, job, error, punctuation });
  }

  /** Whether a record moved stream time to a stream-time schedule's due time. */
  get streamTimePunctuationDue(): boolean {
    return this.punctuations.nextDueMs(PunctuationType.STREAM_TIME) <= this.streamTime;
  }

  /** When the earliest wall-clock schedule is due, Infinity without one. */
  get nextWallClockPunctuationMs(): number {
    return this.punctuations.nextDueMs(PunctuationType.WALL_CLOCK_TIME);
  }

  /**
   * Fires the schedules of `type` due at `timestampMs` (the stream time, or the wall clock), each
   * once; returns whether any fired. Needs a drained task, so a punctuator sees the effects of
   * every record before it; its asynchronous work then keeps the task full until it finished.
   */
  punctuate(type: PunctuationTypeValue, timestampMs: number): boolean {
    if (this.closed || this.punctuations.nextDueMs(type) > timestampMs) return false;
    if (this.inFlight > 0) throw new Error('invariant: a task punctuates only when drained');
    const due = this.punctuations.takeDue(type, timestampMs);
    for (const schedule of due) {
      if (schedule.cancelled) continue;
      const origin: PunctuationOrigin = { node: schedule.node, type, timestampMs };
      this.firing = origin;
      this.lastFired = origin;
      try {
        const result = schedule.punctuator(timestampMs);
        if (isPromiseLike(result)) this.trackDetached(result);
      } catch (error) {
        this.failDetached(error, origin);
      } finally {
        this.firing = undefined;
      }
    }
    if (this.detached === 0) this.lastFired = undefined;
    return true;
  }

  private wakeWaiters(): void {
    if (!this.isFull && this.roomWaiters.length > 0) for (const wake of this.roomWaiters.splice(0)) wake();
    if (this.inFlight === 0 && this.idleWaiters.length > 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  /** Resolves once the task may take another record. */
  whenNotFull(): Promise<void> {
    if (!this.isFull) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /** Resolves once no record is in flight or waiting. */
  drained(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Next offsets to commit for the input partitions this task has read from, each with the task's stream time as its metadata. */
  committableOffsets(): { topic: string; partition: number; offset: number; metadata: string }[] {
    const metadata = encodeStreamTime(this.streamTime);
    return [...this.positions.values()].map((p) => ({ ...p, metadata }));
  }

  /**
   * A task new to this process resumes the stream time it committed (read from its committed
   * offsets' metadata), unless it already saw later records.
   */
  resumeStreamTime(committedStreamTimeMs: number): void {
    if (committedStreamTimeMs <= this.committedStreamTime) return;
    this.committedStreamTime = committedStreamTimeMs;
    if (committedStreamTimeMs > this.streamTime) this.streamTime = committedStreamTimeMs;
  }

  /** Flushes the stores' held-back writes to their changelogs (and cached tables downstream). Needs a drained task. */
  prepareCommit(): void {
    if (this.inFlight > 0) throw new Error('invariant: a task is committed only when drained');
    for (const [name, store] of this.stores) {
      try {
        store.prepareCommit();
      } catch (error) {
        if (error instanceof StreamsError) throw error;
        throw new FlushFailureError(this.id, name, error);
      }
    }
  }

  /** The commit holding the stores' flushed writes succeeded; `changelogEnd` gives each store's new changelog offset. */
  commitSucceeded(changelogEnd: (store: string) => number | undefined = () => undefined): void {
    for (const [name, store] of this.stores) store.commit(changelogEnd(name));
    this.committedStreamTime = this.streamTime;
    this.punctuations.commit();
  }

  /** Back to the last committed state: stores drop their writes, positions are forgotten (the caller rewinds the consumer). */
  commitFailed(): void {
    for (const store of this.stores.values()) store.abort();
    this.positions.clear();
    this.lastPosition = undefined;
    this.streamTime = this.committedStreamTime;
    this.punctuations.rollback();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.punctuations.cancelAll();
    for (const runner of this.runners) runner.close();
    for (const store of this.stores.values()) store.close();
  }
}

/**
 * A store's flush failed: a table forwarding its changes at commit ran code that threw. No input
 * record is to blame (the change gathers many), and replaying would fail the same way, so it
 * stops the application.
 */
export class FlushFailureError extends Error {
  override readonly name = 'FlushFailureError';

  constructor(taskId: TaskId, store: string, cause: unknown) {
    super(`task ${taskId.subtopology}_${taskId.partition}: flushing store "${store}" at commit failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** A record waiting behind an in-flight record with the same key. */
interface QueuedRecord {
  job: Job;
  runner: NodeRunner;
  record: StreamRecord<unknown, unknown>;
}

function deserialize(serde: Serde<unknown>, bytes: Uint8Array | null, what: 'key' | 'value'): unknown {
  if (bytes === null) {
    if (acceptsNull(serde)) return null;
    throw new Error(`the record has a null ${what}, and the source's ${what} serde does not accept null (use nullable(serde))`);
  }
  return serde.deserialize(bytes);
}

/** The job a failure of work with no input record stands on (a punctuation's, a cache flush's). */
function detachedJob(taskId: TaskId, timestamp: number, error: unknown): Job {
  const job = new Job('', taskId.partition, -1, timestamp, null, null, [], () => undefined);
  job.fail(error);
  return job;
}
