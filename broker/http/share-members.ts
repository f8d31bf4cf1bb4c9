import { ErrorCode, errorName } from '../../sdk/protocol/error-codes.ts';
import { KafkaError } from '../../sdk/protocol/kafka-error.ts';
import type { ShareCoordinator } from '../share/share-coordinator.ts';
import type { AcknowledgementBatch } from '../share/share-partition.ts';
import { ShareSessionEpoch } from '../share/share-sessions.ts';
import type { ShareFetchOutput } from '../share/share-types.ts';
import { HttpProblem } from './problem.ts';

/**
 * One HTTP share-group member: a real member of the share group (ShareGroupHeartbeat, a share
 * session, ShareFetch, ShareAcknowledge through the coordinator), whose epochs the server keeps
 * for the client. Its id is a random UUID known only to the principal that created it.
 */
export interface HttpShareMember {
  readonly groupId: string;
  readonly memberId: string;
  readonly principal: string;
  readonly topics: readonly string[];
  memberEpoch: number;
  /** The share session epoch the next ShareFetch or ShareAcknowledge carries; 0 opens one. */
  sessionEpoch: number;
  /** Assigned partitions by topic id, as the last heartbeat that changed them gave them. */
  assignment: { topicId: string; partitions: number[] }[];
  /** Partitions of the open share session, `topicId:partition`, to forget those no longer assigned. */
  sessionPartitions: Set<string>;
  lastUsedMs: number;
  /** Heartbeats of one member are sent one at a time, so each carries the epoch the last one gave. */
  heartbeats: Promise<unknown>;
  fetching: boolean;
}

export interface AcknowledgeFailure {
  topicId: string;
  partition: number;
  kafkaError: string;
  message: string;
}

/**
 * The HTTP API's share-group members, bounded. Lifetime is an expiry, not a client heartbeat loop:
 * every request naming the member (fetch, acknowledge, heartbeat) heartbeats it to the coordinator,
 * and a member with no request for `group.share.session.timeout.ms` is removed by the coordinator,
 * which releases its records. HTTP clients are often short-lived processes or serverless functions
 * that cannot run a timer; a client that polls is alive by polling, one that vanishes costs its
 * records one session timeout, and DELETE leaves at once.
 */
export class HttpShareMembers {
  private readonly members = new Map<string, HttpShareMember>();

  constructor(
    private readonly coordinator: ShareCoordinator,
    private readonly maxMembers: number,
    private readonly nowMs: () => number,
  ) {}

  get size(): number {
    return this.members.size;
  }

  async join(groupId: string, principal: string, topics: readonly string[], clientHost: string): Promise<HttpShareMember> {
    this.prune();
    if (this.members.size >= this.maxMembers) {
      throw new HttpProblem('tooManyRequests', `the server holds ${this.maxMembers} HTTP share-group members, its limit; delete idle members or retry later`, {
        headers: { 'retry-after': String(Math.ceil(this.coordinator.configOf(groupId).sessionTimeoutMs / 1000)) },
      });
    }
    const answer = await this.coordinator.heartbeat(groupId, { memberId: '', memberEpoch: 0, rackId: null, subscribedTopicNames: [...topics], clientId: 'rill-http', clientHost });
    if (answer.errorCode !== 0 || answer.memberId === null) throw kafkaFailure(answer.errorCode, answer.errorMessage ?? `joining share group "${groupId}" failed`);
    const member: HttpShareMember = {
      groupId,
      memberId: answer.memberId,
      principal,
      topics: [...topics],
      memberEpoch: answer.memberEpoch,
      sessionEpoch: ShareSessionEpoch.open,
      assignment: answer.assignment ?? [],
      sessionPartitions: new Set(),
      lastUsedMs: this.nowMs(),
      heartbeats: Promise.resolve(),
      fetching: false,
    };
    this.members.set(memberKey(groupId, member.memberId), member);
    return member;
  }

  /** The member, for the principal that created it; anyone else is told it does not exist. */
  get(groupId: string, memberId: string, principal: string): HttpShareMember {
    const member = this.members.get(memberKey(groupId, memberId));
    if (member === undefined || member.principal !== principal) {
      throw new HttpProblem('notFound', `share group "${groupId}" has no HTTP member "${memberId}" (it expired after group.share.session.timeout.ms without a request, or was deleted); create a new member`);
    }
    return member;
  }

  /** Heartbeats the member; one whose session timed out in the coordinator is forgotten and a 404. */
  heartbeat(member: HttpShareMember): Promise<void> {
    const beat = member.heartbeats.then(async () => {
      const answer = await this.coordinator.heartbeat(member.groupId, { memberId: member.memberId, memberEpoch: member.memberEpoch, rackId: null, subscribedTopicNames: null });
      if (answer.errorCode === ErrorCode.UNKNOWN_MEMBER_ID || answer.errorCode === ErrorCode.FENCED_MEMBER_EPOCH) {
        this.members.delete(memberKey(member.groupId, member.memberId));
        throw new HttpProblem('notFound', `HTTP member "${member.memberId}" of share group "${member.groupId}" expired (no request for group.share.session.timeout.ms); its records were released; create a new member`);
      }
      if (answer.errorCode !== 0) throw kafkaFailure(answer.errorCode, answer.errorMessage ?? 'the share-group heartbeat failed');
      member.memberEpoch = answer.memberEpoch;
      if (answer.assignment !== null) member.assignment = answer.assignment;
      member.lastUsedMs = this.nowMs();
    });
    member.heartbeats = beat.catch(() => undefined);
    return beat;
  }

