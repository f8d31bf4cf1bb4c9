/**
 * The status a running streams instance publishes about itself, for consoles (the broker's
 * `GET /v1/stream-apps`) and any Kafka tool (`kcat -C -t word-count-streams-status`).
 *
 * Topic `<applicationId>-streams-status` (`statusTopicName`), one partition, `STATUS_TOPIC_CONFIG`:
 * compacted, so it holds about one record per instance; `compact,delete` with a day's retention, so
 * the last record of an instance that crashed (and never wrote its tombstone) goes too; stamped with
 * the broker's clock (`LogAppendTime`), so staleness is judged on one clock whatever the
 * instances' clocks say. The name starts with the application id, so the ACLs a Kafka Streams
 * application already needs (a prefixed grant on its id for its internal topics) cover it.
 *
 * Record: key = the instance id (UTF-8), value = UTF-8 JSON `StreamsStatus` (at most
 * `MAX_STATUS_BYTES`; the topology is left out of a status that would be larger), or null: a
 * tombstone the instance writes when it closes cleanly.
 */
export const STATUS_FORMAT = 'rill.streams.status';
export const STATUS_VERSION = 1;

/** Bytes of one encoded status at most: well under Kafka's default `max.message.bytes` (1 MB). */
export const MAX_STATUS_BYTES = 256 * 1024;
/** Tasks listed in one status at most; the rest are counted in `tasksOmitted`. */
export const MAX_STATUS_TASKS = 2048;
/** An instance whose latest status is older than this many of its publish intervals is stale. */
export const STALE_AFTER_INTERVALS = 3;

export const STATUS_TOPIC_CONFIG: Readonly<Record<string, string>> = {
  'cleanup.policy': 'compact,delete',
  'retention.ms': String(24 * 60 * 60 * 1000),
  'segment.ms': String(10 * 60 * 1000),
  'segment.bytes': String(1024 * 1024),
  'message.timestamp.type': 'LogAppendTime',
  'max.message.bytes': String(MAX_STATUS_BYTES + 1024),
};

export function statusTopicName(applicationId: string): string {
  return `${applicationId}-streams-status`;
}

/** The application id of a status topic's name, or undefined for another topic. */
export function applicationIdOfStatusTopic(topic: string): string | undefined {
  const suffix = '-streams-status';
  return topic.endsWith(suffix) && topic.length > suffix.length ? topic.slice(0, -suffix.length) : undefined;
}

export interface StatusTopicRef {
  readonly name: string;
  /** A topic the application creates (`<applicationId>-…`): repartition, changelog, retry tier. */
  readonly internal: boolean;
}

/** A node of the topology as `Topology.describe()` lists it, with topics by their full names. */
export interface StatusTopologyNode {
  readonly name: string;
  readonly kind: 'source' | 'processor' | 'sink';
  readonly subtopology: number;
  /** Sources: the topics read. */
  readonly topics?: readonly StatusTopicRef[];
  /** Sinks: the topic written, null when chosen per record. */
  readonly topic?: StatusTopicRef | null;
  /** Processors: the stores used. */
  readonly stores?: readonly string[];
  readonly children: readonly string[];
}

export interface StatusTopology {
  readonly nodes: readonly StatusTopologyNode[];
  readonly stores: readonly { name: string; kind: 'keyValue' | 'window' | 'session'; subtopology: number | null; changelog: string | null }[];
  readonly globalStores: readonly { name: string; topic: string }[];
  /** `Topology.describe().toString()`. */
  readonly text: string;
}

export interface StatusTask {
  /** `<sub-topology>_<partition>`. */
  readonly taskId: string;
  readonly state: 'restoring' | 'running' | 'suspended';
  readonly recordsProcessed: number;
  readonly lag: number;
  /** Changelog records the last restore replayed, and those left (0 once running). */
  readonly restoredRecords: number;
  readonly restoreRemaining: number;
  readonly lateRecordsDropped: number;
}

export interface StreamsStatus {
  readonly format: typeof STATUS_FORMAT;
  readonly version: typeof STATUS_VERSION;
  readonly applicationId: string;
  readonly instanceId: string;
  /** `applicationServer` when set: where the instance answers interactive queries. */
  readonly endpoint: string | null;
  /** `node 20.19.0`, `bun 1.2.0`, `deno 2.1.0`. */
  readonly runtime: string;
  readonly guarantee: string;
  /** The application's state (`AppState`). */
  readonly state: string;
  readonly startedMs: number;
  /** The instance's clock when it published; the record's timestamp is the broker's. */
  readonly publishedMs: number;
  /** The longest gap between two statuses of a running instance. */
  readonly intervalMs: number;
  readonly topology: StatusTopology | null;
  readonly tasks: readonly StatusTask[];
  readonly tasksOmitted: number;
  readonly metrics: {
    readonly recordsIn: number;
    readonly recordsOut: number;
    readonly recordsDeadLettered: number;
    readonly recordsSkipped: number;
    readonly lateRecordsDropped: number;
    readonly commits: number;
    readonly commitsFailed: number;
    /** Commits per second since the previous status (0 for the first). */
    readonly commitsPerSecond: number;
    readonly lastCommitLatencyMs: number;
    readonly rebalances: number;
  };
  readonly deadLetterTopic: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** The record value, within `MAX_STATUS_BYTES`: a status too large goes without its topology. */
export function encodeStatus(status: StreamsStatus): Uint8Array {
  const bytes = encoder.encode(JSON.stringify(status));
  if (bytes.byteLength <= MAX_STATUS_BYTES) return bytes;
  const smaller = encoder.encode(JSON.stringify({ ...status, topology: null }));
  if (smaller.byteLength > MAX_STATUS_BYTES) throw new Error(`invariant broken: a status without its topology is ${smaller.byteLength} bytes, over ${MAX_STATUS_BYTES}`);
  return smaller;
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/**
 * A record of a status topic read back, or undefined when it is not a status of `applicationId`
 * under `instanceId` (anything else someone wrote there is ignored, never trusted).
 */
export function decodeStatus(applicationId: string, instanceId: string, value: Uint8Array): StreamsStatus | undefined {
  if (value.byteLength > MAX_STATUS_BYTES) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(value));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const s = parsed as Partial<StreamsStatus>;
  if (s.format !== STATUS_FORMAT || s.version !== STATUS_VERSION || s.applicationId !== applicationId || s.instanceId !== instanceId) return undefined;
  if (typeof s.state !== 'string' || !isCount(s.intervalMs) || s.intervalMs === 0 || !Array.isArray(s.tasks) || typeof s.metrics !== 'object' || s.metrics === null) return undefined;
  return s as StreamsStatus;
}
