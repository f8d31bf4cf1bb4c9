import { ErrorCode } from '../../sdk/protocol/error-codes.ts';
import { KafkaError } from '../../sdk/protocol/kafka-error.ts';
import { readRecordBatches, type RecordBatchView } from '../../sdk/record/record-batch-reader.ts';
import type { InternalTopics } from '../internal-topics.ts';
import { validateTopicName } from '../topic/topic-name.ts';
import { deadLetterTopicOf, resolveShareGroupConfig, type ShareGroupConfig, type ShareGroupsOptions } from './share-config.ts';
import { isShareGroupConfigName, resolveWithOverrides, type ShareGroupConfigNameValue, type ShareGroupOverrides } from './share-group-dynamic-config.ts';
import { buildDeadLetterBatch } from './share-dead-letter.ts';
import { ShareGroup } from './share-group.ts';
import type { ShareLogHost } from './share-log-host.ts';
import { type AcknowledgementBatch, type AcquiredRange, type DeadLetterTask, SharePartition } from './share-partition.ts';
import { type ShareSession, ShareSessions, sessionPartitionKey, ShareSessionEpoch } from './share-sessions.ts';
import { ShareStateTopic, type ShareStateWrite } from './share-state-topic.ts';
import { ShareFetchParking } from './share-fetch-parking.ts';
import type {
  ShareAcknowledgeInput,
  ShareFetchInput,
  ShareFetchOutput,
  ShareGroupDescription,
  ShareHeartbeatOutput,
  SharePartitionResult,
} from './share-types.ts';

export interface ShareCoordinatorOptions extends ShareGroupsOptions {
  /** How often lock expiry and member session timeouts are checked. */
  sweepIntervalMs?: number;
}

interface PartitionEntry {
  readonly groupId: string;
  readonly topic: string;
  readonly topicId: string;
  readonly partition: number;
  readonly state: SharePartition;
  /** After a failed dead-letter copy, lock expiry and dead-lettering wait until then (no retry spin). */
  retryAtMs: number;
  /** Log bytes per offset in the last acquisition read, 0 before the first; sizes the next read. */
  bytesPerOffset?: number;
}

/** How long a share partition waits after a failed dead-letter copy before trying again. */
const DEAD_LETTER_RETRY_MS = 1_000;

const DEFAULT_MAX_SESSIONS = 2000;
const DEFAULT_MAX_GROUPS = 1000;
const DEFAULT_MAX_PARKED = 1000;

function entryKey(groupId: string, topicId: string, partition: number): string {
  return `${groupId}\u0000${topicId}\u0000${partition}`;
}

function errorOf(error: unknown): { errorCode: number; message: string } {
  if (error instanceof KafkaError) return { errorCode: error.code, message: error.message };
  return { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, message: error instanceof Error ? error.message : String(error) };
}

/**
 * Share groups (KIP-932) on this broker, which is the group coordinator, the share coordinator
 * and every partition's leader at once: membership (ShareGroupHeartbeat), share sessions and
 * acquisition (ShareFetch), acknowledgements (ShareFetch and ShareAcknowledge), lock expiry, the
 * dead-letter topic, and the durable state in `__share_group_state`.
 *
 * Every state change is made synchronously, its snapshot appended at once, and the request is
 * answered only after that append is fsynced: an acknowledgement that was answered is never
 * undone by a crash, and an acquisition counted in a delivery count is never forgotten. A record
 * to dead-letter is copied to the dead-letter topic, fsynced, and only then archived.
 */
