import { describe, expect, it } from 'vitest';
import type { Broker } from '../../../../../broker/broker.ts';
import { deleteGroupsHandler } from '../../../../../broker/kafka/apis/delete-groups.ts';
import { describeGroupsHandler } from '../../../../../broker/kafka/apis/describe-groups.ts';
import { findCoordinatorHandler } from '../../../../../broker/kafka/apis/find-coordinator.ts';
import { groupApiHandlers } from '../../../../../broker/kafka/apis/group-handlers.ts';
import { heartbeatHandler } from '../../../../../broker/kafka/apis/heartbeat.ts';
import { joinGroupHandler } from '../../../../../broker/kafka/apis/join-group.ts';
import { leaveGroupHandler } from '../../../../../broker/kafka/apis/leave-group.ts';
import { listGroupsHandler } from '../../../../../broker/kafka/apis/list-groups.ts';
import { offsetCommitHandler } from '../../../../../broker/kafka/apis/offset-commit.ts';
import { offsetDeleteHandler } from '../../../../../broker/kafka/apis/offset-delete.ts';
import { offsetFetchHandler } from '../../../../../broker/kafka/apis/offset-fetch.ts';
import { syncGroupHandler } from '../../../../../broker/kafka/apis/sync-group.ts';
import { ErrorCode, exchange, openBroker, versionsOf } from './admin-test-support.ts';

const bytes = (s: string) => new TextEncoder().encode(s);

async function groupBroker(): Promise<Broker> {
  const broker = await openBroker({ groups: { minSessionTimeoutMs: 100, initialRebalanceDelayMs: 0 } });
  await broker.createTopic('orders', { partitions: 2 });
  return broker;
}

/** Joins one member at JoinGroup `version`, through MEMBER_ID_REQUIRED when the version asks for it. */
async function join(broker: Broker, version: number, groupId: string, groupInstanceId: string | null = null) {
  const request = (memberId: string) => ({
    groupId,
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: version >= 1 ? 10_000 : -1,
    memberId,
    groupInstanceId,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: bytes('meta') }],
    reason: null,
  });
  let { wire } = await exchange(joinGroupHandler, broker, version, request(''));
  if (version >= 4 && groupInstanceId === null) {
    expect(wire.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    expect(wire.memberId).toMatch(/^admin-test-/);
    ({ wire } = await exchange(joinGroupHandler, broker, version, request(wire.memberId)));
  }
  expect(wire.errorCode).toBe(ErrorCode.NONE);
  return wire;
}

/** OffsetFetch of one group at any version: v8+ carries groups, older versions one group id. */
async function fetchOffsets(broker: Broker, version: number, groupId: string, topics: { name: string; partitionIndexes: number[] }[] | null, requireStable: boolean) {
  if (version >= 8) {
    const { wire } = await exchange(offsetFetchHandler, broker, version, { groupId: '', topics: [], groups: [{ groupId, memberId: null, memberEpoch: -1, topics }], requireStable });
    return wire.groups[0]!;
  }
  const { wire } = await exchange(offsetFetchHandler, broker, version, { groupId, topics, groups: [], requireStable });
  return wire;
}

