import { ErrorCode } from '../../sdk/protocol/error-codes.ts';
import { isKafkaError, KafkaError } from '../../sdk/protocol/kafka-error.ts';
import type { ClassicGroup, CommittedOffset } from './classic-group.ts';
import { subscribedTopics } from './consumer-subscription.ts';
import type { TopicOffsetsView } from './group-host.ts';
import type { GroupMembership } from './group-membership.ts';
import type { GroupCoordinatorOptions } from './group-options.ts';
import type { GroupRegistry } from './group-registry.ts';
import { GroupState } from './group-state.ts';
import type {
  OffsetCommitInput,
  OffsetDeleteResult,
  OffsetFetchResult,
  OffsetResetTarget,
  TopicPartitionErrors,
  TopicPartitions,
} from './group-types.ts';
import type { OffsetsTopic, OffsetsTopicWrite } from './offsets-topic.ts';
import type { Scheduler } from './scheduler.ts';
import { groupWriteErrorCode, offsetWriteErrorCode } from './write-error-code.ts';

const encoder = new TextEncoder();

function offsetKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/**
 * Committed offsets: OffsetCommit, OffsetFetch, OffsetDelete, DeleteGroups, retention and admin
 * resets. Every change is appended to `__consumer_offsets` first and applied in memory once
 * durable, so OffsetFetch never returns an offset a restart would lose.
 */
export class GroupOffsets {
  /** Orders writes: when two writes of one key overlap, only the later-issued one is applied. */
  private writeSequence = 0;
  private closed = false;

  constructor(
    private readonly registry: GroupRegistry,
    private readonly topic: OffsetsTopic,
    private readonly topics: TopicOffsetsView,
    private readonly membership: GroupMembership,
    private readonly scheduler: Scheduler,
    private readonly options: GroupCoordinatorOptions,
  ) {}

  private async writeOffsets(group: ClassicGroup, changes: readonly { topic: string; partition: number; value: CommittedOffset | null }[]): Promise<void> {
    const sequence = ++this.writeSequence;
    for (const c of changes) group.latestWrites.set(offsetKey(c.topic, c.partition), sequence);
    const writes: OffsetsTopicWrite[] = changes.map((c) => ({ key: { groupId: group.groupId, topic: c.topic, partition: c.partition }, value: c.value }));
    try {
      await this.topic.write(group.groupId, writes);
      for (const c of changes) {
        if (group.latestWrites.get(offsetKey(c.topic, c.partition)) === sequence) group.setOffset(c.topic, c.partition, c.value);
      }
    } finally {
      for (const c of changes) {
        const key = offsetKey(c.topic, c.partition);
        if (group.latestWrites.get(key) === sequence) group.latestWrites.delete(key);
      }
    }
  }

  private partitionExists(topic: string, partition: number): boolean {
    return Number.isInteger(partition) && partition >= 0 && partition < (this.topics.partitionCount(topic) ?? 0);
  }

