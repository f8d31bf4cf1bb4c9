import { Admin } from '../../sdk/client/admin/admin.ts';
import { Producer } from '../../sdk/client/producer/producer.ts';
import { isKafkaError } from '../../sdk/protocol/kafka-error.ts';
import type { Transport } from '../../sdk/transport/transport.ts';
import {
  MAX_STATUS_TASKS,
  STATUS_FORMAT,
  STATUS_TOPIC_CONFIG,
  STATUS_VERSION,
  type StatusTask,
  type StatusTopology,
  type StreamsStatus,
  encodeStatus,
  statusTopicName,
} from './status-record.ts';
import type { StreamsMetricsSnapshot } from './streams-metrics.ts';

/** What the application is doing now, read at each publish. */
export interface StatusSnapshot {
  readonly state: string;
  readonly tasks: readonly { taskId: string; state: StatusTask['state'] }[];
  readonly metrics: StreamsMetricsSnapshot;
}

export interface StatusPublisherOptions {
  readonly transport: Transport;
  readonly applicationId: string;
  readonly instanceId: string;
  readonly endpoint: string | undefined;
  readonly guarantee: string;
  readonly deadLetterTopic: string;
  readonly topology: StatusTopology;
  /** A running instance publishes at least this often (its heartbeat). */
  readonly intervalMs: number;
  readonly snapshot: () => StatusSnapshot;
}

/** What the publisher did, for tests and diagnostics. */
export interface StatusPublisherState {
  /** Statuses (and the tombstone) the broker acknowledged. */
  readonly published: number;
  readonly failures: number;
  /** Why it stopped publishing for good (the topic cannot be created, a refused write), if it did. */
  readonly disabledReason: string | undefined;
}

/** Errors that will not go away by retrying: the publisher stops, the application goes on. */
const FINAL_ERRORS = ['TOPIC_AUTHORIZATION_FAILED', 'CLUSTER_AUTHORIZATION_FAILED', 'POLICY_VIOLATION', 'INVALID_CONFIG', 'UNSUPPORTED_VERSION', 'MESSAGE_TOO_LARGE', 'INVALID_REPLICATION_FACTOR'] as const;
/** The close (the topic's creation still under way, the last write, the producer's flush) waits at most this long: a broker that is gone must not hold the application's close. */
const CLOSE_WAIT_MS = 5_000;

function runtimeName(): string {
  const versions = process.versions as Record<string, string | undefined>;
  if (versions['bun'] !== undefined) return `bun ${versions['bun']}`;
  if (versions['deno'] !== undefined) return `deno ${versions['deno']}`;
  return `node ${versions['node'] ?? 'unknown'}`;
}

/**
 * Publishes the instance's status (status-record.ts) to `<applicationId>-streams-status`: at start,
 * then every `intervalMs` (its heartbeat), and soon after each state change, but never twice within
 * `minGapMs` (= min(1 s, intervalMs)), so the rate is bounded whatever happens; one write in flight
 * at a time. A clean close writes a tombstone (the instance is gone, not stale); a failure writes
 * the last state (ERROR), which a reader sees go stale.
 *
 * Best effort by design: the status is for people looking at the platform, so nothing here may
 * fail or slow the application. A failed write is counted and the next one tried; a topic the
 * cluster refuses to create or to write (ACLs, policies: a real Kafka cluster need not allow it)
 * disables the publisher with its reason. On a Kafka cluster without Rill's console, the topic is
 * one small compacted partition nobody reads.
 */
export class StatusPublisher {
  private readonly topic: string;
  private readonly minGapMs: number;
  private readonly startedMs = Date.now();
  private producer: Producer | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inFlight: Promise<void> | undefined;
  private lastPublishMs = -Infinity;
  private changed = false;
  private closed = false;
  private previous: { commits: number; timeMs: number } | undefined;
  private counts = { published: 0, failures: 0 };
  private disabled: string | undefined;
  private ready: Promise<void> | undefined;

  constructor(private readonly options: StatusPublisherOptions) {
    this.topic = statusTopicName(options.applicationId);
    this.minGapMs = Math.min(1_000, options.intervalMs);
  }

  get state(): StatusPublisherState {
    return { ...this.counts, disabledReason: this.disabled };
  }

  /** Creates the topic when missing and publishes the first status; never rejects. */
  start(): Promise<void> {
    this.ready ??= this.prepare().then(() => this.schedule());
    return this.ready;
  }

  /** A state change: published within `minGapMs`. */
  requestPublish(): void {
    if (this.closed || this.disabled !== undefined) return;
    this.changed = true;
    if (this.ready !== undefined) this.schedule();
  }

