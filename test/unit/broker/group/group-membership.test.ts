import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../../sdk/protocol/error-codes.ts';
import { bytes, GroupFixture, heartbeat, isSettled, joinAlone, joinInput, protocols, REBALANCE_MS, SESSION_MS, stablePair, sync } from './group-fixture.ts';

const fixtures: GroupFixture[] = [];

async function open(...args: ConstructorParameters<typeof GroupFixture>): Promise<GroupFixture> {
  const fixture = new GroupFixture(...args);
  fixtures.push(fixture);
  await fixture.open();
  return fixture;
}

afterEach(async () => {
  for (const f of fixtures.splice(0)) await f.dispose();
});

describe('JoinGroup', () => {
  it('answers a v4+ first join with MEMBER_ID_REQUIRED and a generated id, then admits the member rejoining with it', async () => {
    const f = await open();
    const first = await f.groups.joinGroup(joinInput('g', { clientId: 'svc', requireKnownMemberId: true }));
    expect(first.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    expect(first.memberId).toMatch(/^svc-[0-9a-f-]{36}$/);
    const joined = await f.groups.joinGroup(joinInput('g', { clientId: 'svc', memberId: first.memberId, requireKnownMemberId: true }));
    expect(joined).toMatchObject({ errorCode: ErrorCode.NONE, generationId: 1, leader: first.memberId, memberId: first.memberId, protocolName: 'range' });
    expect(joined.members.map((m) => m.memberId)).toEqual([first.memberId]);
  });

  it('holds the join barrier until every known member rejoins; the first member leads and only the leader gets the member list', async () => {
    const f = await open();
    const { a, b } = await stablePair(f);
    expect(a.generationId).toBe(2);
    expect(b.generationId).toBe(2);
    expect(a.leader).toBe(a.memberId);
    expect(b.leader).toBe(a.memberId);
    expect(a.members.map((m) => m.memberId).sort()).toEqual([a.memberId, b.memberId].sort());
    expect(b.members).toEqual([]);
  });

  it('removes members that do not rejoin within the rebalance timeout', async () => {
    const f = await open();
    const { a, b } = await stablePair(f);
    const cJoin = f.groups.joinGroup(joinInput('g', { clientId: 'c' }));
    const aJoin = f.groups.joinGroup(joinInput('g', { clientId: 'a', memberId: a.memberId }));
    // B keeps heartbeating (so its session lives) but never rejoins.
    for (let elapsedMs = 0; elapsedMs < REBALANCE_MS - SESSION_MS / 2; elapsedMs += SESSION_MS / 2) {
      f.scheduler.advance(SESSION_MS / 2);
      expect(heartbeat(f.groups, 'g', b)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    }
    f.scheduler.advance(SESSION_MS / 2 - 1);
    expect(await isSettled(aJoin)).toBe(false);
    f.scheduler.advance(1);
    const [a3, c3] = await Promise.all([aJoin, cJoin]);
    expect(a3.generationId).toBe(3);
    expect(a3.members.map((m) => m.memberId).sort()).toEqual([a3.memberId, c3.memberId].sort());
    expect(heartbeat(f.groups, 'g', b)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('keeps the barrier open for the initial rebalance delay so starting members form one generation', async () => {
    const f = await open({ initialRebalanceDelayMs: 3_000 });
    const aJoin = f.groups.joinGroup(joinInput('g', { clientId: 'a' }));
    f.scheduler.advance(2_000);
    const bJoin = f.groups.joinGroup(joinInput('g', { clientId: 'b' }));
    f.scheduler.advance(2_999);
    expect(await isSettled(aJoin)).toBe(false);
    f.scheduler.advance(1);
    const [a, b] = await Promise.all([aJoin, bJoin]);
    expect(a.generationId).toBe(1);
    expect(b.generationId).toBe(1);
    expect(a.members).toHaveLength(2);
  });

  it('completes the barrier when the initial delay ends although its timer fires before the clock gets there', async () => {
    // Seen under load as joins parked until the rebalance timeout: the barrier timer fired a
    // millisecond early, and the clock moved on between the check and the re-arming.
    const f = await open({ initialRebalanceDelayMs: 3_000 }, { timersFireEarlyMs: 1 });
    const aJoin = f.groups.joinGroup(joinInput('g', { clientId: 'a' }));
    f.scheduler.advance(3_010);
    expect(await isSettled(aJoin)).toBe(true);
    const a = await aJoin;
    expect(a).toMatchObject({ errorCode: ErrorCode.NONE, generationId: 1, leader: a.memberId });
  });

  it('elects the next member as leader when the leader leaves', async () => {
    const f = await open();
    const { a, b } = await stablePair(f);
    expect(f.groups.leaveGroup('g', [{ memberId: a.memberId, groupInstanceId: null }]).members[0]!.errorCode).toBe(ErrorCode.NONE);
    expect(heartbeat(f.groups, 'g', b)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    const b3 = await f.groups.joinGroup(joinInput('g', { clientId: 'b', memberId: b.memberId }));
    expect(b3).toMatchObject({ generationId: 3, leader: b.memberId });
    expect(b3.members.map((m) => m.memberId)).toEqual([b.memberId]);
  });

  it('selects the protocol all members support, by the members’ preference votes', async () => {
    const f = await open();
    const a = await joinAlone(f.groups, 'g', { clientId: 'a', protocols: protocols('range', 'roundrobin', 'sticky') });
    expect(a.protocolName).toBe('range');
    const bJoin = f.groups.joinGroup(joinInput('g', { clientId: 'b', protocols: protocols('roundrobin', 'range') }));
    const cJoin = f.groups.joinGroup(joinInput('g', { clientId: 'c', protocols: protocols('roundrobin', 'range') }));
    const aJoin = f.groups.joinGroup(joinInput('g', { clientId: 'a', memberId: a.memberId, protocols: protocols('range', 'roundrobin', 'sticky') }));
    const results = await Promise.all([aJoin, bJoin, cJoin]);
    for (const r of results) expect(r.protocolName).toBe('roundrobin');
  });

  it('rejects a newcomer sharing no protocol, or of another protocol type, with INCONSISTENT_GROUP_PROTOCOL', async () => {
    const f = await open();
    await joinAlone(f.groups, 'g', { protocols: protocols('range') });
    const other = await f.groups.joinGroup(joinInput('g', { protocols: protocols('roundrobin') }));
    expect(other.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const otherType = await f.groups.joinGroup(joinInput('g', { protocolType: 'connect' }));
    expect(otherType.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const none = await f.groups.joinGroup(joinInput('h', { protocols: [] }));
    expect(none.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    expect(f.groups.describeGroups(['g'])[0]!.members).toHaveLength(1);
  });

  it('validates the session timeout against the configured bounds', async () => {
    const f = await open({ minSessionTimeoutMs: 500, maxSessionTimeoutMs: 10_000 });
    expect((await f.groups.joinGroup(joinInput('g', { sessionTimeoutMs: 499 }))).errorCode).toBe(ErrorCode.INVALID_SESSION_TIMEOUT);
    expect((await f.groups.joinGroup(joinInput('g', { sessionTimeoutMs: 10_001 }))).errorCode).toBe(ErrorCode.INVALID_SESSION_TIMEOUT);
    expect((await f.groups.joinGroup(joinInput('g', { sessionTimeoutMs: 500 }))).errorCode).toBe(ErrorCode.NONE);
  });

  it('bounds group size (members and pending members) with GROUP_MAX_SIZE_REACHED', async () => {
    const f = await open({ maxMembersPerGroup: 2 });
    const a = await joinAlone(f.groups, 'g', { clientId: 'a' });
    const pending = await f.groups.joinGroup(joinInput('g', { clientId: 'b', requireKnownMemberId: true }));
    expect(pending.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    expect((await f.groups.joinGroup(joinInput('g', { clientId: 'c' }))).errorCode).toBe(ErrorCode.GROUP_MAX_SIZE_REACHED);
    expect(a.generationId).toBe(1);
  });

  it('rejects an empty group id and a known member id for an unknown group', async () => {
    const f = await open();
    expect((await f.groups.joinGroup(joinInput(''))).errorCode).toBe(ErrorCode.INVALID_GROUP_ID);
    expect((await f.groups.joinGroup(joinInput('nope', { memberId: 'x' }))).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });
});

describe('static membership', () => {
  it('lets a restarted static member take over its instance id without a rebalance, fencing the old member id', async () => {
    const f = await open();
    const a1 = await joinAlone(f.groups, 'g', { clientId: 'a', groupInstanceId: 'instance-a' });
    const bJoin = f.groups.joinGroup(joinInput('g', { clientId: 'b' }));
    const aJoin = f.groups.joinGroup(joinInput('g', { clientId: 'a', memberId: a1.memberId, groupInstanceId: 'instance-a' }));
    const [a, b] = await Promise.all([aJoin, bJoin]);
    await Promise.all([
      sync(f.groups, 'g', a, [
        { memberId: a.memberId, assignment: bytes('A') },
        { memberId: b.memberId, assignment: bytes('B') },
      ]),
      sync(f.groups, 'g', b),
    ]);
    // A, the static leader, restarts and rejoins without its member id.
    const restarted = await f.groups.joinGroup(joinInput('g', { clientId: 'a', groupInstanceId: 'instance-a', requireKnownMemberId: true }));
    expect(restarted.errorCode).toBe(ErrorCode.NONE);
    expect(restarted.generationId).toBe(a.generationId);
    expect(restarted.memberId).not.toBe(a.memberId);
    expect(f.groups.describeGroups(['g'])[0]!.groupState).toBe('Stable');
    expect(heartbeat(f.groups, 'g', b)).toBe(ErrorCode.NONE);
    expect(heartbeat(f.groups, 'g', a, 'instance-a')).toBe(ErrorCode.FENCED_INSTANCE_ID);
    const assigned = await f.groups.syncGroup({
      groupId: 'g',
      generationId: restarted.generationId,
      memberId: restarted.memberId,
      groupInstanceId: 'instance-a',
      protocolType: null,
      protocolName: null,
      assignments: [],
    });
    expect(new TextDecoder().decode(assigned.assignment)).toBe('A');
    const stale = await f.groups.joinGroup(joinInput('g', { clientId: 'a', memberId: a.memberId, groupInstanceId: 'instance-a' }));
    expect(stale.errorCode).toBe(ErrorCode.FENCED_INSTANCE_ID);
  });

  it('rebalances when a restarted static member comes back with different metadata', async () => {
    const f = await open();
    const a1 = await joinAlone(f.groups, 'g', { groupInstanceId: 'i', protocols: protocols('range', 'roundrobin') });
    await sync(f.groups, 'g', a1, []);
    const rejoin = await f.groups.joinGroup(joinInput('g', { groupInstanceId: 'i', protocols: protocols('roundrobin') }));
    expect(rejoin).toMatchObject({ errorCode: ErrorCode.NONE, generationId: 2, protocolName: 'roundrobin' });
  });

  it('removes static members by instance id in a batched LeaveGroup and fences a mismatched member id', async () => {
    const f = await open();
    const a = await joinAlone(f.groups, 'g', { groupInstanceId: 'i1' });
    const result = f.groups.leaveGroup('g', [
      { memberId: 'someone-else', groupInstanceId: 'i1' },
      { memberId: '', groupInstanceId: 'unknown' },
      { memberId: a.memberId, groupInstanceId: 'i1' },
    ]);
    expect(result.members.map((m) => m.errorCode)).toEqual([ErrorCode.FENCED_INSTANCE_ID, ErrorCode.UNKNOWN_MEMBER_ID, ErrorCode.NONE]);
    expect(f.groups.describeGroups(['g'])[0]!.groupState).toBe('Empty');
  });
});

describe('SyncGroup and Heartbeat', () => {
  it('relays the leader’s assignments as opaque bytes; a follower’s SyncGroup waits for the leader’s', async () => {
    const f = await open();
    const a1 = await joinAlone(f.groups, 'g', { clientId: 'a' });
    const bJoin = f.groups.joinGroup(joinInput('g', { clientId: 'b' }));
    const [a, b] = await Promise.all([f.groups.joinGroup(joinInput('g', { clientId: 'a', memberId: a1.memberId })), bJoin]);
    const bSync = sync(f.groups, 'g', b);
    expect(await isSettled(bSync)).toBe(false);
    expect(heartbeat(f.groups, 'g', b)).toBe(ErrorCode.NONE);
    const opaque = new Uint8Array([0, 255, 7, 42]);
    const aSync = await sync(f.groups, 'g', a, [
      { memberId: a.memberId, assignment: bytes('leader') },
      { memberId: b.memberId, assignment: opaque },
    ]);
    expect(new TextDecoder().decode(aSync.assignment)).toBe('leader');
    expect([...(await bSync).assignment]).toEqual([...opaque]);
    expect((await sync(f.groups, 'g', b)).assignment).toEqual(opaque);
  });

  it('answers ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID and REBALANCE_IN_PROGRESS', async () => {
    const f = await open();
    const { a, b } = await stablePair(f);
    expect((await sync(f.groups, 'g', { ...a, generationId: a.generationId - 1 })).errorCode).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect((await sync(f.groups, 'g', { ...a, memberId: 'ghost' })).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect((await sync(f.groups, 'nope', a)).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(heartbeat(f.groups, 'g', { ...a, generationId: 99 })).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(heartbeat(f.groups, 'g', { ...a, memberId: 'ghost' })).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(heartbeat(f.groups, 'nope', a)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(heartbeat(f.groups, 'g', a)).toBe(ErrorCode.NONE);
    const cJoin = f.groups.joinGroup(joinInput('g', { clientId: 'c' }));
    expect(heartbeat(f.groups, 'g', b)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect((await sync(f.groups, 'g', b)).errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect(await isSettled(cJoin)).toBe(false);
  });

  it('answers a parked SyncGroup with REBALANCE_IN_PROGRESS when a rebalance starts before the leader syncs', async () => {
    const f = await open();
    const a1 = await joinAlone(f.groups, 'g', { clientId: 'a' });
    const bJoin = f.groups.joinGroup(joinInput('g', { clientId: 'b' }));
    const [, b] = await Promise.all([f.groups.joinGroup(joinInput('g', { clientId: 'a', memberId: a1.memberId })), bJoin]);
    const bSync = sync(f.groups, 'g', b);
    void f.groups.joinGroup(joinInput('g', { clientId: 'c' }));
    expect((await bSync).errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
  });

  it('removes a leader that never sends SyncGroup within the rebalance timeout', async () => {
    const f = await open();
    const a1 = await joinAlone(f.groups, 'g', { clientId: 'a' });
    const bJoin = f.groups.joinGroup(joinInput('g', { clientId: 'b' }));
    const [a, b] = await Promise.all([f.groups.joinGroup(joinInput('g', { clientId: 'a', memberId: a1.memberId })), bJoin]);
    const bSync = sync(f.groups, 'g', b);
    // The leader stays alive (heartbeats) but never syncs.
    for (let elapsedMs = 0; elapsedMs < REBALANCE_MS - SESSION_MS / 2; elapsedMs += SESSION_MS / 2) {
      f.scheduler.advance(SESSION_MS / 2);
      expect(heartbeat(f.groups, 'g', a)).toBe(ErrorCode.NONE);
    }
    expect(await isSettled(bSync)).toBe(false);
    f.scheduler.advance(SESSION_MS / 2);
    expect((await bSync).errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect(heartbeat(f.groups, 'g', a)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    const b3 = await f.groups.joinGroup(joinInput('g', { clientId: 'b', memberId: b.memberId }));
    expect(b3).toMatchObject({ errorCode: ErrorCode.NONE, leader: b.memberId });
  });
});

describe('sessions and LeaveGroup', () => {
  it('expires a member that stops heartbeating and rebalances the others', async () => {
    const f = await open();
    const { a, b } = await stablePair(f);
    f.scheduler.advance(SESSION_MS / 2);
    expect(heartbeat(f.groups, 'g', a)).toBe(ErrorCode.NONE);
    f.scheduler.advance(SESSION_MS / 2);
    // B has been silent for a whole session timeout; A, which heartbeated, is told to rejoin.
    expect(heartbeat(f.groups, 'g', a)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect(heartbeat(f.groups, 'g', b)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    const a3 = await f.groups.joinGroup(joinInput('g', { clientId: 'a', memberId: a.memberId }));
    expect(a3.generationId).toBe(a.generationId + 1);
    expect(a3.members.map((m) => m.memberId)).toEqual([a.memberId]);
  });

  it('starts a rebalance when a silent member expires, and the group goes Empty when the last one does', async () => {
    const f = await open();
    const { a } = await stablePair(f);
    f.scheduler.advance(SESSION_MS + 1);
    const state = f.groups.describeGroups(['g'])[0]!;
    expect(state.groupState).toBe('Empty');
    expect(heartbeat(f.groups, 'g', a)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('expires a MEMBER_ID_REQUIRED member that never rejoins, releasing the join barrier', async () => {
    const f = await open();
    const a = await joinAlone(f.groups, 'g', { clientId: 'a' });
    await sync(f.groups, 'g', a);
    const pending = await f.groups.joinGroup(joinInput('g', { clientId: 'b', requireKnownMemberId: true }));
    expect(pending.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    const cJoin = f.groups.joinGroup(joinInput('g', { clientId: 'c' }));
    const aJoin = f.groups.joinGroup(joinInput('g', { clientId: 'a', memberId: a.memberId }));
    expect(await isSettled(aJoin)).toBe(false);
    f.scheduler.advance(SESSION_MS);
    const [a2, c2] = await Promise.all([aJoin, cJoin]);
    expect(a2.members.map((m) => m.memberId).sort()).toEqual([a2.memberId, c2.memberId].sort());
    expect((await f.groups.joinGroup(joinInput('g', { clientId: 'b', memberId: pending.memberId }))).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('answers a leave from an unknown member or group with UNKNOWN_MEMBER_ID and rebalances on a real leave', async () => {
    const f = await open();
    const { a, b } = await stablePair(f);
    expect(f.groups.leaveGroup('nope', [{ memberId: a.memberId, groupInstanceId: null }]).members[0]!.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(f.groups.leaveGroup('g', [{ memberId: 'ghost', groupInstanceId: null }]).members[0]!.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(f.groups.leaveGroup('g', [{ memberId: b.memberId, groupInstanceId: null }]).members[0]!.errorCode).toBe(ErrorCode.NONE);
    expect(heartbeat(f.groups, 'g', a)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    const a3 = await f.groups.joinGroup(joinInput('g', { clientId: 'a', memberId: a.memberId }));
    expect(a3.members.map((m) => m.memberId)).toEqual([a.memberId]);
  });

  it('answers parked requests with NOT_COORDINATOR when the broker closes', async () => {
    const f = await open();
    const a1 = await joinAlone(f.groups, 'g', { clientId: 'a' });
    const bJoin = f.groups.joinGroup(joinInput('g', { clientId: 'b' }));
    await f.broker.close();
    expect((await bJoin).errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    expect(a1.errorCode).toBe(ErrorCode.NONE);
  });
});

describe('DescribeGroups and ListGroups', () => {
  it('describes members, protocol and assignments of a Stable group and lists groups filtered by state', async () => {
    const f = await open();
    const { a, b } = await stablePair(f);
    await joinAlone(f.groups, 'other', { clientId: 'x' });
    const [described, unknown] = f.groups.describeGroups(['g', 'missing']);
    expect(described).toMatchObject({ errorCode: 0, groupState: 'Stable', protocolType: 'consumer', protocolData: 'range' });
    const byId = new Map(described!.members.map((m) => [m.memberId, m]));
    expect(new TextDecoder().decode(byId.get(a.memberId)!.memberAssignment)).toBe('A');
    expect(new TextDecoder().decode(byId.get(b.memberId)!.memberAssignment)).toBe('B');
    expect(byId.get(b.memberId)!.clientId).toBe('b');
    expect(unknown).toMatchObject({ errorCode: 0, groupState: 'Dead', members: [] });
    expect(f.groups.listGroups().map((g) => [g.groupId, g.groupState])).toEqual([
      ['g', 'Stable'],
      ['other', 'CompletingRebalance'],
    ]);
    expect(f.groups.listGroups(['completingrebalance']).map((g) => g.groupId)).toEqual(['other']);
    expect(f.groups.listGroups(['Empty'])).toEqual([]);
  });
});