  /** The group a commit may write to, or the error every partition of the commit gets. */
  private commitTarget(input: OffsetCommitInput): ClassicGroup | number {
    if (this.closed) return ErrorCode.NOT_COORDINATOR;
    if (input.groupId === '') return ErrorCode.INVALID_GROUP_ID;
    const group = this.registry.get(input.groupId);
    if (group === undefined) {
      // Only a commit from outside the group protocol may create a group.
      if (input.generationId >= 0) return ErrorCode.ILLEGAL_GENERATION;
      try {
        return this.registry.getOrCreate(input.groupId);
      } catch (error) {
        if (isKafkaError(error)) return error.code;
        throw error;
      }
    }
    if (input.generationId < 0 && group.is(GroupState.Empty)) return group;
    if (group.isFenced(input.memberId, input.groupInstanceId)) return ErrorCode.FENCED_INSTANCE_ID;
    // The assignment of the generation being formed is not known yet; committing now could
    // commit partitions the member is about to lose.
    if (group.is(GroupState.CompletingRebalance)) return ErrorCode.REBALANCE_IN_PROGRESS;
    const member = group.members.get(input.memberId);
    if (member === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (input.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    this.membership.touchSession(group, member);
    return group;
  }

  async commit(input: OffsetCommitInput): Promise<TopicPartitionErrors[]> {
    const target = this.commitTarget(input);
    const results: TopicPartitionErrors[] = input.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE })),
    }));
    if (typeof target === 'number') {
      for (const t of results) for (const p of t.partitions) p.errorCode = target;
      return results;
    }
    const nowMs = this.scheduler.nowMs();
    const expireTimestampMs = input.retentionTimeMs >= 0 ? nowMs + input.retentionTimeMs : -1;
    const changes: { topic: string; partition: number; value: CommittedOffset }[] = [];
    const written: { errorCode: number }[] = [];
    input.topics.forEach((t, ti) => {
      t.partitions.forEach((p, pi) => {
        const result = results[ti]!.partitions[pi]!;
        const metadata = p.committedMetadata ?? '';
        if (!this.partitionExists(t.name, p.partitionIndex)) result.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        else if (encoder.encode(metadata).length > this.options.offsetMetadataMaxBytes) result.errorCode = ErrorCode.OFFSET_METADATA_TOO_LARGE;
        else {
          changes.push({ topic: t.name, partition: p.partitionIndex, value: { offset: p.committedOffset, metadata, commitTimestampMs: nowMs, expireTimestampMs } });
          written.push(result);
        }
      });
    });
    try {
      await this.writeOffsets(target, changes);
    } catch (error) {
      const errorCode = offsetWriteErrorCode(error);
      for (const result of written) result.errorCode = errorCode;
    }
    return results;
  }

  /** Committed offsets of the requested partitions (-1 when none), or of every partition when `topics` is null. */
  fetch(groupId: string, topics: readonly TopicPartitions[] | null): OffsetFetchResult {
    if (this.closed) return { errorCode: ErrorCode.NOT_COORDINATOR, topics: [] };
    const group = this.registry.get(groupId);
    if (topics === null) {
      const all = [...(group?.offsets ?? new Map<string, Map<number, CommittedOffset>>())].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return {
        errorCode: ErrorCode.NONE,
        topics: all.map(([name, partitions]) => ({
          name,
          partitions: [...partitions]
            .sort(([a], [b]) => a - b)
            .map(([partitionIndex, c]) => ({ partitionIndex, committedOffset: c.offset, metadata: c.metadata, errorCode: ErrorCode.NONE })),
        })),
      };
    }
    return {
      errorCode: ErrorCode.NONE,
      topics: topics.map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((partitionIndex) => {
          const c = group?.getOffset(t.name, partitionIndex);
          return { partitionIndex, committedOffset: c?.offset ?? -1, metadata: c?.metadata ?? '', errorCode: ErrorCode.NONE };
        }),
      })),
    };
  }

  /**
   * KIP-447 fencing for TxnOffsetCommit: 0, or the error for this member and generation. A commit
   * without a generation (TxnOffsetCommit v0-v2, as kafkajs sends) is not fenced.
   */
  checkTxnMember(groupId: string, generationId: number, memberId: string, groupInstanceId: string | null): number {
    if (generationId < 0) return ErrorCode.NONE;
    const group = this.registry.get(groupId);
    if (group === undefined) return ErrorCode.ILLEGAL_GENERATION;
    if (group.isFenced(memberId, groupInstanceId)) return ErrorCode.FENCED_INSTANCE_ID;
    if (!group.members.has(memberId)) return ErrorCode.UNKNOWN_MEMBER_ID;
    return generationId === group.generationId ? ErrorCode.NONE : ErrorCode.ILLEGAL_GENERATION;
  }

  /**
   * A committed transaction's offsets become the group's committed offsets. The transaction is
   * already decided, so neither the group bound nor the group's state may refuse them; a write
   * failure rejects, for the transaction coordinator to retry. Writing the same offsets again is
   * harmless (the last write per key wins).
   */
  async commitTxnOffsets(groupId: string, offsets: readonly { topic: string; partition: number; offset: number; metadata: string }[]): Promise<void> {
    const group = this.registry.getOrCreate(groupId, { force: true });
    const nowMs = this.scheduler.nowMs();
    await this.writeOffsets(
      group,
      offsets.map((o) => ({ topic: o.topic, partition: o.partition, value: { offset: o.offset, metadata: o.metadata, commitTimestampMs: nowMs, expireTimestampMs: -1 } })),
    );
  }

  /** Topics the group's members consume, or 'all' when a subscription cannot be read. */
  private subscriptions(group: ClassicGroup): Set<string> | 'all' {
    const topics = new Set<string>();
    for (const member of group.members.values()) {
      const metadata = group.protocolName !== null ? group.metadataFor(member, group.protocolName) : member.protocols[0]?.metadata;
      const subscribed = metadata === undefined ? undefined : subscribedTopics(metadata);
      if (subscribed === undefined) return 'all';
      for (const topic of subscribed) topics.add(topic);
    }
    return topics;
  }

  async deleteOffsets(groupId: string, topics: readonly TopicPartitions[]): Promise<OffsetDeleteResult> {
    if (this.closed) return { errorCode: ErrorCode.NOT_COORDINATOR, topics: [] };
    if (groupId === '') return { errorCode: ErrorCode.INVALID_GROUP_ID, topics: [] };
    const group = this.registry.get(groupId);
    if (group === undefined) return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, topics: [] };
    let subscribed: Set<string> | 'all' = new Set();
    if (!group.is(GroupState.Empty)) {
      if (group.protocolType !== 'consumer') return { errorCode: ErrorCode.NON_EMPTY_GROUP, topics: [] };
      subscribed = this.subscriptions(group);
    }
    const changes: { topic: string; partition: number; value: null }[] = [];
    const written: { errorCode: number }[] = [];
    const results: TopicPartitionErrors[] = topics.map((t) => ({
      name: t.name,
      partitions: t.partitionIndexes.map((partitionIndex) => {
        const result: { partitionIndex: number; errorCode: number } = { partitionIndex, errorCode: ErrorCode.NONE };
        if (!this.partitionExists(t.name, partitionIndex)) result.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        else if (subscribed === 'all' || subscribed.has(t.name)) result.errorCode = ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC;
        else if (group.getOffset(t.name, partitionIndex) !== undefined) {
          changes.push({ topic: t.name, partition: partitionIndex, value: null });
          written.push(result);
        }
        return result;
      }),
    }));
    try {
      await this.writeOffsets(group, changes);
    } catch (error) {
      const errorCode = offsetWriteErrorCode(error);
      for (const result of written) result.errorCode = errorCode;
    }
    return { errorCode: ErrorCode.NONE, topics: results };
  }

  /** DeleteGroups: only groups without members; their offsets are tombstoned. */
  async deleteGroups(groupIds: readonly string[]): Promise<{ groupId: string; errorCode: number }[]> {
    return Promise.all(groupIds.map(async (groupId) => ({ groupId, errorCode: await this.deleteGroup(groupId) })));
  }

  private async deleteGroup(groupId: string): Promise<number> {
    if (this.closed) return ErrorCode.NOT_COORDINATOR;
    if (groupId === '') return ErrorCode.INVALID_GROUP_ID;
    const group = this.registry.get(groupId);
    if (group === undefined) return ErrorCode.GROUP_ID_NOT_FOUND;
    if (!group.is(GroupState.Empty) || group.members.size > 0) return ErrorCode.NON_EMPTY_GROUP;
    for (const cancel of group.pendingMembers.values()) cancel();
    group.pendingMembers.clear();
    const writes: OffsetsTopicWrite[] = [];
    for (const [topic, partitions] of group.offsets) {
      for (const partition of partitions.keys()) writes.push({ key: { groupId, topic, partition }, value: null });
    }
    if (group.protocolType !== null) writes.push({ groupId, group: null });
    // Dead before the tombstones are written: a later commit or join creates a new group whose
    // records land after them in the log.
    this.registry.remove(group);
    try {
      await this.topic.write(groupId, writes);
      return ErrorCode.NONE;
    } catch (error) {
      return offsetWriteErrorCode(error);
    }
  }

  /**
   * Offsets retention (KIP-211): an empty group's offsets expire `offsetsRetentionMs` after the
   * group became empty; a group that never had members (standalone commits) expires each offset
   * that long after its commit; a commit with its own retention expires when that runs out. Empty
   * groups left without offsets are removed. Returns the number of offsets expired.
   */
  async expireOffsets(): Promise<number> {
    if (this.closed) return 0;
    const nowMs = this.scheduler.nowMs();
    let expired = 0;
    const writes: Promise<void>[] = [];
    for (const group of [...this.registry.values()]) {
      if (!group.is(GroupState.Empty)) continue;
      const changes: { topic: string; partition: number; value: null }[] = [];
      for (const [topic, partitions] of group.offsets) {
        for (const [partition, c] of partitions) {
          const baseMs = group.protocolType !== null ? group.stateSinceMs : c.commitTimestampMs;
          const due = c.expireTimestampMs >= 0 ? nowMs >= c.expireTimestampMs : nowMs - baseMs >= this.options.offsetsRetentionMs;
          if (due) changes.push({ topic, partition, value: null });
        }
      }
      expired += changes.length;
      writes.push(
        this.writeOffsets(group, changes).then(async () => {
          const unused = group.offsetCount() === 0 && group.size === 0 && group.latestWrites.size === 0;
          if (!unused || !group.is(GroupState.Empty) || !this.registry.isLive(group)) return;
          this.registry.remove(group);
          // A failed tombstone leaves the Empty group stored; the next load restores it and the next check removes it again.
          if (group.protocolType !== null) await this.topic.write(group.groupId, [{ groupId: group.groupId, group: null }]).catch(groupWriteErrorCode);
        }),
      );
    }
    await Promise.all(writes);
    return expired;
  }

  /**
   * Admin reset for replay: moves the group's committed offsets for `topic` to the log start, the
   * high watermark, the first offset at or after a timestamp (the high watermark when none is),
   * or explicit offsets clamped to the partition's range. Refused with NON_EMPTY_GROUP while the
   * group has members, since they would overwrite the reset with their next commit. With `dryRun`,
   * makes the same checks and answers the same offsets, but writes nothing (a preview).
   */
  async resetOffsets(groupId: string, topic: string, target: OffsetResetTarget, options: { dryRun?: boolean } = {}): Promise<{ partition: number; offset: number }[]> {
    if (this.closed) throw new KafkaError('NOT_COORDINATOR', 'the group coordinator is shut down');
    if (groupId === '') throw new KafkaError('INVALID_GROUP_ID', 'the group id is empty');
    const existing = this.registry.get(groupId);
    if (existing !== undefined && (!existing.is(GroupState.Empty) || existing.size > 0)) {
      throw new KafkaError('NON_EMPTY_GROUP', `group "${groupId}" has active members; stop its consumers before resetting offsets`);
    }
    const partitions = this.topics.partitionOffsets(topic);
    let offsets: { partition: number; offset: number }[];
    if (target === 'earliest') offsets = partitions.map((p) => ({ partition: p.partition, offset: p.logStartOffset }));
    else if (target === 'latest') offsets = partitions.map((p) => ({ partition: p.partition, offset: p.highWatermark }));
    else if ('timestamp' in target) {
      if (!Number.isSafeInteger(target.timestamp) || target.timestamp < 0) {
        throw new KafkaError('INVALID_REQUEST', `reset timestamp must be a non-negative integer (ms), got ${target.timestamp}`);
      }
      offsets = partitions.map((p) => {
        const found = this.topics.offsetForTimestamp(topic, p.partition, target.timestamp);
        return { partition: p.partition, offset: found >= 0 ? found : p.highWatermark };
      });
    } else {
      offsets = [...target.offsets].map(([partition, offset]) => {
        const p = partitions[partition];
        if (p === undefined || !Number.isInteger(partition)) {
          throw new KafkaError('UNKNOWN_TOPIC_OR_PARTITION', `topic "${topic}" has no partition ${partition}`);
        }
        if (!Number.isSafeInteger(offset)) throw new KafkaError('INVALID_REQUEST', `offset for partition ${partition} must be an integer, got ${offset}`);
        return { partition, offset: Math.min(Math.max(offset, p.logStartOffset), p.highWatermark) };
      });
    }
    if (options.dryRun === true) return offsets;
    const group = this.registry.getOrCreate(groupId);
    const nowMs = this.scheduler.nowMs();
    await this.writeOffsets(
      group,
      offsets.map(({ partition, offset }) => ({ topic, partition, value: { offset, metadata: '', commitTimestampMs: nowMs, expireTimestampMs: -1 } })),
    );
    return offsets;
  }

  /** Refuses new work and waits for the writes already issued. */
  async close(): Promise<void> {
    this.closed = true;
    await this.topic.settled();
  }
}
