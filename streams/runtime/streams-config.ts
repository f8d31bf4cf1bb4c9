import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Transport } from '../../sdk/transport/transport.ts';
import type { FailurePolicy } from './failure-policy.ts';
import { StreamsError, StreamsErrorCode } from './streams-error.ts';
import { parseHostInfo } from '../query/host-info.ts';

/**
 * `exactly_once` (Kafka Streams' exactly_once_v2): outputs, changelog records and input offsets
 * commit in one transaction. `at_least_once`: outputs are flushed, then offsets committed; a crash
 * may process some records again.
 */
export type ProcessingGuarantee = 'exactly_once' | 'at_least_once';

export interface StreamsConfig {
  /** The consumer group, the prefix of internal topics and the transactional id. */
  applicationId: string;
  /** How the app reaches the broker: TCP to any Kafka-compatible cluster, or an embedded broker. */
  transport: Transport;
  guarantee?: ProcessingGuarantee;
  /** How often a commit happens (default 100 ms). */
  commitIntervalMs?: number;
  /** Where task snapshots and the instance id live (default `<tmpdir>/rill-streams`). */
  stateDir?: string;
  /**
   * This process's identity in the application; the transactional id is `<applicationId>-<instanceId>`.
   * Default: an id created once and kept in the state directory, so a restart fences its predecessor.
   */
  instanceId?: string;
  /**
   * Joins the group as a static member (KIP-345) under the instance id: a process restarted within
   * the session timeout gets its tasks back without a rebalance of the others. Default false.
   */
  staticMembership?: boolean;
  /** Bound per task on input records in flight or waiting behind their key (default 1,000). */
  maxInFlightRecordsPerTask?: number;
  /** Writes held back in a task's store caches that make the next commit start early (default 50,000). */
  maxPendingWritesPerTask?: number;
  /** What happens to a record that fails to deserialize or process (default: stop the app). */
  failures?: FailurePolicy;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  rebalanceTimeoutMs?: number;
  transactionTimeoutMs?: number;
  /** A task snapshots a store once this long passed and `snapshotMinChangelogRecords` were written since its last snapshot. */
  snapshotIntervalMs?: number;
  snapshotMinChangelogRecords?: number;
  /** Partitions of the dead-letter topic when the runtime creates it (default 1). */
  deadLetterPartitions?: number;
  /** Bytes of fetched and not yet processed records the consumer holds (default 64 MiB). */
  maxPrefetchBytes?: number;
  /**
   * Kafka Streams' `max.task.idle.ms` (KIP-695), for a task reading several partitions (a merge or
   * join of topics): records go in timestamp order across them, and while one has nothing buffered
   * the task waits for the records the broker holds of it, then this long for new ones, before it
   * goes on without it. Default 0 (wait only for records already on the broker); -1 never waits.
   */
  maxTaskIdleMs?: number;
  /**
   * Kafka Streams' `application.server`: the `host:port` where this process serves interactive
   * queries (`startAppServer`). It goes to the other members in the group's subscription, so each
   * knows which instance holds which key (`queryMetadataForKey`, `allMetadata`). Default: none.
   */
  applicationServer?: string;
  /**
   * How often a running instance publishes its status (state, tasks, restore progress, commit
   * rate, late drops, dead letters, topology) to `<applicationId>-streams-status`, which the
   * broker's console reads (runtime/status-record.ts). Default 5,000 ms; 0 publishes nothing.
   */
  statusIntervalMs?: number;
}

export type ResolvedStreamsConfig = Required<Omit<StreamsConfig, 'instanceId' | 'applicationServer'>> & { instanceId: string | undefined; applicationServer: string | undefined };

export function resolveStreamsConfig(config: StreamsConfig): ResolvedStreamsConfig {
  if (!/^[a-zA-Z0-9._-]{1,200}$/.test(config.applicationId)) {
    throw new StreamsError(StreamsErrorCode.invalidConfig, `applicationId must be 1 to 200 characters of [a-zA-Z0-9._-] (it names topics), got "${config.applicationId}"`);
  }
  const resolved: ResolvedStreamsConfig = {
    guarantee: 'exactly_once',
    commitIntervalMs: 100,
    staticMembership: false,
    stateDir: join(tmpdir(), 'rill-streams'),
    maxInFlightRecordsPerTask: 1_000,
    maxPendingWritesPerTask: 50_000,
    failures: {},
    sessionTimeoutMs: 10_000,
    heartbeatIntervalMs: 1_000,
    rebalanceTimeoutMs: 30_000,
    transactionTimeoutMs: 10_000,
    snapshotIntervalMs: 30_000,
    snapshotMinChangelogRecords: 10_000,
    deadLetterPartitions: 1,
    maxPrefetchBytes: 64 * 1024 * 1024,
    maxTaskIdleMs: 0,
    statusIntervalMs: 5_000,
    ...config,
    instanceId: config.instanceId,
    applicationServer: config.applicationServer === undefined ? undefined : parseHostInfo(config.applicationServer).endpoint,
  };
  for (const key of ['commitIntervalMs', 'maxInFlightRecordsPerTask', 'maxPendingWritesPerTask', 'sessionTimeoutMs', 'heartbeatIntervalMs', 'rebalanceTimeoutMs', 'transactionTimeoutMs', 'snapshotIntervalMs', 'deadLetterPartitions', 'maxPrefetchBytes'] as const) {
    const value = resolved[key];
    if (!Number.isInteger(value) || value < 1) throw new StreamsError(StreamsErrorCode.invalidConfig, `${key} must be a positive integer, got ${value}`);
  }
  if (!Number.isInteger(resolved.maxTaskIdleMs) || resolved.maxTaskIdleMs < -1) throw new StreamsError(StreamsErrorCode.invalidConfig, `maxTaskIdleMs must be an integer of -1 or more, got ${resolved.maxTaskIdleMs}`);
  if (!Number.isInteger(resolved.statusIntervalMs) || resolved.statusIntervalMs < 0) throw new StreamsError(StreamsErrorCode.invalidConfig, `statusIntervalMs must be an integer of 0 or more, got ${resolved.statusIntervalMs}`);
  if (resolved.guarantee !== 'exactly_once' && resolved.guarantee !== 'at_least_once') {
    throw new StreamsError(StreamsErrorCode.invalidConfig, `guarantee must be exactly_once or at_least_once, got ${String(resolved.guarantee)}`);
  }
  return resolved;
}
