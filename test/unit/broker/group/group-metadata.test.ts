import { encode } from '@msgpack/msgpack';
import { afterEach, describe, expect, it } from 'vitest';
import { CONSUMER_OFFSETS_TOPIC, offsetsPartitionFor } from '../../../../broker/group/offsets-topic.ts';
import { encodeOffsetKey, encodeOffsetValue } from '../../../../broker/group/offset-record.ts';
import { FaultInjectingFileSystem } from '../../../../broker/log/fault-injecting-file-system.ts';
import { nodeFileSystem } from '../../../../broker/log/file-system.ts';
import { ErrorCode } from '../../../../sdk/protocol/error-codes.ts';
import { RecordBatchBuilder } from '../../../../sdk/record/record-batch-builder.ts';
import { bytes, GroupFixture, heartbeat, joinAlone, joinInput, SESSION_MS, stablePair, sync } from './group-fixture.ts';

const fixtures: GroupFixture[] = [];

async function open(): Promise<GroupFixture> {
  const fixture = new GroupFixture();
  fixtures.push(fixture);
  await fixture.open();
  await fixture.broker.createTopic('orders', { partitions: 2 });
  return fixture;
}

afterEach(async () => {
  for (const f of fixtures.splice(0)) await f.dispose();
});

const isConsumerOffsetsLog = (path: string) => path.includes(`${CONSUMER_OFFSETS_TOPIC}-`) && path.endsWith('.log');

