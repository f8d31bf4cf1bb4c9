import { GroupState, type GroupStateValue, transition } from './group-state.ts';
import type { JoinGroupResult, MemberSettings, SyncGroupResult } from './group-types.ts';
import type { CancelTimer } from './scheduler.ts';

export interface GroupMember extends MemberSettings {
  memberId: string;
  /** The leader's assignment for this member in the current generation. */
  assignment: Uint8Array;
  /** Set while the member's JoinGroup is parked at the join barrier. */
  joinWaiter: ((result: JoinGroupResult) => void) | undefined;
  /** Set while the member's SyncGroup waits for the leader's assignment. */
  syncWaiter: ((result: SyncGroupResult) => void) | undefined;
  cancelSession: CancelTimer | undefined;
}

export interface CommittedOffset {
  offset: number;
  metadata: string;
  commitTimestampMs: number;
  /** -1 when the group's retention applies. */
  expireTimestampMs: number;
}

export const EMPTY_BYTES = new Uint8Array(0);

/** One classic-protocol group: membership, generation, and the group's committed offsets. */
export class ClassicGroup {
  state: GroupStateValue = GroupState.Empty;
  stateSinceMs: number;
  generationId = 0;
  /** The members' protocol type (`consumer` for consumers); null for a group that only holds offsets. */
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  /** In join order, so the first remaining member becomes leader when the leader goes. */
  readonly members = new Map<string, GroupMember>();
  /** group.instance.id → the member id currently holding it. */
  readonly staticMembers = new Map<string, string>();
  /** Member ids handed out with MEMBER_ID_REQUIRED whose rejoin is awaited, with their expiry. */
  readonly pendingMembers = new Map<string, CancelTimer>();
  /** topic → partition → committed offset. */
  readonly offsets = new Map<string, Map<number, CommittedOffset>>();
  /** Offset key → the sequence number of the latest write issued for it (see GroupOffsets). */
  readonly latestWrites = new Map<string, number>();
  /** The join barrier completes no earlier than this (the initial rebalance delay). */
  joinNotBeforeMs = 0;
  rebalanceDeadlineMs = 0;
  /** Completes the join barrier at the rebalance deadline, whoever has not rejoined. */
  cancelRebalanceTimeout: CancelTimer | undefined;
  /** Checks the join barrier again when the initial delay ends; at most one pending. */
  cancelJoinCheck: CancelTimer | undefined;
  cancelSyncTimer: CancelTimer | undefined;

  constructor(
    readonly groupId: string,
    nowMs: number,
  ) {
    this.stateSinceMs = nowMs;
  }

  transitionTo(to: GroupStateValue, nowMs: number): void {
    this.state = transition(this.groupId, this.state, to);
    this.stateSinceMs = nowMs;
  }

  is(state: GroupStateValue): boolean {
    return this.state === state;
  }

  /** Members plus pending ones: what `group.max.size` bounds. */
  get size(): number {
    return this.members.size + this.pendingMembers.size;
  }

  /** True when `groupInstanceId` belongs to a member other than `memberId` (a fenced zombie). */
  isFenced(memberId: string, groupInstanceId: string | null): boolean {
    if (groupInstanceId === null) return false;
    const holder = this.staticMembers.get(groupInstanceId);
    return holder !== undefined && holder !== memberId;
  }

  /** Protocols every member supports. */
  candidateProtocols(): Set<string> {
    let candidates: Set<string> | undefined;
    for (const member of this.members.values()) {
      const names = new Set(member.protocols.map((p) => p.name));
      candidates = candidates === undefined ? names : new Set([...candidates].filter((n) => names.has(n)));
    }
    return candidates ?? new Set();
  }

  /** Whether a (new or rejoining) member with these protocols can be in the group. */
  supportsProtocols(protocolType: string, protocolNames: readonly string[]): boolean {
    if (this.members.size === 0) return protocolType !== '' && protocolNames.length > 0;
    const candidates = this.candidateProtocols();
    return protocolType === this.protocolType && protocolNames.some((n) => candidates.has(n));
  }

  /**
   * Kafka's selection: each member votes for the first protocol in its own preference order that
   * every member supports; the most votes win, ties going to the earlier-joined members' choice.
   */
  selectProtocol(): string {
    const candidates = this.candidateProtocols();
    const votes = new Map<string, number>();
    for (const member of this.members.values()) {
      const choice = member.protocols.find((p) => candidates.has(p.name));
      if (choice === undefined) throw new Error(`invariant: a member of group "${this.groupId}" supports no common protocol`);
      votes.set(choice.name, (votes.get(choice.name) ?? 0) + 1);
    }
    let best: string | undefined;
    for (const [name, count] of votes) if (best === undefined || count > votes.get(best)!) best = name;
    if (best === undefined) throw new Error(`invariant: group "${this.groupId}" selects a protocol with no members`);
    return best;
  }

  metadataFor(member: GroupMember, protocolName: string | null): Uint8Array {
    return member.protocols.find((p) => p.name === protocolName)?.metadata ?? EMPTY_BYTES;
  }

  allMembersJoined(): boolean {
    if (this.pendingMembers.size > 0) return false;
    for (const member of this.members.values()) if (member.joinWaiter === undefined) return false;
    return true;
  }

  offsetCount(): number {
    let n = 0;
    for (const partitions of this.offsets.values()) n += partitions.size;
    return n;
  }

  getOffset(topic: string, partition: number): CommittedOffset | undefined {
    return this.offsets.get(topic)?.get(partition);
  }

  setOffset(topic: string, partition: number, offset: CommittedOffset | null): void {
    let partitions = this.offsets.get(topic);
    if (offset === null) {
      partitions?.delete(partition);
      if (partitions?.size === 0) this.offsets.delete(topic);
      return;
    }
    if (partitions === undefined) this.offsets.set(topic, (partitions = new Map()));
    partitions.set(partition, offset);
  }
}