describe('group API handlers', () => {
  it('registers every group API once', () => {
    expect(groupApiHandlers.map((h) => h.apiKey).sort((a, b) => a - b)).toEqual([8, 9, 10, 11, 12, 13, 14, 15, 16, 42, 47]);
  });

  it.each(versionsOf(findCoordinatorHandler))('FindCoordinator v%i resolves groups and transactional ids to this node', async (version) => {
    const broker = await groupBroker();
    const body = { key: version <= 3 ? 'g' : '', keyType: version >= 1 ? 1 : 0, coordinatorKeys: version >= 4 ? ['g', 'h'] : [] };
    const { wire } = await exchange(findCoordinatorHandler, broker, version, body);
    if (version >= 4) {
      expect(wire.coordinators.map((c) => [c.key, c.nodeId, c.host, c.port, c.errorCode])).toEqual([
        ['g', 0, '127.0.0.1', 9092, 0],
        ['h', 0, '127.0.0.1', 9092, 0],
      ]);
    } else {
      expect(wire).toMatchObject({ errorCode: 0, nodeId: 0, host: '127.0.0.1', port: 9092 });
    }
    if (version >= 1) {
      const bad = await exchange(findCoordinatorHandler, broker, version, { ...body, keyType: 2 });
      const errorCode = version >= 4 ? bad.wire.coordinators[0]!.errorCode : bad.wire.errorCode;
      expect(errorCode).toBe(ErrorCode.INVALID_REQUEST);
    }
  });

  it.each(versionsOf(joinGroupHandler))('JoinGroup v%i, then SyncGroup, Heartbeat and LeaveGroup at matching versions', async (version) => {
    const broker = await groupBroker();
    const groupId = `g${version}`;
    const joined = await join(broker, version, groupId, version >= 5 ? 'static-1' : null);
    expect(joined).toMatchObject({ generationId: 1, protocolName: 'range', leader: joined.memberId });
    expect(joined.members.map((m) => m.memberId)).toEqual([joined.memberId]);
    const v = Math.min(version, 3);
    const identity = { groupId, generationId: joined.generationId, memberId: joined.memberId, groupInstanceId: v >= 3 && version >= 5 ? 'static-1' : null };
    const synced = await exchange(syncGroupHandler, broker, v, {
      ...identity,
      protocolType: null,
      protocolName: null,
      assignments: [{ memberId: joined.memberId, assignment: bytes('assigned') }],
    });
    expect(synced.wire.errorCode).toBe(0);
    expect(new TextDecoder().decode(synced.wire.assignment)).toBe('assigned');
    expect((await exchange(heartbeatHandler, broker, v, identity)).wire.errorCode).toBe(0);
    expect((await exchange(heartbeatHandler, broker, v, { ...identity, generationId: 9 })).wire.errorCode).toBe(ErrorCode.ILLEGAL_GENERATION);
    const leave =
      v >= 3
        ? await exchange(leaveGroupHandler, broker, v, {
            groupId,
            memberId: '',
            members: [
              { memberId: joined.memberId, groupInstanceId: identity.groupInstanceId, reason: null },
              { memberId: 'ghost', groupInstanceId: null, reason: null },
            ],
          })
        : await exchange(leaveGroupHandler, broker, v, { groupId, memberId: joined.memberId, members: [] });
    expect(leave.wire.errorCode).toBe(0);
    if (v >= 3) expect(leave.wire.members.map((m) => m.errorCode)).toEqual([0, ErrorCode.UNKNOWN_MEMBER_ID]);
    const again = await exchange(leaveGroupHandler, broker, v, v >= 3
      ? { groupId, memberId: '', members: [{ memberId: joined.memberId, groupInstanceId: null, reason: null }] }
      : { groupId, memberId: joined.memberId, members: [] });
    expect(v >= 3 ? again.wire.members[0]!.errorCode : again.wire.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it.each(versionsOf(offsetCommitHandler))('OffsetCommit v%i commits what OffsetFetch v1-v4 returns', async (version) => {
    const broker = await groupBroker();
    const groupId = `c${version}`;
    const commit = await exchange(offsetCommitHandler, broker, version, {
      groupId,
      generationIdOrMemberEpoch: -1,
      memberId: '',
      groupInstanceId: null,
      retentionTimeMs: -1n,
      topics: [
        {
          name: 'orders',
          partitions: [
            { partitionIndex: 0, committedOffset: 42n, committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata: 'meta' },
            { partitionIndex: 7, committedOffset: 1n, committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata: null },
          ],
        },
      ],
    });
    expect(commit.wire.topics[0]!.partitions.map((p) => p.errorCode)).toEqual([0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
    for (const fetchVersion of versionsOf(offsetFetchHandler)) {
      const fetched = await fetchOffsets(broker, fetchVersion, groupId, [{ name: 'orders', partitionIndexes: [0, 1] }], false);
      expect(fetched.topics[0]!.partitions.map((p) => [p.partitionIndex, p.committedOffset, p.metadata, p.errorCode])).toEqual([
        [0, 42n, 'meta', 0],
        [1, -1n, '', 0],
      ]);
      if (fetchVersion >= 2) {
        const all = await fetchOffsets(broker, fetchVersion, groupId, null, false);
        expect(all.topics.map((t) => [t.name, t.partitions.map((p) => p.committedOffset)])).toEqual([['orders', [42n]]]);
      }
    }
  });

  it('OffsetFetch v7-v8 with requireStable answers UNSTABLE_OFFSET_COMMIT while a transaction holds offsets for a partition', async () => {
    const broker = await groupBroker();
    const txns = broker.transactions;
    const { producerId, producerEpoch } = await txns.initProducerId('tx', 60_000);
    expect(await txns.addOffsets('tx', producerId, producerEpoch, 'g')).toBe(0);
    const held = await txns.txnOffsetCommit({
      transactionalId: 'tx',
      groupId: 'g',
      producerId,
      producerEpoch,
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      offsets: [{ topic: 'orders', partition: 1, offset: 9, leaderEpoch: -1, metadata: '' }],
    });
    expect(held[0]!.errorCode).toBe(0);
    for (const version of [7, 8]) {
      const stable = await fetchOffsets(broker, version, 'g', [{ name: 'orders', partitionIndexes: [0, 1] }], true);
      expect(stable.topics[0]!.partitions.map((p) => [p.partitionIndex, p.committedOffset, p.errorCode])).toEqual([
        [0, -1n, 0],
        [1, -1n, ErrorCode.UNSTABLE_OFFSET_COMMIT],
      ]);
      const all = await fetchOffsets(broker, version, 'g', null, true);
      expect(all.topics.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, p.errorCode])])).toEqual([['orders', [[1, ErrorCode.UNSTABLE_OFFSET_COMMIT]]]]);
      const unchecked = await fetchOffsets(broker, version, 'g', [{ name: 'orders', partitionIndexes: [1] }], false);
      expect(unchecked.topics[0]!.partitions[0]!.errorCode).toBe(0);
    }
    expect(await txns.endTxn('tx', producerId, producerEpoch, true)).toBe(0);
    const committed = await fetchOffsets(broker, 7, 'g', [{ name: 'orders', partitionIndexes: [1] }], true);
    expect(committed.topics[0]!.partitions.map((p) => [p.committedOffset, p.errorCode])).toEqual([[9n, 0]]);
  });

  it('DescribeGroups v0-v4, ListGroups v0-v4, OffsetDelete v0 and DeleteGroups v0-v1', async () => {
    const broker = await groupBroker();
    const joined = await join(broker, 5, 'live');
    await exchange(syncGroupHandler, broker, 3, {
      groupId: 'live',
      generationId: joined.generationId,
      memberId: joined.memberId,
      groupInstanceId: null,
      protocolType: null,
      protocolName: null,
      assignments: [{ memberId: joined.memberId, assignment: bytes('a') }],
    });
    await broker.groups.commitOffsets({
      groupId: 'idle',
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      retentionTimeMs: -1,
      topics: [{ name: 'orders', partitions: [{ partitionIndex: 1, committedOffset: 3, committedMetadata: null }] }],
    });
    for (const version of versionsOf(describeGroupsHandler)) {
      const { wire } = await exchange(describeGroupsHandler, broker, version, { groups: ['live', 'idle'], includeAuthorizedOperations: false });
      expect(wire.groups.map((g) => [g.groupId, g.groupState, g.protocolType, g.protocolData, g.members.length])).toEqual([
        ['live', 'Stable', 'consumer', 'range', 1],
        ['idle', 'Empty', '', '', 0],
      ]);
      expect(wire.groups[0]!.members[0]).toMatchObject({ memberId: joined.memberId, clientId: 'admin-test', clientHost: '/test' });
    }
    for (const version of versionsOf(listGroupsHandler)) {
      const { wire } = await exchange(listGroupsHandler, broker, version, { statesFilter: version >= 4 ? ['stable'] : [], typesFilter: [] });
      expect(wire.groups.map((g) => g.groupId)).toEqual(version >= 4 ? ['live'] : ['idle', 'live']);
    }
    const offsetDelete = await exchange(offsetDeleteHandler, broker, 0, { groupId: 'idle', topics: [{ name: 'orders', partitions: [{ partitionIndex: 1 }] }] });
    expect(offsetDelete.wire.topics[0]!.partitions[0]!.errorCode).toBe(0);
    expect((await exchange(offsetDeleteHandler, broker, 0, { groupId: 'nope', topics: [] })).wire.errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
    for (const version of versionsOf(deleteGroupsHandler)) {
      const { wire } = await exchange(deleteGroupsHandler, broker, version, { groupsNames: ['live', `missing${version}`] });
      expect(wire.results.map((r) => r.errorCode)).toEqual([ErrorCode.NON_EMPTY_GROUP, ErrorCode.GROUP_ID_NOT_FOUND]);
    }
    expect((await exchange(deleteGroupsHandler, broker, 1, { groupsNames: ['idle'] })).wire.results[0]!.errorCode).toBe(0);
  });
});