export class ShareCoordinator {
  private readonly groups = new Map<string, ShareGroup>();
  private readonly entries = new Map<string, PartitionEntry>();
  private readonly sessions: ShareSessions;
  private readonly parking: ShareFetchParking;
  /** Dead-letter copies in flight (sweeps start them in the background); bounded by the share partitions. */
  private readonly deadLettering = new Set<Promise<void>>();
  /** State appends not yet fsynced; bounded by the requests and copies that issue them. */
  private readonly writing = new Set<Promise<void>>();
  private readonly timer: ReturnType<typeof setInterval>;
  private closed = false;
  /** Config alterations run one at a time, each reading the overrides the last one left. */
  private configChanges: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly host: ShareLogHost,
    private readonly stateTopic: ShareStateTopic,
    private readonly options: ShareCoordinatorOptions,
    private readonly nowMs: () => number,
    restored: readonly ShareStateWrite[],
    /** Per-group config overrides set over the Kafka protocol, by group id; they win over `options`. */
    private readonly overrides: Map<string, ShareGroupOverrides>,
  ) {
    this.sessions = new ShareSessions(options.maxShareSessions ?? DEFAULT_MAX_SESSIONS);
    this.parking = new ShareFetchParking(options.maxParkedShareFetches ?? DEFAULT_MAX_PARKED, host);
    for (const { key, snapshot } of restored) {
      const topic = host.topicNameOf(key.topicId);
      if (topic === undefined || snapshot === null) continue;
      const config = this.configOf(key.groupId);
      const state = SharePartition.fromSnapshot(snapshot, config);
      this.entries.set(entryKey(key.groupId, key.topicId, key.partition), { groupId: key.groupId, topic, topicId: key.topicId, partition: key.partition, state, retryAtMs: 0 });
    }
    this.timer = setInterval(() => this.sweep(), options.sweepIntervalMs ?? 100);
    (this.timer as { unref?: () => void }).unref?.();
  }

  /** Rebuilds every share partition from `__share_group_state` (newest snapshot per partition). */
  static async open(host: ShareLogHost, topics: InternalTopics, options: ShareCoordinatorOptions, nowMs: () => number): Promise<ShareCoordinator> {
    for (const groupId of Object.keys(options.groups ?? {})) resolveShareGroupConfig(options, groupId);
    resolveShareGroupConfig(options, '');
    const stateTopic = new ShareStateTopic(topics, options.stateTopicPartitions ?? 1, nowMs);
    const latest = new Map<string, ShareStateWrite>();
    const overrides = new Map<string, ShareGroupOverrides>();
    await stateTopic.replay(
      (write) => latest.set(entryKey(write.key.groupId, write.key.topicId, write.key.partition), write),
      (groupId, groupOverrides) => (Object.keys(groupOverrides).length === 0 ? overrides.delete(groupId) : overrides.set(groupId, groupOverrides)),
    );
    return new ShareCoordinator(host, stateTopic, options, nowMs, [...latest.values()], overrides);
  }

  /** A group's settings: its overrides set over the Kafka protocol, over `BrokerOptions.shareGroups`. */
  configOf(groupId: string): ShareGroupConfig {
    return resolveWithOverrides(this.options, groupId, this.overrides.get(groupId));
  }

  /** The configs set on a group over the Kafka protocol, by name. */
  groupOverrides(groupId: string): ShareGroupOverrides {
    return this.overrides.get(groupId) ?? {};
  }

  /**
   * Sets (a string) or removes (null) a group's config overrides, all or none: unknown names and
   * bad values are INVALID_CONFIG. Durable in `__share_group_state` before it resolves, then
   * applied to the running group and its share partitions.
   */
  alterGroupConfig(groupId: string, changes: Readonly<Record<string, string | null>>, validateOnly: boolean): Promise<void> {
    const run = this.configChanges.then(async () => {
      if (groupId === '') throw new KafkaError('INVALID_GROUP_ID', 'the group id is empty');
      const next: Partial<Record<ShareGroupConfigNameValue, string>> = { ...this.groupOverrides(groupId) };
      for (const [name, value] of Object.entries(changes)) {
        if (!isShareGroupConfigName(name)) throw new KafkaError('INVALID_CONFIG', `"${name}" is not a share group config; use share.record.lock.duration.ms, share.delivery.count.limit, share.auto.offset.reset, share.isolation.level, rill.share.dead.letter.topic or rill.share.retry.backoff.ms`);
        if (value === null) delete next[name];
        else next[name] = value;
      }
      const config = resolveWithOverrides(this.options, groupId, next);
      try {
        validateTopicName(deadLetterTopicOf(groupId, config));
      } catch (error) {
        throw new KafkaError('INVALID_CONFIG', `share group "${groupId}": its dead-letter topic "${deadLetterTopicOf(groupId, config)}" is not a valid topic name (${errorOf(error).message}); set rill.share.dead.letter.topic`);
      }
      if (validateOnly || this.closed) return;
      await this.stateTopic.writeGroupConfig(groupId, next);
      if (Object.keys(next).length === 0) this.overrides.delete(groupId);
      else this.overrides.set(groupId, next);
      const group = this.groups.get(groupId);
      if (group !== undefined) group.config = config;
      for (const entry of this.entries.values()) if (entry.groupId === groupId) entry.state.setLimits(config);
      this.wake(groupId);
    });
    this.configChanges = run.catch(() => undefined);
    return run;
  }

  /** The state of one share partition, for inspection (tests, describe). */
  sharePartition(groupId: string, topic: string, partition: number): SharePartition | undefined {
    const topicId = this.host.topicIdOf(topic);
    return topicId === undefined ? undefined : this.entries.get(entryKey(groupId, topicId, partition))?.state;
  }

  /** The share groups known here: with members, or with share-partition state (for listings). */
  groupIds(): string[] {
    return [...new Set([...this.groups.keys(), ...[...this.entries.values()].map((e) => e.groupId)])].sort();
  }

  /** A group's share partitions with their state, for inspection (the console). */
  partitionsOf(groupId: string): { topic: string; partition: number; state: SharePartition }[] {
    return [...this.entries.values()].filter((e) => e.groupId === groupId).map((e) => ({ topic: e.topic, partition: e.partition, state: e.state }));
  }

  /** A share group as ShareGroupDescribe reports it. */
  describe(groupId: string): ShareGroupDescription {
    const group = this.groups.get(groupId);
    if (group === undefined) {
      const known = [...this.entries.values()].some((e) => e.groupId === groupId);
      return known
        ? { errorCode: 0, errorMessage: null, groupId, groupState: 'Empty', groupEpoch: 0, members: [] }
        : { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: `share group "${groupId}" does not exist`, groupId, groupState: 'Dead', groupEpoch: -1, members: [] };
    }
    return {
      errorCode: 0,
      errorMessage: null,
      groupId,
      groupState: group.members.size > 0 ? 'Stable' : 'Empty',
      groupEpoch: group.groupEpoch,
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        rackId: m.rackId,
        memberEpoch: m.memberEpoch,
        clientId: m.clientId,
        clientHost: m.clientHost,
        subscribedTopicNames: [...m.subscribedTopicNames],
        assignment: [...m.assignment].flatMap(([topicName, partitions]) => {
          const topicId = this.host.topicIdOf(topicName);
          return topicId === undefined ? [] : [{ topicId, topicName, partitions: [...partitions] }];
        }),
      })),
    };
  }

  async heartbeat(
    groupId: string,
    input: { memberId: string; memberEpoch: number; rackId: string | null; subscribedTopicNames: string[] | null; clientId?: string; clientHost?: string },
  ): Promise<ShareHeartbeatOutput> {
    const fail = (errorCode: number, message: string): ShareHeartbeatOutput => ({ errorCode, errorMessage: message, memberId: null, memberEpoch: -1, heartbeatIntervalMs: 0, assignment: null });
    if (groupId === '') return fail(ErrorCode.INVALID_GROUP_ID, 'the group id is empty');
    if (this.closed) return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE, 'the broker is shutting down');
    let group = this.groups.get(groupId);
    if (group === undefined) {
      if (input.memberEpoch !== 0) return fail(ErrorCode.UNKNOWN_MEMBER_ID, `share group "${groupId}" has no members`);
      if (this.groups.size >= (this.options.maxShareGroups ?? DEFAULT_MAX_GROUPS)) {
        return fail(ErrorCode.GROUP_MAX_SIZE_REACHED, `the broker has ${this.groups.size} share groups with members, its limit (maxShareGroups)`);
      }
      const config = this.configOf(groupId);
      try {
        validateTopicName(deadLetterTopicOf(groupId, config));
      } catch (error) {
        return fail(ErrorCode.INVALID_CONFIG, `share group "${groupId}": its dead-letter topic "${deadLetterTopicOf(groupId, config)}" is not a valid topic name (${errorOf(error).message}); configure deadLetterTopic`);
      }
      await this.stateTopic.ensureCreated();
      group = this.groups.get(groupId) ?? new ShareGroup(groupId, this.configOf(groupId));
      this.groups.set(groupId, group);
    }
    const result = group.heartbeat(input, this.nowMs(), (topic) => this.host.partitionCount(topic));
    if (result.errorCode !== 0 || !('memberId' in result)) return fail(result.errorCode, 'message' in result ? result.message : '');
    if (result.left) await this.memberGone(group, result.memberId);
    return {
      errorCode: 0,
      errorMessage: null,
      memberId: result.memberId,
      memberEpoch: result.memberEpoch,
      heartbeatIntervalMs: group.config.heartbeatIntervalMs,
      assignment:
        result.assignment === null
          ? null
          : [...result.assignment].flatMap(([topic, partitions]) => {
              const topicId = this.host.topicIdOf(topic);
              return topicId === undefined ? [] : [{ topicId, partitions: [...partitions] }];
            }),
    };
  }

  async shareFetch(input: ShareFetchInput, signal?: AbortSignal): Promise<ShareFetchOutput> {
    const checked = this.checkMember(input.groupId, input.memberId);
    if ('message' in checked) return { errorCode: checked.errorCode, errorMessage: checked.message, partitions: [] };
    const { group, memberId } = checked;
    if (input.shareSessionEpoch === ShareSessionEpoch.open && input.partitions.some((p) => p.acknowledgementBatches.length > 0)) {
      return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'a ShareFetch opening a share session (epoch 0) cannot carry acknowledgements', partitions: [] };
    }
    const lookup = this.sessions.lookup(group.groupId, memberId, input.shareSessionEpoch, true);
    if ('message' in lookup) return { errorCode: lookup.errorCode, errorMessage: lookup.message, partitions: [] };
    const { session, closing } = lookup;
    if (input.shareSessionEpoch === ShareSessionEpoch.open) session.partitions.clear();
    for (const f of input.forgotten) session.partitions.delete(sessionPartitionKey(f.topicId, f.partition));
    const maxBytesByPartition = new Map<string, number>();
    for (const p of input.partitions) {
      const key = sessionPartitionKey(p.topicId, p.partition);
      if (!closing) session.partitions.set(key, { topicId: p.topicId, partition: p.partition });
      maxBytesByPartition.set(key, p.partitionMaxBytes);
    }
    const results = new Map<string, SharePartitionResult>();
    const resultFor = (topicId: string, partition: number): SharePartitionResult => {
      const key = sessionPartitionKey(topicId, partition);
      let result = results.get(key);
      if (result === undefined) {
        result = { topicId, partition, errorCode: 0, errorMessage: null, acknowledgeErrorCode: 0, acknowledgeErrorMessage: null, records: null, acquiredRecords: [] };
        results.set(key, result);
      }
      return result;
    };
    for (const p of input.partitions) resultFor(p.topicId, p.partition);
    // The acknowledgements change the state at once and are answered only once durable; unless
    // the session closes, their snapshot is not appended on its own but with the acquisition's
    // below, issued in the same synchronous run: one append and one fsync per fetch.
    const acknowledgedDirty = new Set<PartitionEntry>();
    const acknowledged = this.applyAcknowledgements(
      group,
      memberId,
      input.partitions,
      (p, code, message) => {
        const result = resultFor(p.topicId, p.partition);
        result.acknowledgeErrorCode = code;
        result.acknowledgeErrorMessage = message;
      },
      closing ? undefined : acknowledgedDirty,
    );
    acknowledged.catch(() => undefined);
    if (closing) {
      await acknowledged;
      await this.releaseSession(group, session);
      return { errorCode: 0, errorMessage: null, partitions: [...results.values()] };
    }
    const deadlineMs = this.nowMs() + Math.max(0, input.maxWaitMs);
    for (let pass = 0; ; pass++) {
      const sources = this.parkingSources(session);
      const seen = this.parking.snapshot(sources);
      const acquired = await this.acquireForSession(group, memberId, session, input.maxBytes, maxBytesByPartition, resultFor, input.maxRecords, pass === 0 ? acknowledgedDirty : undefined, input.startAtMs);
      const waitMs = deadlineMs - this.nowMs();
      if (acquired || waitMs <= 0 || this.closed || signal?.aborted === true) break;
      if ([...results.values()].some((r) => r.errorCode !== 0)) break;
      await this.parking.park(group.groupId, sources, seen, waitMs, signal);
      if (this.closed) break;
    }
    await acknowledged;
    // An incremental response lists only partitions with something to say.
    const listed = [...results.values()].filter(
      (r) => input.shareSessionEpoch === ShareSessionEpoch.open || r.records !== null || r.errorCode !== 0 || maxBytesByPartition.has(sessionPartitionKey(r.topicId, r.partition)),
    );
    return { errorCode: 0, errorMessage: null, partitions: listed };
  }

  async shareAcknowledge(input: ShareAcknowledgeInput): Promise<ShareFetchOutput> {
    const checked = this.checkMember(input.groupId, input.memberId);
    if ('message' in checked) return { errorCode: checked.errorCode, errorMessage: checked.message, partitions: [] };
    const { group, memberId } = checked;
    const lookup = this.sessions.lookup(group.groupId, memberId, input.shareSessionEpoch, false);
    if ('message' in lookup) return { errorCode: lookup.errorCode, errorMessage: lookup.message, partitions: [] };
    const partitions: SharePartitionResult[] = input.partitions.map((p) => ({
      topicId: p.topicId,
      partition: p.partition,
      errorCode: 0,
      errorMessage: null,
      acknowledgeErrorCode: 0,
      acknowledgeErrorMessage: null,
      records: null,
      acquiredRecords: [],
    }));
    await this.applyAcknowledgements(group, memberId, input.partitions, (p, code, message) => {
      const result = partitions.find((r) => r.topicId === p.topicId && r.partition === p.partition)!;
      result.errorCode = code;
      result.errorMessage = message;
    });
    if (lookup.closing) await this.releaseSession(group, lookup.session);
    return { errorCode: 0, errorMessage: null, partitions };
  }

  /** Stops the sweep, answers parked fetches, and waits for dead-letter copies and state writes in flight. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.parking.wakeAll();
    await Promise.allSettled([...this.deadLettering]);
    await Promise.allSettled([...this.writing]);
  }

  private checkMember(groupId: string | null, memberId: string | null): { errorCode: number; message: string } | { group: ShareGroup; memberId: string } {
    if (groupId === null || groupId === '' || memberId === null || memberId === '') {
      return { errorCode: ErrorCode.INVALID_REQUEST, message: 'a share request needs a group id and a member id' };
    }
    if (this.closed) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, message: 'the broker is shutting down' };
    const group = this.groups.get(groupId);
    if (group === undefined || !group.members.has(memberId)) {
      return { errorCode: ErrorCode.UNKNOWN_MEMBER_ID, message: `member "${memberId}" is not in share group "${groupId}"; send ShareGroupHeartbeat first` };
    }
    return { group, memberId };
  }

  /** The entry of a share partition, created at share.auto.offset.reset on first use. */
  private entryFor(group: ShareGroup, topicId: string, partition: number, dirty: Set<PartitionEntry>, startAtMs?: number): PartitionEntry {
    const key = entryKey(group.groupId, topicId, partition);
    const existing = this.entries.get(key);
    const topic = this.host.topicNameOf(topicId);
    if (topic === undefined) throw new KafkaError('UNKNOWN_TOPIC_ID', `no topic has id ${topicId}`);
    const count = this.host.partitionCount(topic) ?? 0;
    if (!Number.isInteger(partition) || partition < 0 || partition >= count) {
      throw new KafkaError('UNKNOWN_TOPIC_OR_PARTITION', `topic "${topic}" has ${count} partitions; partition ${partition} does not exist`);
    }
    if (existing !== undefined) return existing;
    const { logStartOffset, highWatermark } = this.host.logOffsets(topic, partition);
    const start = group.config.autoOffsetReset === 'earliest' ? logStartOffset : startAtMs === undefined ? highWatermark : atOrAfter(this.host.offsetForTimestamp(topic, partition, startAtMs), logStartOffset, highWatermark);
    const entry: PartitionEntry = { groupId: group.groupId, topic, topicId, partition, state: SharePartition.create(start, group.config), retryAtMs: 0 };
    this.entries.set(key, entry);
    dirty.add(entry);
    return entry;
  }

  private async applyAcknowledgements(
    group: ShareGroup,
    memberId: string,
    partitions: readonly { topicId: string; partition: number; acknowledgementBatches: readonly AcknowledgementBatch[] }[],
    report: (p: { topicId: string; partition: number }, errorCode: number, message: string | null) => void,
    persistWith?: Set<PartitionEntry>,
  ): Promise<void> {
    const dirty = persistWith ?? new Set<PartitionEntry>();
    const deadLetters: { entry: PartitionEntry; tasks: DeadLetterTask[]; p: { topicId: string; partition: number } }[] = [];
    const nowMs = this.nowMs();
    for (const p of partitions) {
      if (p.acknowledgementBatches.length === 0) continue;
      let entry: PartitionEntry;
      try {
        entry = this.entryFor(group, p.topicId, p.partition, dirty);
      } catch (error) {
        const { errorCode, message } = errorOf(error);
        report(p, errorCode, message);
        continue;
      }
      this.expire(entry, nowMs);
      const outcome = entry.state.acknowledge(memberId, p.acknowledgementBatches, nowMs);
      if ('message' in outcome) {
        report(p, outcome.errorCode, outcome.message);
        continue;
      }
      dirty.add(entry);
      if (outcome.deadLetters.length > 0) deadLetters.push({ entry, tasks: outcome.deadLetters, p });
    }
    // With `persistWith`, the caller appends these snapshots with its own before it answers.
    const written = persistWith === undefined ? this.persist(group.groupId, dirty) : Promise.resolve();
    const copies = deadLetters.map(async ({ entry, tasks, p }) => {
      try {
        await this.deadLetter(entry, tasks);
      } catch (error) {
        const { errorCode, message } = errorOf(error);
        report(p, errorCode, `the dead-letter write failed, the records are available again: ${message}`);
      }
    });
    // Parked fetches may acquire what this freed at once: they resume after this synchronous run,
    // which has appended this state (here or in the caller's append), so their snapshots follow it
    // in the log and none of them is answered before it is durable.
    if (dirty.size > 0) this.wake(group.groupId);
    await Promise.all([written, ...copies]);
  }

  /** Acquires for one fetch; true when records were acquired. Persists what changed before answering. */
  private async acquireForSession(
    group: ShareGroup,
    memberId: string,
    session: ShareSession,
    maxBytes: number,
    maxBytesByPartition: ReadonlyMap<string, number>,
    resultFor: (topicId: string, partition: number) => SharePartitionResult,
    maxRecords = Infinity,
    alsoDirty?: ReadonlySet<PartitionEntry>,
    startAtMs?: number,
  ): Promise<boolean> {
    const dirty = new Set<PartitionEntry>(alsoDirty);
    const nowMs = this.nowMs();
    let remaining = maxBytes > 0 ? maxBytes : 0x7fffffff;
    let recordsLeft = maxRecords;
    let acquiredAny = false;
    for (const [key, sp] of session.partitions) {
      const result = resultFor(sp.topicId, sp.partition);
      if (remaining <= 0 || recordsLeft <= 0) break;
      try {
        const entry = this.entryFor(group, sp.topicId, sp.partition, dirty, startAtMs);
        const { logStartOffset, highWatermark, lastStableOffset } = this.host.logOffsets(entry.topic, entry.partition);
        if (entry.state.moveStartOffset(logStartOffset)) dirty.add(entry);
        this.expire(entry, nowMs);
        entry.state.endDueBackoffs(nowMs);
        const committed = group.config.isolationLevel === 'read_committed';
        const from = entry.state.nextAcquirableOffset(committed ? lastStableOffset : highWatermark);
        if (from === undefined) continue;
        const limit = readLimit(entry, group.config.maxRecordsPerFetch, Math.max(1, Math.min(maxBytesByPartition.get(key) ?? 1024 * 1024, remaining)));
        const read = committed ? this.host.readCommitted(entry.topic, entry.partition, from, limit) : this.host.read(entry.topic, entry.partition, from, limit);
        const views = [...readRecordBatches(read)];
        learnBytesPerOffset(entry, views);
        const spans = views.map((v) => ({ baseOffset: v.baseOffset, lastOffset: v.lastOffset, isControl: v.isControl }));
        const before = entry.state.endOffset;
        const ranges = entry.state.acquire(memberId, spans, nowMs, Math.min(group.config.maxRecordsPerFetch, recordsLeft));
        if (ranges.length === 0 && entry.state.endOffset === before) continue;
        dirty.add(entry);
        if (ranges.length === 0) continue;
        const records = batchesCovering(views, ranges);
        remaining -= records.byteLength;
        recordsLeft -= ranges.reduce((n, r) => n + r.lastOffset - r.firstOffset + 1, 0);
        result.records = records;
        result.acquiredRecords = ranges;
        acquiredAny = true;
      } catch (error) {
        const { errorCode, message } = errorOf(error);
        result.errorCode = errorCode;
        result.errorMessage = message;
      }
    }
    await this.persist(group.groupId, dirty);
    return acquiredAny;
  }

  /** The partitions whose new records wake a fetch of `session` parked with nothing to acquire. */
  private parkingSources(session: ShareSession): { topic: string; partition: number }[] {
    const sources: { topic: string; partition: number }[] = [];
    for (const sp of session.partitions.values()) {
      const topic = this.host.topicNameOf(sp.topicId);
      if (topic !== undefined) sources.push({ topic, partition: sp.partition });
    }
    return sources;
  }

  private wake(groupId: string): void {
    this.parking.wake(groupId);
  }

  /** Releases what the member holds in its session's partitions (its session closed). */
  private async releaseSession(group: ShareGroup, session: ShareSession): Promise<void> {
    const dirty = new Set<PartitionEntry>();
    for (const sp of session.partitions.values()) {
      const entry = this.entries.get(entryKey(group.groupId, sp.topicId, sp.partition));
      if (entry === undefined) continue;
      this.startDeadLetters(entry, entry.state.releaseMember(session.memberId, this.nowMs()));
      dirty.add(entry);
    }
    await this.persist(group.groupId, dirty);
    this.wake(group.groupId);
  }

  /** A member left or timed out: its session goes and everything it holds in the group is released. */
  private async memberGone(group: ShareGroup, memberId: string): Promise<void> {
    this.sessions.remove(group.groupId, memberId);
    for (const entry of this.entries.values()) {
      if (entry.groupId === group.groupId) this.startDeadLetters(entry, entry.state.releaseMember(memberId, this.nowMs()));
    }
    if (group.members.size === 0) this.groups.delete(group.groupId);
    this.wake(group.groupId);
  }

  /** Appends snapshots of the changed share partitions, issued synchronously so writes keep their order. */
  private persist(groupId: string, dirty: ReadonlySet<PartitionEntry>): Promise<void> {
    if (dirty.size === 0) return Promise.resolve();
    const writes = [...dirty].map((e) => ({ key: { groupId: e.groupId, topicId: e.topicId, partition: e.partition }, snapshot: e.state.snapshot() }));
    const written = this.stateTopic.write(groupId, writes);
    this.writing.add(written);
    const done = (): void => void this.writing.delete(written);
    written.then(done, done);
    return written;
  }

  private startDeadLetters(entry: PartitionEntry, tasks: DeadLetterTask[]): void {
    if (tasks.length === 0) return;
    const copy = this.deadLetter(entry, tasks).catch(() => undefined);
    this.deadLettering.add(copy);
    void copy.finally(() => this.deadLettering.delete(copy));
  }

  /**
   * Copies the records to the group's dead-letter topic, and once that copy is fsynced archives
   * them; if the copy fails they become available again. Either way the new state is persisted.
   */
  private async deadLetter(entry: PartitionEntry, tasks: DeadLetterTask[]): Promise<void> {
    const offsets = tasks.map((t) => t.offset);
    const config = this.configOf(entry.groupId);
    try {
      const batch = buildDeadLetterBatch(
        {
          groupId: entry.groupId,
          topic: entry.topic,
          partition: entry.partition,
          deliveryCountLimit: config.deliveryCountLimit,
          read: (offset, maxBytes) => this.host.read(entry.topic, entry.partition, offset, maxBytes),
        },
        tasks,
        this.nowMs(),
      );
      await this.host.appendDeadLetters(deadLetterTopicOf(entry.groupId, config), entry.partition, batch);
      entry.state.completeDeadLetters(offsets);
    } catch (error) {
      entry.state.failDeadLetters(offsets);
      entry.retryAtMs = this.nowMs() + DEAD_LETTER_RETRY_MS;
      throw error;
    } finally {
      await this.persist(entry.groupId, new Set([entry]));
      this.wake(entry.groupId);
    }
  }

  private sweep(): void {
    if (this.closed) return;
    const nowMs = this.nowMs();
    for (const group of [...this.groups.values()]) {
      for (const memberId of group.expiredMembers(nowMs)) {
        group.remove(memberId);
        void this.memberGone(group, memberId);
      }
    }
    for (const [key, entry] of this.entries) {
      if (this.host.topicNameOf(entry.topicId) === undefined) {
        // The topic was deleted: its records, and so its share state, are gone.
        this.entries.delete(key);
        this.forget(entry);
        continue;
      }
      const expired = entry.state.nextLockDeadlineMs() <= nowMs;
      const backedOff = entry.state.endDueBackoffs(nowMs);
      if ((this.expire(entry, nowMs) && expired) || backedOff) this.wake(entry.groupId);
    }
  }

  /** Expires locks and starts due dead-letter copies, unless a failed copy asked to wait; true when it ran. */
  private expire(entry: PartitionEntry, nowMs: number): boolean {
    if (nowMs < entry.retryAtMs) return false;
    this.startDeadLetters(entry, entry.state.expireLocks(nowMs));
    return true;
  }

  /** Writes a tombstone for a share partition whose topic is gone. */
  private forget(entry: PartitionEntry): void {
    const written = this.stateTopic.forget(entry.groupId, { groupId: entry.groupId, topicId: entry.topicId, partition: entry.partition });
    this.writing.add(written);
    const done = (): void => void this.writing.delete(written);
    written.then(done, done);
  }
}