  /**
   * Stops publishing; `final` 'tombstone' removes the instance's status (a clean close), 'status'
   * writes the last one (the application failed). Never rejects.
   */
  async close(final: 'tombstone' | 'status'): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    const finish = (async () => {
      await this.ready;
      await this.inFlight;
      const producer = this.producer;
      if (producer === undefined) return;
      if (this.disabled === undefined) await this.send(producer, final === 'tombstone' ? null : encodeStatus(this.status()));
      await producer.close();
    })().catch(() => void this.counts.failures++);
    let timeout: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([finish, new Promise<void>((resolve) => (timeout = setTimeout(resolve, CLOSE_WAIT_MS)))]);
    clearTimeout(timeout);
  }

  private async prepare(): Promise<void> {
    try {
      await new Admin(this.options.transport).createTopics([{ name: this.topic, numPartitions: 1, configs: STATUS_TOPIC_CONFIG }]);
    } catch (error) {
      if (!isKafkaError(error, 'TOPIC_ALREADY_EXISTS')) {
        this.counts.failures++;
        if (FINAL_ERRORS.some((name) => isKafkaError(error, name))) return void (this.disabled = `cannot create ${this.topic}: ${(error as Error).message}`);
      }
    }
    if (this.closed) return;
    this.producer = new Producer(this.options.transport, { acks: 1, idempotent: false, lingerMs: 0, requestTimeoutMs: 5_000, deliveryTimeoutMs: 10_000 });
    this.changed = true;
  }

  private schedule(): void {
    if (this.closed || this.disabled !== undefined || this.producer === undefined || this.inFlight !== undefined) return;
    const dueMs = this.changed ? this.lastPublishMs + this.minGapMs : this.lastPublishMs + this.options.intervalMs;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.publish();
    }, Math.max(0, dueMs - Date.now()));
  }

  private publish(): void {
    const producer = this.producer;
    if (this.closed || producer === undefined) return;
    this.changed = false;
    this.lastPublishMs = Date.now();
    this.inFlight = this.send(producer, encodeStatus(this.status())).finally(() => {
      this.inFlight = undefined;
      this.schedule();
    });
  }

  private async send(producer: Producer, value: Uint8Array | null): Promise<void> {
    try {
      await producer.send({ topic: this.topic, partition: 0, key: new TextEncoder().encode(this.options.instanceId), value });
      this.counts.published++;
    } catch (error) {
      this.counts.failures++;
      if (FINAL_ERRORS.some((name) => isKafkaError(error, name))) this.disabled = `cannot write ${this.topic}: ${(error as Error).message}`;
    }
  }

  private status(): StreamsStatus {
    const { state, tasks, metrics } = this.options.snapshot();
    const nowMs = Date.now();
    const byTask = new Map(metrics.tasks.map((t) => [t.taskId, t]));
    const listed = tasks.slice(0, MAX_STATUS_TASKS).map((t): StatusTask => {
      const m = byTask.get(t.taskId);
      return {
        taskId: t.taskId,
        state: t.state,
        recordsProcessed: m?.recordsProcessed ?? 0,
        lag: m?.lag ?? 0,
        restoredRecords: m?.restoredRecords ?? 0,
        restoreRemaining: m?.restoreRemaining ?? 0,
        lateRecordsDropped: m?.lateRecordsDropped ?? 0,
      };
    });
    const elapsedS = this.previous === undefined ? 0 : (nowMs - this.previous.timeMs) / 1000;
    const commitsPerSecond = elapsedS > 0 ? (metrics.commits - this.previous!.commits) / elapsedS : 0;
    this.previous = { commits: metrics.commits, timeMs: nowMs };
    return {
      format: STATUS_FORMAT,
      version: STATUS_VERSION,
      applicationId: this.options.applicationId,
      instanceId: this.options.instanceId,
      endpoint: this.options.endpoint ?? null,
      runtime: runtimeName(),
      guarantee: this.options.guarantee,
      state,
      startedMs: this.startedMs,
      publishedMs: nowMs,
      intervalMs: this.options.intervalMs,
      topology: this.options.topology,
      tasks: listed,
      tasksOmitted: tasks.length - listed.length,
      metrics: {
        recordsIn: metrics.recordsIn,
        recordsOut: metrics.recordsOut,
        recordsDeadLettered: metrics.recordsDeadLettered,
        recordsSkipped: metrics.recordsSkipped,
        lateRecordsDropped: metrics.tasks.reduce((sum, t) => sum + t.lateRecordsDropped, 0),
        commits: metrics.commits,
        commitsFailed: metrics.commitsFailed,
        commitsPerSecond: Math.round(commitsPerSecond * 100) / 100,
        lastCommitLatencyMs: metrics.lastCommitLatencyMs,
        rebalances: metrics.rebalances,
      },
      deadLetterTopic: this.options.deadLetterTopic,
    };
  }
}
