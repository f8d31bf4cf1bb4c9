import { randomUUID } from 'node:crypto';
import { ErrorCode } from '../../sdk/protocol/error-codes.ts';
import { assignShareGroup, sameAssignment, type ShareAssignment } from './share-assignor.ts';
import type { ShareGroupConfig } from './share-config.ts';

export interface ShareMember {
  readonly memberId: string;
  memberEpoch: number;
  subscribedTopicNames: string[];
  rackId: string | null;
  clientId: string;
  clientHost: string;
  lastHeartbeatMs: number;
  assignment: ShareAssignment;
}

export interface HeartbeatInput {
  memberId: string;
  memberEpoch: number;
  rackId: string | null;
  subscribedTopicNames: string[] | null;
  clientId?: string;
  clientHost?: string;
}

export type HeartbeatResult =
  | { errorCode: number; message: string }
  | { errorCode: 0; memberId: string; memberEpoch: number; assignment: ShareAssignment | null; left: boolean };

/** Members bound per group, so a client looping on joins cannot grow the map without end. */
export const MAX_SHARE_GROUP_MEMBERS = 1000;

/**
 * One share group's membership (KIP-932's ShareGroupHeartbeat): members join with epoch 0, leave
 * with -1, and otherwise heartbeat with the epoch they were last given. The group epoch moves on
 * every membership, subscription or partition-count change; a member behind it gets the new
 * target assignment and the group epoch on its next heartbeat. Share groups revoke nothing (no
 * member owns a partition), so there is no reconciliation phase.
 */
export class ShareGroup {
  groupEpoch = 0;
  readonly members = new Map<string, ShareMember>();
  /** Partition counts of the subscribed topics at the last assignment, to notice new partitions. */
  private layout = '';

  constructor(
    readonly groupId: string,
    /** Replaced when the group's configs are altered (IncrementalAlterConfigs on the GROUP resource). */
    public config: Readonly<ShareGroupConfig>,
  ) {}

  heartbeat(input: HeartbeatInput, nowMs: number, partitionCount: (topic: string) => number | undefined): HeartbeatResult {
    if (input.memberEpoch === 0) {
      if (input.subscribedTopicNames === null || input.subscribedTopicNames.length === 0) {
        return { errorCode: ErrorCode.INVALID_REQUEST, message: 'a joining member must subscribe to at least one topic' };
      }
      const memberId = input.memberId === '' ? randomUUID() : input.memberId;
      if (!this.members.has(memberId) && this.members.size >= MAX_SHARE_GROUP_MEMBERS) {
        return { errorCode: ErrorCode.GROUP_MAX_SIZE_REACHED, message: `share group "${this.groupId}" has ${MAX_SHARE_GROUP_MEMBERS} members` };
      }
      this.members.set(memberId, { memberId, memberEpoch: 0, subscribedTopicNames: [...input.subscribedTopicNames], rackId: input.rackId, clientId: input.clientId ?? '', clientHost: input.clientHost ?? '', lastHeartbeatMs: nowMs, assignment: new Map() });
      this.groupEpoch++;
      return this.answer(memberId, nowMs, partitionCount);
    }
    const member = this.members.get(input.memberId);
    if (member === undefined) return { errorCode: ErrorCode.UNKNOWN_MEMBER_ID, message: `member "${input.memberId}" is not in share group "${this.groupId}"` };
    if (input.memberEpoch === -1) {
      this.members.delete(member.memberId);
      this.groupEpoch++;
      return { errorCode: 0, memberId: member.memberId, memberEpoch: -1, assignment: null, left: true };
    }
    if (input.memberEpoch !== member.memberEpoch) {
      return { errorCode: ErrorCode.FENCED_MEMBER_EPOCH, message: `member "${member.memberId}" sent epoch ${input.memberEpoch}; its epoch is ${member.memberEpoch}` };
    }
    if (input.subscribedTopicNames !== null && input.subscribedTopicNames.length > 0 && !sameTopics(input.subscribedTopicNames, member.subscribedTopicNames)) {
      member.subscribedTopicNames = [...input.subscribedTopicNames];
      this.groupEpoch++;
    }
    return this.answer(member.memberId, nowMs, partitionCount);
  }

  /** Removes `memberId` (session timeout); true when it was a member. */
  remove(memberId: string): boolean {
    if (!this.members.delete(memberId)) return false;
    this.groupEpoch++;
    return true;
  }

  /** Members whose last heartbeat is older than the session timeout. */
  expiredMembers(nowMs: number): string[] {
    return [...this.members.values()].filter((m) => nowMs - m.lastHeartbeatMs > this.config.sessionTimeoutMs).map((m) => m.memberId);
  }

  private answer(memberId: string, nowMs: number, partitionCount: (topic: string) => number | undefined): HeartbeatResult {
    const member = this.members.get(memberId)!;
    member.lastHeartbeatMs = nowMs;
    const layout = this.layoutOf(partitionCount);
    if (layout !== this.layout) {
      this.layout = layout;
      this.groupEpoch++;
    }
    if (member.memberEpoch === this.groupEpoch) return { errorCode: 0, memberId, memberEpoch: member.memberEpoch, assignment: null, left: false };
    const target = assignShareGroup([...this.members.values()], partitionCount).get(memberId)!;
    const changed = member.memberEpoch === 0 || !sameAssignment(target, member.assignment);
    member.assignment = target;
    member.memberEpoch = this.groupEpoch;
    return { errorCode: 0, memberId, memberEpoch: member.memberEpoch, assignment: changed ? target : null, left: false };
  }

  private layoutOf(partitionCount: (topic: string) => number | undefined): string {
    const topics = [...new Set([...this.members.values()].flatMap((m) => m.subscribedTopicNames))].sort();
    return topics.map((t) => `${t}:${partitionCount(t) ?? 0}`).join(',');
  }
}

function sameTopics(a: readonly string[], b: readonly string[]): boolean {
  const x = [...a].sort();
  const y = [...b].sort();
  return x.length === y.length && x.every((t, i) => t === y[i]);
}
