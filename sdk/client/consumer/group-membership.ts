import { ApiKey, type JoinGroupResponse } from '../../protocol/mod.ts';
import { ErrorCode } from '../../protocol/error-codes.ts';
import { isKafkaError, KafkaError } from '../../protocol/kafka-error.ts';
import { type BackoffOptions, backoffMs } from '../../transport/backoff.ts';
import { type ClusterMetadata, CoordinatorType } from '../cluster-metadata.ts';
import { errorFromCode } from '../error-from-code.ts';
import type { ConsumerGroupMetadata } from '../producer/producer-types.ts';
import type { Assignor, MemberSubscription, RebalanceProtocol } from './assignors/assignor.ts';
import { decodeMemberAssignment, decodeSubscription, encodeAssignment, encodeSubscription, type Subscription } from './consumer-protocol.ts';
import { type TopicPartition, tpKey } from './consumer-types.ts';

/** Bounds on what a leader assigns and a member subscribes to. */
const MAX_GROUP_MEMBERS = 10_000;
const MAX_SUBSCRIBED_TOPICS = 10_000;

export interface GroupMembershipOptions {
  groupId: string;
  groupInstanceId: string | null;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  heartbeatIntervalMs: number;
  assignors: readonly Assignor[];
  retryBackoff: BackoffOptions;
}

/** What the membership needs from its consumer: the partitions it holds and how to change them. */
export interface MembershipHost {
  owned(): TopicPartition[];
  /** Gives partitions up: `lost` when the group already moved past this member (no commit possible). */
  revoke(partitions: TopicPartition[], lost: boolean): Promise<void>;
  /** Takes new partitions: positions from committed offsets, then the listener. */
  assign(partitions: TopicPartition[]): Promise<void>;
  /** A non-retriable group error, surfaced to the application. */
  fail(error: unknown): void;
}

/** Errors after which the member's id or generation is no longer valid: its partitions are lost. */
const LOST_MEMBERSHIP = ['UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION'] as const;

function isLostMembership(error: unknown): boolean {
  return LOST_MEMBERSHIP.some((name) => isKafkaError(error, name));
}

function coordinatorMoved(error: unknown): boolean {
  return isKafkaError(error, 'NOT_COORDINATOR') || isKafkaError(error, 'COORDINATOR_NOT_AVAILABLE') || isKafkaError(error, 'NETWORK_EXCEPTION') || isKafkaError(error, 'REQUEST_TIMED_OUT');
}

/** The subscription for one assignor: the shared one, or re-encoded with that assignor's userData. */
function withUserData(metadata: { bytes: Uint8Array; subscription: Subscription }, assignor: Assignor): Uint8Array {
  const userData = assignor.subscriptionUserData?.() ?? null;
  return userData === null ? metadata.bytes : encodeSubscription({ ...metadata.subscription, userData });
}

function minus(a: readonly TopicPartition[], b: readonly TopicPartition[]): TopicPartition[] {
  const keys = new Set(b.map((tp) => tpKey(tp.topic, tp.partition)));
  return a.filter((tp) => !keys.has(tpKey(tp.topic, tp.partition)));
}

/**
 * A consumer's membership in a group under the classic protocol, as one background loop: JoinGroup
 * (retrying once with the id a MEMBER_ID_REQUIRED answer hands out), SyncGroup (as leader, with the
 * assignment the group's chosen assignor computes), then Heartbeat every `heartbeatIntervalMs`.
 * REBALANCE_IN_PROGRESS rejoins with the same id; UNKNOWN_MEMBER_ID / ILLEGAL_GENERATION lose the
 * partitions and rejoin fresh. Under the cooperative protocol only moved partitions are revoked,
 * followed by a second rebalance that hands them to their new owners (KIP-429).
 */
export class GroupMembership {
  memberId = '';
  generationId = -1;
  private topics: string[] = [];
  private rejoinNeeded = false;
  private joining = false;
  private closed = false;
  private left = false;
  private loop: Promise<void> | undefined;
  private wakeSleeper: (() => void) | undefined;
  readonly protocol: RebalanceProtocol;
  /** This member's own coordinator connection: a held JoinGroup must not delay anyone else's requests. */
  private readonly lane = `group-member-${crypto.randomUUID()}`;

  constructor(
    private readonly metadata: ClusterMetadata,
    private readonly host: MembershipHost,
    private readonly options: GroupMembershipOptions,
  ) {
    if (options.assignors.length === 0) throw new KafkaError('INVALID_CONFIG', 'a group consumer needs at least one assignor');
    // Kafka's rule: cooperative only when every assignor the member offers supports it.
    this.protocol = options.assignors.every((a) => a.protocol === 'cooperative') ? 'cooperative' : 'eager';
  }

  groupMetadata(): ConsumerGroupMetadata {
    return { groupId: this.options.groupId, generationId: this.generationId, memberId: this.memberId, groupInstanceId: this.options.groupInstanceId };
  }