/** A timestamp lookup's offset (-1: no record that late) as a start within the log. */
function atOrAfter(found: number, logStartOffset: number, highWatermark: number): number {
  return found < 0 ? highWatermark : Math.min(highWatermark, Math.max(logStartOffset, found));
}

/**
 * How many bytes an acquisition reads: enough for `maxRecords` at the partition's recent bytes per
 * offset (with room to spare), never more than `maxBytes`. A fetch can acquire at most
 * `maxRecords`, so reading the whole `maxBytes` (1 MiB by default) for a few hundred small records
 * copied and scanned batches the fetch then dropped. The log returns at least one whole batch
 * however small the limit.
 */
function readLimit(entry: PartitionEntry, maxRecords: number, maxBytes: number): number {
  const perOffset = entry.bytesPerOffset ?? 0;
  if (perOffset === 0) return maxBytes;
  return Math.min(maxBytes, Math.ceil(perOffset * maxRecords * 1.25));
}

function learnBytesPerOffset(entry: PartitionEntry, views: readonly RecordBatchView[]): void {
  if (views.length === 0) return;
  let bytes = 0;
  for (const v of views) bytes += v.byteLength;
  const offsets = views[views.length - 1]!.lastOffset - views[0]!.baseOffset + 1;
  entry.bytesPerOffset = bytes / offsets;
}

/** The batches holding at least one acquired offset, concatenated (the response's records). */
function batchesCovering(views: readonly RecordBatchView[], ranges: readonly AcquiredRange[]): Uint8Array {
  const chosen = views.filter((v) => ranges.some((r) => r.firstOffset <= v.lastOffset && r.lastOffset >= v.baseOffset));
  const out = new Uint8Array(chosen.reduce((n, v) => n + v.byteLength, 0));
  let at = 0;
  for (const v of chosen) {
    out.set(v.bytes, at);
    at += v.byteLength;
  }
  return out;
}