  /**
   * Acquires up to `maxRecords` from the member's assigned partitions, waiting up to `maxWaitMs`
   * for some. One fetch per member at a time (a member is one consumer); acknowledgements may
   * run alongside.
   */
  async fetch(member: HttpShareMember, maxRecords: number, maxWaitMs: number, signal: AbortSignal): Promise<ShareFetchOutput> {
    if (member.fetching) throw new HttpProblem('conflict', `HTTP member "${member.memberId}" already has a fetch in progress; a member fetches one request at a time`);
    member.fetching = true;
    try {
      await this.heartbeat(member);
      const assigned = new Set<string>();
      const partitions = member.assignment.flatMap((t) =>
        t.partitions.map((partition) => {
          assigned.add(`${t.topicId}:${partition}`);
          return { topicId: t.topicId, partition, partitionMaxBytes: 1024 * 1024, acknowledgementBatches: [] };
        }),
      );
      const forgotten = [...member.sessionPartitions].filter((k) => !assigned.has(k)).map(splitKey);
      const epoch = this.takeEpoch(member);
      if (epoch === ShareSessionEpoch.open) member.sessionPartitions.clear();
      const answer = await this.coordinator.shareFetch(
        { groupId: member.groupId, memberId: member.memberId, shareSessionEpoch: epoch, maxWaitMs, minBytes: 1, maxBytes: 8 * 1024 * 1024, partitions, forgotten: epoch === ShareSessionEpoch.open ? [] : forgotten, maxRecords },
        signal,
      );
      this.checkSession(member, answer.errorCode);
      if (answer.errorCode !== 0) throw kafkaFailure(answer.errorCode, answer.errorMessage ?? 'the share fetch failed');
      member.sessionPartitions = assigned;
      return answer;
    } finally {
      member.fetching = false;
    }
  }

  /** Applies acknowledgements per partition (each partition all or none); returns the partitions that failed. */
  async acknowledge(member: HttpShareMember, partitions: readonly { topicId: string; partition: number; acknowledgementBatches: AcknowledgementBatch[] }[]): Promise<AcknowledgeFailure[]> {
    await this.heartbeat(member);
    if (member.sessionEpoch === ShareSessionEpoch.open) {
      // No session yet (or the coordinator lost it): open an empty one; what the member holds is its by member id.
      member.sessionPartitions.clear();
      const opened = await this.coordinator.shareFetch({ groupId: member.groupId, memberId: member.memberId, shareSessionEpoch: this.takeEpoch(member), maxWaitMs: 0, minBytes: 0, maxBytes: 0, partitions: [], forgotten: [] });
      this.checkSession(member, opened.errorCode);
      if (opened.errorCode !== 0) throw kafkaFailure(opened.errorCode, opened.errorMessage ?? 'opening a share session failed');
    }
    const answer = await this.coordinator.shareAcknowledge({ groupId: member.groupId, memberId: member.memberId, shareSessionEpoch: this.takeEpoch(member), partitions });
    this.checkSession(member, answer.errorCode);
    if (answer.errorCode !== 0) throw kafkaFailure(answer.errorCode, answer.errorMessage ?? 'the share acknowledgement failed');
    return answer.partitions
      .filter((p) => p.errorCode !== 0)
      .map((p) => ({ topicId: p.topicId, partition: p.partition, kafkaError: errorName(p.errorCode) ?? 'UNKNOWN_SERVER_ERROR', message: p.errorMessage ?? '' }));
  }

  /** Leaves the group: the member's records are released at once. */
  async leave(member: HttpShareMember): Promise<void> {
    this.members.delete(memberKey(member.groupId, member.memberId));
    await member.heartbeats;
    const answer = await this.coordinator.heartbeat(member.groupId, { memberId: member.memberId, memberEpoch: -1, rackId: null, subscribedTopicNames: null });
    if (answer.errorCode !== 0 && answer.errorCode !== ErrorCode.UNKNOWN_MEMBER_ID) throw kafkaFailure(answer.errorCode, answer.errorMessage ?? 'leaving the share group failed');
  }

  /** The epoch for the next share request, taken synchronously before it is sent, so concurrent requests carry consecutive epochs. */
  private takeEpoch(member: HttpShareMember): number {
    const epoch = member.sessionEpoch;
    member.sessionEpoch = epoch === 0x7fffffff ? 1 : epoch + 1;
    return epoch;
  }

  /** A session the coordinator no longer knows (or an epoch out of step) is reopened by the next fetch. */
  private checkSession(member: HttpShareMember, errorCode: number): void {
    if (errorCode === ErrorCode.SHARE_SESSION_NOT_FOUND || errorCode === ErrorCode.INVALID_SHARE_SESSION_EPOCH) member.sessionEpoch = ShareSessionEpoch.open;
  }

  /** Forgets members silent for longer than their group's session timeout: the coordinator removed them. */
  private prune(): void {
    const nowMs = this.nowMs();
    for (const [key, member] of this.members) {
      if (nowMs - member.lastUsedMs > this.coordinator.configOf(member.groupId).sessionTimeoutMs) this.members.delete(key);
    }
  }
}

function memberKey(groupId: string, memberId: string): string {
  return `${groupId}\u0000${memberId}`;
}

function splitKey(key: string): { topicId: string; partition: number } {
  const at = key.lastIndexOf(':');
  return { topicId: key.slice(0, at), partition: Number(key.slice(at + 1)) };
}

function kafkaFailure(errorCode: number, message: string): KafkaError {
  return new KafkaError(errorName(errorCode) ?? 'UNKNOWN_SERVER_ERROR', message);
}
