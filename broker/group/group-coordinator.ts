import type { Clock } from '../log/clock.ts';
import type { TxnOffsetSink } from '../txn/txn-offset-sink.ts';
import type { GroupHost, TopicOffsetsView } from './group-host.ts';
import { loadGroups } from './group-loader.ts';
import { GroupMembership } from './group-membership.ts';
import { groupMetadataOf } from './group-metadata.ts';
import { GroupOffsets } from './group-offsets.ts';
import { defaultGroupCoordinatorOptions, type GroupCoordinatorOpenOptions, type GroupCoordinatorOptions } from './group-options.ts';
import { describeGroups, describeGroupWithLag, listGroups } from './group-queries.ts';
import { GroupRegistry } from './group-registry.ts';
import type {
  DescribedGroup,
  GroupDescription,
  HeartbeatInput,
  JoinGroupInput,
  JoinGroupResult,
  LeaveGroupResult,
  ListedGroup,
  MemberIdentity,
  OffsetCommitInput,
  OffsetDeleteResult,
  OffsetFetchResult,
  OffsetResetTarget,
  SyncGroupInput,
  SyncGroupResult,
  TopicPartitionErrors,
  TopicPartitions,
} from './group-types.ts';
import { OffsetsTopic } from './offsets-topic.ts';
import { type CancelTimer, type Scheduler, timerScheduler } from './scheduler.ts';

/**
 * Kafka's group coordinator for this single node: the classic consumer-group protocol, with
 * committed offsets and group metadata kept in `__consumer_offsets`. Every transport reaches it
 * as `broker.groups`.
 */
export class GroupCoordinator {
  readonly options: Readonly<GroupCoordinatorOptions>;
  private readonly registry: GroupRegistry;
  private readonly membership: GroupMembership;
  private readonly offsets: GroupOffsets;
  /**
   * The seam the transaction coordinator hands a committed transaction's group offsets through
   * (KIP-447 fencing for TxnOffsetCommit, then a durable, idempotent write).
   */
  readonly txnOffsetSink: TxnOffsetSink = {
    checkMember: (groupId, generationId, memberId, groupInstanceId) =>
      this.offsets.checkTxnMember(groupId, generationId, memberId, groupInstanceId),
    commitOffsets: (groupId, offsets) => this.offsets.commitTxnOffsets(groupId, offsets),
  };
  private readonly topic: OffsetsTopic;
  private readonly topics: TopicOffsetsView;
  private retentionTimer: CancelTimer | undefined;
  private retentionRun: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    host: GroupHost,
    private readonly scheduler: Scheduler,
    options: GroupCoordinatorOptions,
  ) {
    this.options = options;
    this.topics = host.topics;
    this.registry = new GroupRegistry(options.maxGroups, () => scheduler.nowMs());
    const topic = new OffsetsTopic(host.internalTopics, options.offsetsTopicPartitions, () => scheduler.nowMs());
    this.topic = topic;
    this.membership = new GroupMembership(this.registry, scheduler, options, (group) =>
      topic.write(group.groupId, [{ groupId: group.groupId, group: groupMetadataOf(group) }]),
    );
    this.offsets = new GroupOffsets(this.registry, topic, host.topics, this.membership, scheduler, options);
  }

  /**
   * Rebuilds the groups (committed offsets, generations, members) from `__consumer_offsets`,
   * starts a fresh session for every restored member and starts the retention check. Timers come
   * from `scheduler`, or real timers reading `clock` (the broker's).
   */
  static async open(host: GroupHost, options: GroupCoordinatorOpenOptions & { clock?: Clock } = {}): Promise<GroupCoordinator> {
    const { scheduler, clock, ...overrides } = options;
    const coordinator = new GroupCoordinator(host, scheduler ?? timerScheduler(clock), { ...defaultGroupCoordinatorOptions, ...overrides });
    for (const { group, member } of await loadGroups(coordinator.topic, coordinator.registry)) coordinator.membership.touchSession(group, member);
    coordinator.scheduleRetention();
    return coordinator;
  }

  private scheduleRetention(): void {
    this.retentionTimer = this.scheduler.schedule(this.options.offsetsRetentionCheckIntervalMs, () => {
      // A failed check (an offline offsets partition) is retried on the next interval.
      this.retentionRun = this.offsets.expireOffsets().catch(() => 0);
      void this.retentionRun.then(() => {
        if (!this.closed) this.scheduleRetention();
      });
    });
  }

  joinGroup(input: JoinGroupInput): Promise<JoinGroupResult> {
    return this.membership.join(input);
  }

  syncGroup(input: SyncGroupInput): Promise<SyncGroupResult> {
    return this.membership.sync(input);
  }

  /** Returns the Kafka error code (NONE, REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION, ...). */
  heartbeat(input: HeartbeatInput): number {
    return this.membership.heartbeat(input);
  }

  leaveGroup(groupId: string, members: readonly MemberIdentity[]): LeaveGroupResult {
    return this.membership.leave(groupId, members);
  }

  commitOffsets(input: OffsetCommitInput): Promise<TopicPartitionErrors[]> {
    return this.offsets.commit(input);
  }

  /** `topics` null fetches every committed partition of the group. */
  fetchOffsets(groupId: string, topics: readonly TopicPartitions[] | null): OffsetFetchResult {
    return this.offsets.fetch(groupId, topics);
  }

  deleteOffsets(groupId: string, topics: readonly TopicPartitions[]): Promise<OffsetDeleteResult> {
    return this.offsets.deleteOffsets(groupId, topics);
  }

  describeGroups(groupIds: readonly string[]): DescribedGroup[] {
    return describeGroups(this.registry, groupIds);
  }

  listGroups(statesFilter: readonly string[] = []): ListedGroup[] {
    return listGroups(this.registry, statesFilter);
  }

  deleteGroups(groupIds: readonly string[]): Promise<{ groupId: string; errorCode: number }[]> {
    return this.offsets.deleteGroups(groupIds);
  }

  /** For the CLI and HTTP API: members, committed offsets and lag. Throws GROUP_ID_NOT_FOUND. */
  describeGroup(groupId: string): GroupDescription {
    return describeGroupWithLag(this.registry, this.topics, groupId);
  }

  /**
   * Replay: moves a member-less group's offsets for `topic`. Throws NON_EMPTY_GROUP while it has
   * members, UNKNOWN_TOPIC_OR_PARTITION for an unknown topic or partition. Returns the new offsets.
   */
  resetOffsets(groupId: string, topic: string, target: OffsetResetTarget, options: { dryRun?: boolean } = {}): Promise<{ partition: number; offset: number }[]> {
    return this.offsets.resetOffsets(groupId, topic, target, options);
  }

  /** Runs the offsets retention check now; returns how many offsets expired. */
  expireOffsets(): Promise<number> {
    return this.offsets.expireOffsets();
  }

  /** Stops timers, answers parked requests with NOT_COORDINATOR and waits for pending offset writes. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.retentionTimer?.();
    this.membership.close();
    await this.retentionRun;
    await this.offsets.close();
  }
}