describe('group metadata in __consumer_offsets', () => {
  it('brings a Stable generation back after a restart: its members heartbeat, sync, commit and pass TxnOffsetCommit fencing without rejoining', async () => {
    const f = await open();
    const { a, b } = await stablePair(f);
    const before = f.groups.describeGroups(['g'])[0]!;
    // Down for ten sessions: restored members still get a whole session from the load.
    await f.broker.close();
    f.scheduler.advance(10 * SESSION_MS);
    await f.open();

    expect(f.groups.describeGroups(['g'])[0]).toEqual(before);
    expect(f.groups.describeGroup('g')).toMatchObject({ state: 'Stable', generationId: a.generationId, leaderId: a.memberId });
    expect(heartbeat(f.groups, 'g', a)).toBe(ErrorCode.NONE);
    expect((await sync(f.groups, 'g', b)).assignment).toEqual(bytes('B'));
    const commit = await f.groups.commitOffsets({
      groupId: 'g',
      generationId: b.generationId,
      memberId: b.memberId,
      groupInstanceId: null,
      retentionTimeMs: -1,
      topics: [{ name: 'orders', partitions: [{ partitionIndex: 1, committedOffset: 7, committedMetadata: null }] }],
    });
    expect(commit[0]!.partitions[0]!.errorCode).toBe(ErrorCode.NONE);
    expect(f.groups.txnOffsetSink.checkMember('g', a.generationId, a.memberId, null)).toBe(ErrorCode.NONE);
    expect(f.groups.txnOffsetSink.checkMember('g', a.generationId - 1, a.memberId, null)).toBe(ErrorCode.ILLEGAL_GENERATION);

    // Sessions run from the load: A keeps heartbeating, B (last heard from at its commit) expires.
    f.scheduler.advance(SESSION_MS - 1);
    expect(heartbeat(f.groups, 'g', a)).toBe(ErrorCode.NONE);
    f.scheduler.advance(2);
    expect(heartbeat(f.groups, 'g', b)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(heartbeat(f.groups, 'g', a)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
  });

  it('answers the leader’s SyncGroup only once the generation is durable: a crash right after the answer keeps it', async () => {
    const f = new GroupFixture();
    fixtures.push(f);
    const fs = new FaultInjectingFileSystem(nodeFileSystem);
    f.fs = fs;
    await f.open();
    const joined = await joinAlone(f.groups, 'g');
    const synced = await sync(f.groups, 'g', joined, [{ memberId: joined.memberId, assignment: bytes('all of it') }]);
    // Power loss the moment the answer is out: only what was fsynced survives.
    fs.crash();
    expect(synced.errorCode).toBe(ErrorCode.NONE);
    await f.broker.close().catch(() => undefined);
    f.fs = undefined;
    await f.open();
    expect(f.groups.describeGroup('g')).toMatchObject({ state: 'Stable', generationId: joined.generationId, leaderId: joined.memberId });
    expect(heartbeat(f.groups, 'g', joined)).toBe(ErrorCode.NONE);
    expect((await sync(f.groups, 'g', joined)).assignment).toEqual(bytes('all of it'));
  });

  it('answers every member waiting in SyncGroup with COORDINATOR_NOT_AVAILABLE when the generation cannot be written, and rebalances', async () => {
    const f = new GroupFixture();
    fixtures.push(f);
    const fs = new FaultInjectingFileSystem(nodeFileSystem);
    f.fs = fs;
    await f.open();
    const a1 = await joinAlone(f.groups, 'g', { clientId: 'a' });
    await sync(f.groups, 'g', a1);
    const bJoin = f.groups.joinGroup(joinInput('g', { clientId: 'b' }));
    const [a, b] = await Promise.all([f.groups.joinGroup(joinInput('g', { clientId: 'a', memberId: a1.memberId })), bJoin]);
    const bSync = sync(f.groups, 'g', b);
    fs.failNextFsync(isConsumerOffsetsLog);
    const aSync = sync(f.groups, 'g', a, [{ memberId: b.memberId, assignment: bytes('B') }]);
    expect((await aSync).errorCode).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    expect((await bSync).errorCode).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    expect(f.groups.describeGroup('g').state).toBe('PreparingRebalance');
    expect(heartbeat(f.groups, 'g', b)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
  });

  it('stores the generation of a group its last member leaves, and forgets a deleted or expired group', async () => {
    const f = await open();
    const { a, b } = await stablePair(f);
    f.groups.leaveGroup('g', [
      { memberId: a.memberId, groupInstanceId: null },
      { memberId: b.memberId, groupInstanceId: null },
    ]);
    expect(f.groups.describeGroup('g')).toMatchObject({ state: 'Empty', generationId: a.generationId + 1 });
    await f.reopen();
    expect(f.groups.describeGroup('g')).toMatchObject({ state: 'Empty', generationId: a.generationId + 1, protocolType: 'consumer', members: [] });
    const next = await joinAlone(f.groups, 'g');
    expect(next.generationId).toBe(a.generationId + 2);
    f.groups.leaveGroup('g', [{ memberId: next.memberId, groupInstanceId: null }]);

    expect(await f.groups.deleteGroups(['g'])).toEqual([{ groupId: 'g', errorCode: ErrorCode.NONE }]);
    await f.reopen();
    expect(f.groups.describeGroups(['g'])[0]!.groupState).toBe('Dead');
    expect((await joinAlone(f.groups, 'g')).generationId).toBe(1);

    // An Empty group without offsets goes at the next retention check, for good.
    const again = await joinAlone(f.groups, 'h');
    f.groups.leaveGroup('h', [{ memberId: again.memberId, groupInstanceId: null }]);
    await f.reopen();
    expect(f.groups.describeGroup('h').state).toBe('Empty');
    await f.groups.expireOffsets();
    expect(f.groups.describeGroups(['h'])[0]!.groupState).toBe('Dead');
    await f.reopen();
    expect(f.groups.describeGroups(['h'])[0]!.groupState).toBe('Dead');
  });

  it('keeps a replaced static member’s new member id across a restart, the old one fenced', async () => {
    const f = await open();
    const first = await joinAlone(f.groups, 'g', { groupInstanceId: 'instance-1' });
    await sync(f.groups, 'g', first, [{ memberId: first.memberId, assignment: bytes('A') }]);
    const restarted = await f.groups.joinGroup(joinInput('g', { groupInstanceId: 'instance-1' }));
    expect(restarted).toMatchObject({ errorCode: ErrorCode.NONE, generationId: first.generationId });
    expect(restarted.memberId).not.toBe(first.memberId);
    await f.reopen();
    expect(heartbeat(f.groups, 'g', restarted, 'instance-1')).toBe(ErrorCode.NONE);
    expect(heartbeat(f.groups, 'g', first, 'instance-1')).toBe(ErrorCode.FENCED_INSTANCE_ID);
    expect(f.groups.describeGroup('g')).toMatchObject({ state: 'Stable', generationId: first.generationId, leaderId: restarted.memberId });
  });

  it('loads past records of key types it does not read, and offsets stored before group metadata was', async () => {
    const f = await open();
    // What an older version (offsets only) and a newer one (key types of its own) would have written.
    const partitions = await f.broker.internalTopics.create(CONSUMER_OFFSETS_TOPIC, { partitions: 4, config: { 'cleanup.policy': 'compact' } });
    const builder = new RecordBatchBuilder({});
    builder.append({ key: encode([99, 'g', 'something new']), value: encode([1, 'whatever']) });
    builder.append({ key: encodeOffsetKey({ groupId: 'g', topic: 'orders', partition: 0 }), value: encodeOffsetValue({ offset: 12, metadata: 'm', commitTimestampMs: 0, expireTimestampMs: -1 }) });
    builder.append({ key: encode([3, 'g']), value: null });
    await f.broker.append(CONSUMER_OFFSETS_TOPIC, offsetsPartitionFor('g', partitions), builder.seal());
    await f.reopen();
    expect(f.groups.fetchOffsets('g', null).topics).toEqual([{ name: 'orders', partitions: [{ partitionIndex: 0, committedOffset: 12, metadata: 'm', errorCode: 0 }] }]);
    expect(f.groups.describeGroup('g')).toMatchObject({ state: 'Empty', generationId: 0, protocolType: '', members: [] });
  });
});