  /** Whether the member holds a generation (joined and synced, no rebalance noticed since). */
  get stable(): boolean {
    return this.generationId >= 0 && !this.rejoinNeeded && !this.joining;
  }

  subscribe(topics: readonly string[]): void {
    if (this.closed) throw new KafkaError('INVALID_CONFIG', 'the consumer is closed');
    if (topics.length > MAX_SUBSCRIBED_TOPICS) throw new KafkaError('INVALID_CONFIG', `at most ${MAX_SUBSCRIBED_TOPICS} topics may be subscribed`);
    this.topics = [...new Set(topics)].sort();
    this.rejoinNeeded = true;
    this.loop ??= this.run();
    this.wake();
  }

  private wake(): void {
    this.wakeSleeper?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeSleeper = done;
    });
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.closed) {
      try {
        if (this.rejoinNeeded) await this.joinAndSync();
        else {
          await this.sleep(this.options.heartbeatIntervalMs);
          if (!this.closed && !this.rejoinNeeded) await this.heartbeat();
        }
        failures = 0;
      } catch (error) {
        if (this.closed) break;
        if (coordinatorMoved(error)) this.metadata.invalidateCoordinator(CoordinatorType.group, this.options.groupId);
        if (isLostMembership(error)) {
          await this.lose();
          continue;
        }
        if (isKafkaError(error, 'REBALANCE_IN_PROGRESS')) {
          this.rejoinNeeded = true;
          continue;
        }
        if ((isKafkaError(error) && error.retriable) || coordinatorMoved(error) || isKafkaError(error, 'COORDINATOR_LOAD_IN_PROGRESS')) {
          await this.sleep(backoffMs(failures++, this.options.retryBackoff));
          continue;
        }
        this.host.fail(error);
        return;
      }
    }
  }

  /** The member is no longer in the group as it knew it: give up everything without committing and start over. */
  private async lose(): Promise<void> {
    this.memberId = this.options.groupInstanceId === null ? '' : this.memberId;
    this.generationId = -1;
    this.rejoinNeeded = true;
    const owned = this.host.owned();
    if (owned.length > 0) await this.host.revoke(owned, true);
  }

  private async coordinator(): Promise<number> {
    return this.metadata.coordinator(CoordinatorType.group, this.options.groupId);
  }

  private async joinAndSync(): Promise<void> {
    this.joining = true;
    try {
      if (this.protocol === 'eager') {
        const owned = this.host.owned();
        if (owned.length > 0) await this.host.revoke(owned, false);
      }
      const joined = await this.join();
      if (this.closed) return;
      const assignment = await this.sync(joined);
      if (this.closed) return;
      this.rejoinNeeded = false;
      const owned = this.host.owned();
      const revoked = minus(owned, assignment);
      if (revoked.length > 0) {
        await this.host.revoke(revoked, false);
        // The partitions just revoked are unowned only from the next generation on.
        if (this.protocol === 'cooperative') this.rejoinNeeded = true;
      }
      await this.host.assign(minus(assignment, owned));
    } finally {
      this.joining = false;
    }
  }

  private async join(): Promise<JoinGroupResponse> {
    const transport = this.metadata.transport;
    for (let attempt = 0; ; attempt++) {
      const nodeId = await this.coordinator();
      const version = await transport.apiVersion(ApiKey.JoinGroup, nodeId);
      // Eager assignors use neither owned partitions nor the generation. Leaving them out keeps a
      // restarted static member's metadata identical, so the coordinator hands its assignment back
      // without a rebalance (KIP-345).
      const cooperative = this.protocol === 'cooperative';
      const subscription: Subscription = {
        topics: this.topics,
        ownedPartitions: cooperative ? this.host.owned() : [],
        generationId: cooperative ? this.generationId : -1,
      };
      const metadata = { bytes: encodeSubscription(subscription), subscription };
      const response = await transport.send(
        ApiKey.JoinGroup,
        version,
        {
          groupId: this.options.groupId,
          sessionTimeoutMs: this.options.sessionTimeoutMs,
          rebalanceTimeoutMs: this.options.rebalanceTimeoutMs,
          memberId: this.memberId,
          groupInstanceId: this.options.groupInstanceId,
          protocolType: 'consumer',
          protocols: this.options.assignors.map((a) => ({ name: a.name, metadata: withUserData(metadata, a) })),
          reason: null,
        },
        // The coordinator holds JoinGroup until every member rejoined, up to the rebalance timeout.
        { nodeId, lane: this.lane, timeoutMs: this.options.rebalanceTimeoutMs + 5_000 },
      );
      // KIP-394: a new member first gets its id from the coordinator and joins again with it.
      if (response.errorCode === ErrorCode.MEMBER_ID_REQUIRED && attempt === 0) {
        this.memberId = response.memberId;
        continue;
      }
      if (response.errorCode !== 0) throw errorFromCode(response.errorCode, `JoinGroup ${this.options.groupId}`);
      this.memberId = response.memberId;
      this.generationId = response.generationId;
      return response;
    }
  }

  private async sync(joined: JoinGroupResponse): Promise<TopicPartition[]> {
    const transport = this.metadata.transport;
    const isLeader = joined.leader === joined.memberId && !joined.skipAssignment;
    const assignments = isLeader ? await this.assign(joined) : [];
    const nodeId = await this.coordinator();
    const version = await transport.apiVersion(ApiKey.SyncGroup, nodeId);
    const response = await transport.send(
      ApiKey.SyncGroup,
      version,
      {
        groupId: this.options.groupId,
        generationId: this.generationId,
        memberId: this.memberId,
        groupInstanceId: this.options.groupInstanceId,
        protocolType: 'consumer',
        protocolName: joined.protocolName,
        assignments,
      },
      { nodeId, lane: this.lane, timeoutMs: this.options.rebalanceTimeoutMs + 5_000 },
    );
    if (response.errorCode !== 0) throw errorFromCode(response.errorCode, `SyncGroup ${this.options.groupId}`);
    const subscribed = new Set(this.topics);
    const received = decodeMemberAssignment(response.assignment);
    const partitions = received.partitions.filter((tp) => subscribed.has(tp.topic));
    this.options.assignors.find((a) => a.name === joined.protocolName)?.onAssignment?.({ partitions, userData: received.userData }, this.generationId);
    return partitions;
  }

  /** The leader's work: every member's partitions by the assignor the coordinator chose. */
  private async assign(joined: JoinGroupResponse): Promise<{ memberId: string; assignment: Uint8Array }[]> {
    if (joined.members.length > MAX_GROUP_MEMBERS) throw new KafkaError('GROUP_MAX_SIZE_REACHED', `the group has more than ${MAX_GROUP_MEMBERS} members`);
    const assignor = this.options.assignors.find((a) => a.name === joined.protocolName);
    if (assignor === undefined) throw new KafkaError('INCONSISTENT_GROUP_PROTOCOL', `the group chose assignor ${joined.protocolName}, which this member does not offer`);
    const members: MemberSubscription[] = joined.members.map((m) => {
      const s = decodeSubscription(m.metadata);
      return { memberId: m.memberId, groupInstanceId: m.groupInstanceId, topics: s.topics, ownedPartitions: s.ownedPartitions, generationId: s.generationId, userData: s.userData };
    });
    const topics = [...new Set(members.flatMap((m) => m.topics))];
    // Fresh counts: a rebalance is when partitions added since the last one get owners.
    for (const topic of topics) this.metadata.invalidate(topic);
    const found = await this.metadata.fetch(topics, { failOnTopicError: false });
    const partitionCounts = new Map([...found].map(([name, t]) => [name, t.leaders.length]));
    const result = assignor.assign(members, partitionCounts);
    return members.map((m) => {
      const assigned = result.get(m.memberId) ?? [];
      return { memberId: m.memberId, assignment: Array.isArray(assigned) ? encodeAssignment(assigned) : encodeAssignment(assigned.partitions, assigned.userData) };
    });
  }

  private async heartbeat(): Promise<void> {
    const transport = this.metadata.transport;
    const nodeId = await this.coordinator();
    const version = await transport.apiVersion(ApiKey.Heartbeat, nodeId);
    const response = await transport.send(
      ApiKey.Heartbeat,
      version,
      { groupId: this.options.groupId, generationId: this.generationId, memberId: this.memberId, groupInstanceId: this.options.groupInstanceId },
      { nodeId, lane: this.lane, timeoutMs: this.options.sessionTimeoutMs },
    );
    if (response.errorCode !== 0) throw errorFromCode(response.errorCode, `Heartbeat ${this.options.groupId}`);
  }

  /**
   * Stops the loop, gives the partitions up (committing first when `beforeRevoke` does) and leaves
   * the group so the others rebalance at once. A static member does not leave: its partitions wait
   * for it to come back within the session timeout (KIP-345).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wake();
    // A pending JoinGroup is only answered once the rebalance completes; leaving ends it now.
    if (this.joining) await this.leave();
    await this.loop;
    const owned = this.host.owned();
    if (owned.length > 0) await this.host.revoke(owned, this.generationId < 0).catch(() => undefined);
    await this.leave();
    await this.metadata.transport.releaseLane?.(this.lane);
  }

  private async leave(): Promise<void> {
    if (this.left || this.memberId === '' || this.options.groupInstanceId !== null) return;
    this.left = true;
    const transport = this.metadata.transport;
    try {
      const nodeId = await this.coordinator();
      const version = await transport.apiVersion(ApiKey.LeaveGroup, nodeId);
      await transport.send(
        ApiKey.LeaveGroup,
        version,
        {
          groupId: this.options.groupId,
          memberId: version < 3 ? this.memberId : '',
          members: version >= 3 ? [{ memberId: this.memberId, groupInstanceId: null, reason: 'the consumer is closing' }] : [],
        },
        { nodeId, lane: this.lane, timeoutMs: 5_000 },
      );
    } catch {
      // Leaving is a courtesy: without it the coordinator expires the member after its session timeout.
    }
  }
}
