import { type TopicPartition, tpKey } from '../../sdk/client/consumer/consumer-types.ts';
import { type TaskId, taskIdText } from '../topology/processor.ts';
import type { Topology } from '../topology/topology.ts';
import type { RestoreProgress, RestoreTarget } from './changelog-restorer.ts';
import type { TopologyLayout } from './internal-topics.ts';
import type { StreamsMetrics } from './streams-metrics.ts';
import { retrying } from '../../sdk/client/retry.ts';
import { TRANSIENT_RETRY } from './transient-retry.ts';
import { decodeStreamTime } from './stream-time-metadata.ts';
import { Task, type TaskHost, type TaskOptions } from './task.ts';
import type { HeldTask } from '../query/query-view.ts';

/** What the task manager needs from the thread: the consumer's flow control, restores and snapshots. */
export interface TaskManagerHost {
  pause(partitions: TopicPartition[]): void;
  resume(partitions: TopicPartition[]): void;
  /** The group's committed offsets of these partitions (-1: none) with their metadata. */
  committed(partitions: TopicPartition[]): Promise<CommittedOffset[]>;
  /** Moves the consumer to these committed offsets (after a failed commit); -1 means the beginning. */
  seekTo(committed: readonly CommittedOffset[]): void;
  /** Loads a new task's stores from their newest valid snapshots, if any. */
  loadSnapshots(task: Task, taskId: TaskId): Promise<void>;
  restore(targets: readonly RestoreTarget[], onProgress: (p: RestoreProgress) => void, signal: AbortSignal): Promise<void>;
  /** A task's restore failed: the thread decides (retry after a rebalance, or stop). */
  onRestoreFailed(error: unknown): void;
  /** Every assigned task is running. */
  onAllRunning(): void;
}

interface ManagedTask {
  readonly id: TaskId;
  readonly task: Task;
  readonly partitions: TopicPartition[];
  /** Changelog partition per logged store. */
  readonly changelogs: { store: string; topic: string; partition: number }[];
  state: 'restoring' | 'running' | 'suspended';
  /** Rewind the inputs to the committed offsets before running (after a failed commit). */
  rewind: boolean;
  /** Its stores were loaded from their snapshots (done once, when the task is new to this process). */
  snapshotsLoaded: boolean;
  /** It resumed the stream time committed with its offsets (done once, when the task is new to this process). */
  streamTimeResumed: boolean;
}

export type CommittedOffset = TopicPartition & { offset: number; metadata: string | null };

/**
 * The tasks of this process: created or resumed as the group assigns them, restored (stores
 * caught up with their changelogs) one after another while their input partitions are paused,
 * then run; suspended when the group takes partitions away (kept, so getting them back costs no
 * restore), and closed when a rebalance hands them to another process.
 */
export class TaskManager {
  private readonly tasks = new Map<string, ManagedTask>();
  private readonly byPartition = new Map<string, Task>();
  private restoreQueue: Promise<void> = Promise.resolve();
  private restoreAbort = new AbortController();

  constructor(
    private readonly topology: Topology,
    private readonly layout: TopologyLayout,
    private readonly taskHost: (id: TaskId, streamTimeMs: () => number) => TaskHost,
    private readonly taskOptions: TaskOptions,
    private readonly metrics: StreamsMetrics,
    private readonly host: TaskManagerHost,
  ) {}

  /** The running task reading this partition. */
  taskFor(topic: string, partition: number): Task | undefined {
    return this.byPartition.get(tpKey(topic, partition));
  }

  /** Whether the partition belongs to a task that is restoring (its records must be read again later). */
  isRestoring(topic: string, partition: number): boolean {
    for (const m of this.tasks.values()) if (m.state === 'restoring' && m.partitions.some((p) => p.topic === topic && p.partition === partition)) return true;
    return false;
  }

  running(): Task[] {
    return [...this.tasks.values()].filter((m) => m.state === 'running').map((m) => m.task);
  }

  /** Every task held, with its state and its store of each name, for interactive queries. */
  held(): HeldTask[] {
    return [...this.tasks.values()].map((m) => ({ id: m.id, state: m.state, store: (name: string) => m.task.taskStores().get(name)?.store }));
  }

  /** Tasks held (running, restoring or suspended), for the assignor's stickiness. */
  owned(): TaskId[] {
    return [...this.tasks.values()].map((m) => m.id);
  }

  /** Suspends every task (a revocation or a lost membership): no routing, no restore in progress. */
  suspendAll(): void {
    this.restoreAbort.abort();
    this.restoreAbort = new AbortController();
    this.byPartition.clear();
    for (const m of this.tasks.values()) m.state = 'suspended';
  }

