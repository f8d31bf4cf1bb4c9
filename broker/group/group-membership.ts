import { randomUUID } from 'node:crypto';
import { ErrorCode } from '../../sdk/protocol/error-codes.ts';
import { isKafkaError } from '../../sdk/protocol/kafka-error.ts';
import { type ClassicGroup, EMPTY_BYTES, type GroupMember } from './classic-group.ts';
import type { GroupCoordinatorOptions } from './group-options.ts';
import type { GroupRegistry } from './group-registry.ts';
import { GroupState } from './group-state.ts';
import type {
  HeartbeatInput,
  JoinGroupInput,
  JoinGroupResult,
  LeaveGroupResult,
  MemberIdentity,
  ProtocolMetadata,
  SyncGroupInput,
  SyncGroupResult,
} from './group-types.ts';
import type { Scheduler } from './scheduler.ts';
import { groupWriteErrorCode } from './write-error-code.ts';

function joinError(errorCode: number, memberId: string): JoinGroupResult {
  return { errorCode, generationId: -1, protocolType: null, protocolName: null, leader: '', memberId, members: [] };
}

function syncError(errorCode: number): SyncGroupResult {
  return { errorCode, protocolType: null, protocolName: null, assignment: EMPTY_BYTES };
}

function sameProtocols(a: readonly ProtocolMetadata[], b: readonly ProtocolMetadata[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((p, i) => {
    const q = b[i]!;
    if (p.name !== q.name || p.metadata.length !== q.metadata.length) return false;
    for (let k = 0; k < p.metadata.length; k++) if (p.metadata[k] !== q.metadata[k]) return false;
    return true;
  });
}

/**
 * The classic group membership protocol (JoinGroup, SyncGroup, Heartbeat, LeaveGroup), following
 * Kafka's GroupCoordinator: a rebalance parks every member's JoinGroup at a join barrier that
 * completes when all known members have rejoined or the rebalance timeout passes (members that did
 * not rejoin are removed); the leader's SyncGroup then hands each member its assignment. Session
 * timers remove members that stop heartbeating and trigger a rebalance.
 *
 * Everything here is synchronous state change; requests that must wait (join, sync) get a promise
 * resolved by a later request, timer or write. Parked requests are bounded by the members of each
 * group. A group's metadata is written through `persist` (acknowledged once fsynced) when a
 * generation completes, when a static member is replaced and when the group becomes Empty, so a
 * restarted broker still knows its members and generation.
 */
export class GroupMembership {
  private closed = false;

  constructor(
    private readonly registry: GroupRegistry,
    private readonly scheduler: Scheduler,
    private readonly options: GroupCoordinatorOptions,
    private readonly persist: (group: ClassicGroup) => Promise<void>,
  ) {}

  join(input: JoinGroupInput): Promise<JoinGroupResult> {
    const fail = (errorCode: number, memberId = input.memberId) => Promise.resolve(joinError(errorCode, memberId));
    if (this.closed) return fail(ErrorCode.NOT_COORDINATOR);
    if (input.groupId === '') return fail(ErrorCode.INVALID_GROUP_ID);
    if (input.sessionTimeoutMs < this.options.minSessionTimeoutMs || input.sessionTimeoutMs > this.options.maxSessionTimeoutMs) {
      return fail(ErrorCode.INVALID_SESSION_TIMEOUT);
    }
    let group = this.registry.get(input.groupId);
    if (group === undefined) {
      if (input.memberId !== '') return fail(ErrorCode.UNKNOWN_MEMBER_ID);
      if (input.protocolType === '' || input.protocols.length === 0) return fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
      try {
        group = this.registry.getOrCreate(input.groupId);
      } catch (error) {
        if (isKafkaError(error)) return fail(error.code);
        throw error;
      }
    }
    if (!group.supportsProtocols(input.protocolType, input.protocols.map((p) => p.name))) {
      return fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    }
    // v0 has no rebalance timeout; Kafka uses the session timeout.
    const normalized = input.rebalanceTimeoutMs > 0 ? input : { ...input, rebalanceTimeoutMs: input.sessionTimeoutMs };
    return input.memberId === '' ? this.joinNewMember(group, normalized) : this.joinKnownMember(group, normalized);
  }

  private joinNewMember(group: ClassicGroup, input: JoinGroupInput): Promise<JoinGroupResult> {
    const memberId = `${input.clientId}-${randomUUID()}`;
    if (input.groupInstanceId !== null) {
      const previousId = group.staticMembers.get(input.groupInstanceId);
      if (previousId !== undefined) return this.replaceStaticMember(group, previousId, memberId, input);
    }
    if (group.size >= this.options.maxMembersPerGroup) {
      return Promise.resolve(joinError(ErrorCode.GROUP_MAX_SIZE_REACHED, ''));
    }
    // Static members are identified by their instance id, so only dynamic ones need the round trip.
    if (input.groupInstanceId === null && input.requireKnownMemberId) {
      group.pendingMembers.set(
        memberId,
        this.scheduler.schedule(input.sessionTimeoutMs, () => this.expirePendingMember(group, memberId)),
      );
      return Promise.resolve(joinError(ErrorCode.MEMBER_ID_REQUIRED, memberId));
    }
    return this.addMemberAndRebalance(group, memberId, input);
  }

  private joinKnownMember(group: ClassicGroup, input: JoinGroupInput): Promise<JoinGroupResult> {
    const memberId = input.memberId;
    const cancelPending = group.pendingMembers.get(memberId);
    if (cancelPending !== undefined) {
      cancelPending();
      group.pendingMembers.delete(memberId);
      return this.addMemberAndRebalance(group, memberId, input);
    }
    if (group.isFenced(memberId, input.groupInstanceId)) return Promise.resolve(joinError(ErrorCode.FENCED_INSTANCE_ID, memberId));
    const member = group.members.get(memberId);
    if (member === undefined) return Promise.resolve(joinError(ErrorCode.UNKNOWN_MEMBER_ID, memberId));
    switch (group.state) {
      case GroupState.PreparingRebalance:
        return this.rejoinDuringRebalance(group, member, input);
      case GroupState.CompletingRebalance:
      case GroupState.Stable: {
        // A follower rejoining with unchanged metadata gets the current generation back; the
        // leader rejoining, or anyone changing metadata, starts a rebalance.
        const leaderInStable = group.is(GroupState.Stable) && memberId === group.leaderId;
        if (!leaderInStable && sameProtocols(member.protocols, input.protocols)) {
          this.touchSession(group, member);
          return Promise.resolve(this.joinResult(group, member));
        }
        return this.rejoinWithRebalance(group, member, input);
      }
      default:
        return Promise.resolve(joinError(ErrorCode.UNKNOWN_MEMBER_ID, memberId));
    }
  }

  /**
   * A static member rejoining without its member id (a restarted process): it takes over its
   * instance id under a new member id, fencing the old one. With unchanged metadata the group
   * keeps its generation and assignment; no rebalance happens.
   */
  private replaceStaticMember(group: ClassicGroup, previousId: string, memberId: string, input: JoinGroupInput): Promise<JoinGroupResult> {
    const previous = group.members.get(previousId);
    if (previous === undefined) throw new Error(`invariant: static member ${previousId} of group "${group.groupId}" is not a member`);
    previous.cancelSession?.();
    previous.joinWaiter?.(joinError(ErrorCode.FENCED_INSTANCE_ID, previousId));
    previous.syncWaiter?.(syncError(ErrorCode.FENCED_INSTANCE_ID));
    const member: GroupMember = { ...previous, memberId, joinWaiter: undefined, syncWaiter: undefined, cancelSession: undefined };
    // Keep the member's place in join order, which decides the next leader.
    const entries = [...group.members.entries()];
    group.members.clear();
    for (const [id, m] of entries) group.members.set(id === previousId ? memberId : id, id === previousId ? member : m);
    group.staticMembers.set(input.groupInstanceId!, memberId);
    if (group.leaderId === previousId) group.leaderId = memberId;
    switch (group.state) {
      case GroupState.PreparingRebalance:
        return this.rejoinDuringRebalance(group, member, input);
      case GroupState.CompletingRebalance:
      case GroupState.Stable: {
        if (input.protocolType === group.protocolType && sameProtocols(previous.protocols, input.protocols)) {
          this.updateMember(member, input);
          this.touchSession(group, member);
          // While CompletingRebalance the leader's SyncGroup writes the group, new member id included.
          if (group.is(GroupState.CompletingRebalance)) return Promise.resolve(this.joinResult(group, member));
          return this.persistReplacement(group, member);
        }
        return this.rejoinWithRebalance(group, member, input);
      }
      default:
        throw new Error(`invariant: group "${group.groupId}" has members in state ${group.state}`);
    }
  }

  /**
   * A static member replaced in a Stable group is answered once the group, with its new member id,
   * is durable: otherwise a restart would bring back the fenced member id and not this one. When
   * the write fails the member gets the error and the group rebalances, which writes it again.
   */
  private persistReplacement(group: ClassicGroup, member: GroupMember): Promise<JoinGroupResult> {
    return this.persist(group).then(
      () => (group.members.get(member.memberId) === member ? this.joinResult(group, member) : joinError(ErrorCode.UNKNOWN_MEMBER_ID, member.memberId)),
      (error: unknown) => {
        const errorCode = groupWriteErrorCode(error);
        if (!this.closed && this.registry.isLive(group) && group.is(GroupState.Stable)) this.prepareRebalance(group);
        return joinError(errorCode, member.memberId);
      },
    );
  }

  private addMemberAndRebalance(group: ClassicGroup, memberId: string, input: JoinGroupInput): Promise<JoinGroupResult> {
    if (group.members.size === 0) group.protocolType = input.protocolType;
    const member: GroupMember = {
      memberId,
      groupInstanceId: input.groupInstanceId,
      clientId: input.clientId,
      clientHost: input.clientHost,
      sessionTimeoutMs: input.sessionTimeoutMs,
      rebalanceTimeoutMs: input.rebalanceTimeoutMs,
      protocolType: input.protocolType,
      protocols: input.protocols,
      assignment: EMPTY_BYTES,
      joinWaiter: undefined,
      syncWaiter: undefined,
      cancelSession: undefined,
    };
    group.members.set(memberId, member);
    if (input.groupInstanceId !== null) group.staticMembers.set(input.groupInstanceId, memberId);
    group.leaderId ??= memberId;
    const result = this.parkJoin(member);
    if (group.is(GroupState.PreparingRebalance)) {
      const nowMs = this.scheduler.nowMs();
      // Still inside the initial delay: each newcomer keeps the barrier open a little longer.
      if (nowMs < group.joinNotBeforeMs) {
        group.joinNotBeforeMs = Math.min(nowMs + this.options.initialRebalanceDelayMs, group.rebalanceDeadlineMs);
      }
      this.checkJoinBarrier(group);
    } else {
      this.prepareRebalance(group);
    }
    return result;
  }

  /** A known member joining while the barrier is up waits at it with its new metadata. */
  private rejoinDuringRebalance(group: ClassicGroup, member: GroupMember, input: JoinGroupInput): Promise<JoinGroupResult> {
    this.updateMember(member, input);
    const result = this.parkJoin(member);
    this.checkJoinBarrier(group);
    return result;
  }

  private updateMember(member: GroupMember, input: JoinGroupInput): void {
    member.protocols = input.protocols;
    member.clientId = input.clientId;
    member.clientHost = input.clientHost;
    member.sessionTimeoutMs = input.sessionTimeoutMs;
    member.rebalanceTimeoutMs = input.rebalanceTimeoutMs;
  }

  /** A member of a settled group whose join changes something: it waits at the barrier of a new rebalance. */
  private rejoinWithRebalance(group: ClassicGroup, member: GroupMember, input: JoinGroupInput): Promise<JoinGroupResult> {
    this.updateMember(member, input);
    const result = this.parkJoin(member);
    this.prepareRebalance(group);
    return result;
  }

  private parkJoin(member: GroupMember): Promise<JoinGroupResult> {
    member.joinWaiter?.(joinError(ErrorCode.REBALANCE_IN_PROGRESS, member.memberId));
    return new Promise((resolve) => (member.joinWaiter = resolve));
  }

  private joinResult(group: ClassicGroup, member: GroupMember): JoinGroupResult {
    const isLeader = member.memberId === group.leaderId;
    return {
      errorCode: ErrorCode.NONE,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leader: group.leaderId ?? '',
      memberId: member.memberId,
      members: isLeader
        ? [...group.members.values()].map((m) => ({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            metadata: group.metadataFor(m, group.protocolName),
          }))
        : [],
    };
  }

  private prepareRebalance(group: ClassicGroup): void {
    if (group.is(GroupState.CompletingRebalance)) {
      group.cancelSyncTimer?.();
      group.cancelSyncTimer = undefined;
      for (const member of group.members.values()) {
        // A member just answered gets a full session to act on the answer.
        if (member.syncWaiter !== undefined) this.touchSession(group, member);
        this.resolveSync(member, syncError(ErrorCode.REBALANCE_IN_PROGRESS));
      }
    }
    const fromEmpty = group.is(GroupState.Empty);
    const nowMs = this.scheduler.nowMs();
    group.transitionTo(GroupState.PreparingRebalance, nowMs);
    const timeoutMs = Math.max(0, ...[...group.members.values()].map((m) => m.rebalanceTimeoutMs));
    group.rebalanceDeadlineMs = nowMs + timeoutMs;
    group.joinNotBeforeMs = fromEmpty ? Math.min(nowMs + this.options.initialRebalanceDelayMs, group.rebalanceDeadlineMs) : nowMs;
    this.cancelRebalanceTimers(group);
    group.cancelRebalanceTimeout = this.scheduler.schedule(timeoutMs, () => {
      group.cancelRebalanceTimeout = undefined;
      if (this.registry.isLive(group) && group.is(GroupState.PreparingRebalance)) this.completeJoin(group);
    });
    this.checkJoinBarrier(group);
  }

  /**
   * Completes the join barrier once the initial delay is over and every member has rejoined.
   * While the delay runs a timer is always pending to check again, so the barrier never waits
   * for the rebalance timeout unless a member does. One clock read decides: timers run on the
   * event loop's cached monotonic time, so one can fire a millisecond before this clock reaches
   * the barrier, and a second read that has moved on must not leave the group with no check.
   */
  private checkJoinBarrier(group: ClassicGroup): void {
    if (!this.registry.isLive(group) || !group.is(GroupState.PreparingRebalance)) return;
    const waitMs = group.joinNotBeforeMs - this.scheduler.nowMs();
    if (waitMs > 0) {
      // The pending check is due no later than this one would be: the barrier only moves later.
      group.cancelJoinCheck ??= this.scheduler.schedule(waitMs, () => {
        group.cancelJoinCheck = undefined;
        this.checkJoinBarrier(group);
      });
      return;
    }
    if (group.allMembersJoined()) this.completeJoin(group);
  }

  private cancelRebalanceTimers(group: ClassicGroup): void {
    group.cancelRebalanceTimeout?.();
    group.cancelRebalanceTimeout = undefined;
    group.cancelJoinCheck?.();
    group.cancelJoinCheck = undefined;
  }

  /** The join barrier: members that did not rejoin leave, the rest form the next generation. */
  private completeJoin(group: ClassicGroup): void {
    this.cancelRebalanceTimers(group);
    for (const member of [...group.members.values()]) {
      if (member.joinWaiter === undefined) this.removeMember(group, member, ErrorCode.UNKNOWN_MEMBER_ID);
    }
    const nowMs = this.scheduler.nowMs();
    group.generationId++;
    if (group.members.size === 0) {
      group.protocolName = null;
      group.transitionTo(GroupState.Empty, nowMs);
      // Nobody waits on it: a failed write leaves the previous generation stored, whose members
      // a restart would restore only to expire them after a session.
      this.persist(group).catch((error: unknown) => groupWriteErrorCode(error));
      return;
    }
    group.protocolName = group.selectProtocol();
    group.transitionTo(GroupState.CompletingRebalance, nowMs);
    for (const member of group.members.values()) {
      const waiter = member.joinWaiter!;
      member.joinWaiter = undefined;
      this.touchSession(group, member);
      waiter(this.joinResult(group, member));
    }
    // A leader that never sends SyncGroup would strand the group; members that have not synced
    // within the rebalance timeout are removed and the group rebalances without them.
    const generationId = group.generationId;
    const timeoutMs = Math.max(...[...group.members.values()].map((m) => m.rebalanceTimeoutMs));
    group.cancelSyncTimer = this.scheduler.schedule(timeoutMs, () => {
      if (!this.registry.isLive(group) || !group.is(GroupState.CompletingRebalance) || group.generationId !== generationId) return;
      for (const member of [...group.members.values()]) {
        if (member.syncWaiter === undefined) this.removeMember(group, member, ErrorCode.UNKNOWN_MEMBER_ID);
      }
      this.prepareRebalance(group);
    });
  }

  sync(input: SyncGroupInput): Promise<SyncGroupResult> {
    const fail = (errorCode: number) => Promise.resolve(syncError(errorCode));
    if (this.closed) return fail(ErrorCode.NOT_COORDINATOR);
    if (input.groupId === '') return fail(ErrorCode.INVALID_GROUP_ID);
    const group = this.registry.get(input.groupId);
    if (group === undefined) return fail(ErrorCode.UNKNOWN_MEMBER_ID);
    if (group.isFenced(input.memberId, input.groupInstanceId)) return fail(ErrorCode.FENCED_INSTANCE_ID);
    const member = group.members.get(input.memberId);
    if (member === undefined) return fail(ErrorCode.UNKNOWN_MEMBER_ID);
    if (input.generationId !== group.generationId) return fail(ErrorCode.ILLEGAL_GENERATION);
    if (
      (input.protocolType !== null && input.protocolType !== group.protocolType) ||
      (input.protocolName !== null && input.protocolName !== group.protocolName)
    ) {
      return fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    }
    switch (group.state) {
      case GroupState.PreparingRebalance:
        return fail(ErrorCode.REBALANCE_IN_PROGRESS);
      case GroupState.CompletingRebalance: {
        this.resolveSync(member, syncError(ErrorCode.REBALANCE_IN_PROGRESS));
        const result = new Promise<SyncGroupResult>((resolve) => (member.syncWaiter = resolve));
        this.touchSession(group, member);
        if (member.memberId === group.leaderId) {
          const given = new Map(input.assignments.map((a) => [a.memberId, a.assignment]));
          for (const m of group.members.values()) m.assignment = given.get(m.memberId) ?? EMPTY_BYTES;
          group.cancelSyncTimer?.();
          group.cancelSyncTimer = undefined;
          this.completeGeneration(group);
        }
        return result;
      }
      case GroupState.Stable:
        this.touchSession(group, member);
        return Promise.resolve(this.syncResult(group, member));
      default:
        return fail(ErrorCode.UNKNOWN_MEMBER_ID);
    }
  }

  /**
   * The leader's assignments complete the generation once the group's metadata holding them is
   * durable, as in Kafka: no member acts on an assignment a restart could forget. Until then the
   * group stays CompletingRebalance and members wait in SyncGroup. A failed write sends every
   * waiting member the error and starts a rebalance.
   */
  private completeGeneration(group: ClassicGroup): void {
    const generationId = group.generationId;
    const unchanged = () => !this.closed && this.registry.isLive(group) && group.is(GroupState.CompletingRebalance) && group.generationId === generationId;
    const answer = (result: (member: GroupMember) => SyncGroupResult): void => {
      for (const m of group.members.values()) {
        // A member just answered gets a full session to act on the answer.
        if (m.syncWaiter !== undefined) this.touchSession(group, m);
        this.resolveSync(m, result(m));
      }
    };
    this.persist(group).then(
      () => {
        if (!unchanged()) return;
        group.transitionTo(GroupState.Stable, this.scheduler.nowMs());
        answer((m) => this.syncResult(group, m));
      },
      (error: unknown) => {
        const errorCode = groupWriteErrorCode(error);
        if (!unchanged()) return;
        for (const m of group.members.values()) m.assignment = EMPTY_BYTES;
        answer(() => syncError(errorCode));
        this.prepareRebalance(group);
      },
    );
  }

  private syncResult(group: ClassicGroup, member: GroupMember): SyncGroupResult {
    return { errorCode: ErrorCode.NONE, protocolType: group.protocolType, protocolName: group.protocolName, assignment: member.assignment };
  }

  private resolveSync(member: GroupMember, result: SyncGroupResult): void {
    const waiter = member.syncWaiter;
    member.syncWaiter = undefined;
    waiter?.(result);
  }

  heartbeat(input: HeartbeatInput): number {
    if (this.closed) return ErrorCode.NOT_COORDINATOR;
    if (input.groupId === '') return ErrorCode.INVALID_GROUP_ID;
    const group = this.registry.get(input.groupId);
    if (group === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (group.isFenced(input.memberId, input.groupInstanceId)) return ErrorCode.FENCED_INSTANCE_ID;
    const member = group.members.get(input.memberId);
    if (member === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (input.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    this.touchSession(group, member);
    return group.is(GroupState.PreparingRebalance) ? ErrorCode.REBALANCE_IN_PROGRESS : ErrorCode.NONE;
  }

  leave(groupId: string, identities: readonly MemberIdentity[]): LeaveGroupResult {
    if (this.closed) return { errorCode: ErrorCode.NOT_COORDINATOR, members: [] };
    if (groupId === '') return { errorCode: ErrorCode.INVALID_GROUP_ID, members: [] };
    const group = this.registry.get(groupId);
    if (group === undefined) {
      return { errorCode: ErrorCode.NONE, members: identities.map((m) => ({ ...m, errorCode: ErrorCode.UNKNOWN_MEMBER_ID })) };
    }
    let changed = false;
    const members = identities.map((identity) => {
      const errorCode = this.leaveOne(group, identity);
      if (errorCode === ErrorCode.NONE) changed = true;
      return { ...identity, errorCode };
    });
    if (changed) this.afterMembershipChange(group);
    return { errorCode: ErrorCode.NONE, members };
  }

  private leaveOne(group: ClassicGroup, { memberId, groupInstanceId }: MemberIdentity): number {
    if (groupInstanceId !== null) {
      const holder = group.staticMembers.get(groupInstanceId);
      if (holder === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
      // KIP-345: an admin may remove a static member by instance id alone (empty member id).
      if (memberId !== '' && holder !== memberId) return ErrorCode.FENCED_INSTANCE_ID;
      this.removeMember(group, group.members.get(holder)!, ErrorCode.UNKNOWN_MEMBER_ID);
      return ErrorCode.NONE;
    }
    const cancelPending = group.pendingMembers.get(memberId);
    if (cancelPending !== undefined) {
      cancelPending();
      group.pendingMembers.delete(memberId);
      return ErrorCode.NONE;
    }
    const member = group.members.get(memberId);
    if (member === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    this.removeMember(group, member, ErrorCode.UNKNOWN_MEMBER_ID);
    return ErrorCode.NONE;
  }

  private removeMember(group: ClassicGroup, member: GroupMember, errorCode: number): void {
    member.cancelSession?.();
    member.cancelSession = undefined;
    const joinWaiter = member.joinWaiter;
    member.joinWaiter = undefined;
    joinWaiter?.(joinError(errorCode, member.memberId));
    this.resolveSync(member, syncError(errorCode));
    group.members.delete(member.memberId);
    if (member.groupInstanceId !== null && group.staticMembers.get(member.groupInstanceId) === member.memberId) {
      group.staticMembers.delete(member.groupInstanceId);
    }
    if (group.leaderId === member.memberId) group.leaderId = group.members.keys().next().value ?? null;
  }

  private afterMembershipChange(group: ClassicGroup): void {
    if (group.is(GroupState.Stable) || group.is(GroupState.CompletingRebalance)) this.prepareRebalance(group);
    else this.checkJoinBarrier(group);
  }

  private expirePendingMember(group: ClassicGroup, memberId: string): void {
    if (!this.registry.isLive(group) || !group.pendingMembers.delete(memberId)) return;
    this.checkJoinBarrier(group);
  }

  /** (Re)starts a member's session; called on every request that proves the member alive. */
  touchSession(group: ClassicGroup, member: GroupMember): void {
    member.cancelSession?.();
    member.cancelSession = this.scheduler.schedule(member.sessionTimeoutMs, () => {
      member.cancelSession = undefined;
      if (!this.registry.isLive(group) || group.members.get(member.memberId) !== member) return;
      // A member parked in JoinGroup or SyncGroup is waiting on the group, not silent.
      if (member.joinWaiter !== undefined || member.syncWaiter !== undefined) {
        this.touchSession(group, member);
        return;
      }
      this.removeMember(group, member, ErrorCode.UNKNOWN_MEMBER_ID);
      this.afterMembershipChange(group);
    });
  }

  /** Cancels every group's timers and answers parked requests with NOT_COORDINATOR. */
  close(): void {
    this.closed = true;
    for (const group of this.registry.values()) {
      this.cancelRebalanceTimers(group);
      group.cancelSyncTimer?.();
      group.cancelSyncTimer = undefined;
      for (const cancel of group.pendingMembers.values()) cancel();
      group.pendingMembers.clear();
      for (const member of group.members.values()) {
        member.cancelSession?.();
        member.cancelSession = undefined;
        const joinWaiter = member.joinWaiter;
        member.joinWaiter = undefined;
        joinWaiter?.(joinError(ErrorCode.NOT_COORDINATOR, member.memberId));
        this.resolveSync(member, syncError(ErrorCode.NOT_COORDINATOR));
      }
    }
  }
}