  /** The group's new assignment: resume or create these tasks and restore them; close the rest. */
  assign(ids: readonly TaskId[]): void {
    const wanted = new Map(ids.map((id) => [taskIdText(id), id]));
    for (const [key, m] of this.tasks) {
      if (wanted.has(key)) continue;
      m.task.close();
      this.tasks.delete(key);
      this.metrics.removeTask(m.id);
    }
    for (const [key, id] of wanted) {
      let m = this.tasks.get(key);
      if (m === undefined) {
        m = this.create(id);
        this.tasks.set(key, m);
      }
      m.state = 'restoring';
      this.host.pause(m.partitions);
      this.scheduleRestore(m);
    }
    if (wanted.size === 0) this.host.onAllRunning();
  }

  private create(id: TaskId): ManagedTask {
    const subtopology = this.topology.subtopologies[id.subtopology];
    if (subtopology === undefined) throw new Error(`invariant: the assignment names sub-topology ${id.subtopology}, which the topology lacks`);
    const task: Task = new Task(id, subtopology, (name) => this.topology.childrenOf(name), this.taskHost(id, () => task.streamTimeMs), this.taskOptions);
    const m: ManagedTask = {
      id,
      task,
      partitions: subtopology.sourceTopics.map((ref) => ({ topic: this.layout.topicName(ref), partition: id.partition })),
      changelogs: subtopology.stores.filter((s) => s.logged).map((s) => ({ store: s.name, topic: this.layout.changelogTopic(s.name), partition: id.partition })),
      state: 'restoring',
      rewind: false,
      snapshotsLoaded: false,
      streamTimeResumed: false,
    };
    return m;
  }

  /**
   * After a failed commit: every running task goes back to its last committed state (the caller
   * already dropped their held-back writes) and restores, then reads its inputs again from the
   * committed offsets.
   */
  rewindAll(): void {
    this.restoreAbort.abort();
    this.restoreAbort = new AbortController();
    this.byPartition.clear();
    for (const m of this.tasks.values()) {
      if (m.state === 'suspended') continue;
      m.state = 'restoring';
      m.rewind = true;
      this.host.pause(m.partitions);
      this.scheduleRestore(m);
    }
  }

  private scheduleRestore(m: ManagedTask): void {
    const signal = this.restoreAbort.signal;
    this.restoreQueue = this.restoreQueue.then(async () => {
      if (signal.aborted || m.state !== 'restoring') return;
      try {
        // A broker restarting or a leader moving is waited out; only a lasting error fails the restore.
        await retrying(async () => {
          if (!m.snapshotsLoaded) {
            await this.host.loadSnapshots(m.task, m.id);
            m.snapshotsLoaded = true;
          }
          const metrics = this.metrics.task(m.id);
          const targets = m.changelogs.map((c) => ({ topic: c.topic, partition: c.partition, store: m.task.taskStore(c.store) }));
          await this.host.restore(
            targets,
            (p) => {
              metrics.restoredRecords = p.replayed;
              metrics.restoreRemaining = p.remaining;
            },
            signal,
          );
          metrics.restoreRemaining = 0;
          if (signal.aborted || m.state !== 'restoring') return;
          if (m.rewind || !m.streamTimeResumed) {
            const committed = await this.host.committed(m.partitions);
            if (!m.streamTimeResumed) {
              m.task.resumeStreamTime(Math.max(-1, ...committed.map((c) => decodeStreamTime(c.metadata) ?? -1)));
              m.streamTimeResumed = true;
            }
            if (m.rewind) {
              this.host.seekTo(committed);
              m.rewind = false;
            }
          }
        }, { ...TRANSIENT_RETRY, signal });
        if (signal.aborted || m.state !== 'restoring') return;
        m.state = 'running';
        m.task.initialize();
        for (const p of m.partitions) this.byPartition.set(tpKey(p.topic, p.partition), m.task);
        this.host.resume(m.partitions);
        if ([...this.tasks.values()].every((t) => t.state === 'running')) this.host.onAllRunning();
      } catch (error) {
        if (!signal.aborted) this.host.onRestoreFailed(error);
      }
    });
  }

  /** Waits for the restores scheduled so far (tests, shutdown). */
  restoresSettled(): Promise<void> {
    return this.restoreQueue;
  }

  closeAll(): void {
    this.suspendAll();
    for (const m of this.tasks.values()) m.task.close();
    this.tasks.clear();
  }
}
