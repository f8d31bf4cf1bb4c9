import { afterEach, describe, expect, it } from 'vitest';
import type { GroupCoordinator } from '../../../../broker/group/group-coordinator.ts';
import type { OffsetCommitInput } from '../../../../broker/group/group-types.ts';
import { CONSUMER_OFFSETS_TOPIC, offsetsPartitionFor } from '../../../../broker/group/offsets-topic.ts';
import { ErrorCode } from '../../../../sdk/protocol/error-codes.ts';
import { KafkaError } from '../../../../sdk/protocol/kafka-error.ts';
import { RecordBatchBuilder } from '../../../../sdk/record/record-batch-builder.ts';
import { GroupFixture, joinInput, subscription } from './group-fixture.ts';

const fixtures: GroupFixture[] = [];

async function open(options: ConstructorParameters<typeof GroupFixture>[0] = {}): Promise<GroupFixture> {
  const fixture = new GroupFixture(options);
  fixtures.push(fixture);
  await fixture.open();
  await fixture.broker.createTopic('orders', { partitions: 3 });
  await fixture.broker.createTopic('audit', { partitions: 1 });
  return fixture;
}

afterEach(async () => {
  for (const f of fixtures.splice(0)) await f.dispose();
});

const DAY_MS = 24 * 60 * 60 * 1000;

function commitInput(groupId: string, offsets: Record<string, Record<number, number>>, overrides: Partial<OffsetCommitInput> = {}): OffsetCommitInput {
  return {
    groupId,
    generationId: -1,
    memberId: '',
    groupInstanceId: null,
    retentionTimeMs: -1,
    topics: Object.entries(offsets).map(([name, partitions]) => ({
      name,
      partitions: Object.entries(partitions).map(([p, offset]) => ({
        partitionIndex: Number(p),
        committedOffset: offset,
        committedMetadata: `m${offset}`,
      })),
    })),
    ...overrides,
  };
}

async function commit(groups: GroupCoordinator, groupId: string, offsets: Record<string, Record<number, number>>, overrides: Partial<OffsetCommitInput> = {}) {
  const result = await groups.commitOffsets(commitInput(groupId, offsets, overrides));
  return result.flatMap((t) => t.partitions.map((p) => p.errorCode));
}

function committed(groups: GroupCoordinator, groupId: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of groups.fetchOffsets(groupId, null).topics) for (const p of t.partitions) out[`${t.name}-${p.partitionIndex}`] = p.committedOffset;
  return out;
}

async function produce(f: GroupFixture, topic: string, partition: number, count: number, timestamp: number): Promise<void> {
  const builder = new RecordBatchBuilder({});
  for (let i = 0; i < count; i++) builder.append({ value: new Uint8Array([i]), timestamp: timestamp + i });
  await f.broker.append(topic, partition, builder.seal());
}

async function expectKafkaError(promise: Promise<unknown>, name: string): Promise<void> {
  await expect(promise).rejects.toBeInstanceOf(KafkaError);
  await expect(promise).rejects.toMatchObject({ errorName: name });
}

/** One consumer member in a Stable generation, subscribed to `topics`. */
async function stableMember(groups: GroupCoordinator, groupId: string, topics: string[] = ['orders'], sessionTimeoutMs?: number) {
  const joined = await groups.joinGroup(
    joinInput(groupId, { protocols: [{ name: 'range', metadata: subscription(topics) }], ...(sessionTimeoutMs === undefined ? {} : { sessionTimeoutMs }) }),
  );
  await groups.syncGroup({ groupId, generationId: joined.generationId, memberId: joined.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
  return joined;
}

describe('OffsetCommit and OffsetFetch', () => {
  it('commits offsets with metadata and fetches them, -1 for partitions without a commit, all partitions for null topics', async () => {
    const f = await open();
    expect(await commit(f.groups, 'g', { orders: { 0: 5, 2: 7 } })).toEqual([0, 0]);
    const fetched = f.groups.fetchOffsets('g', [{ name: 'orders', partitionIndexes: [0, 1, 2] }]);
    expect(fetched.topics[0]!.partitions).toEqual([
      { partitionIndex: 0, committedOffset: 5, metadata: 'm5', errorCode: 0 },
      { partitionIndex: 1, committedOffset: -1, metadata: '', errorCode: 0 },
      { partitionIndex: 2, committedOffset: 7, metadata: 'm7', errorCode: 0 },
    ]);
    expect(committed(f.groups, 'g')).toEqual({ 'orders-0': 5, 'orders-2': 7 });
    expect(f.groups.fetchOffsets('unknown', [{ name: 'orders', partitionIndexes: [0] }]).topics[0]!.partitions[0]!.committedOffset).toBe(-1);
    expect(f.groups.fetchOffsets('unknown', null).topics).toEqual([]);
    const described = f.broker.describeTopic(CONSUMER_OFFSETS_TOPIC);
    expect(described.internal).toBe(true);
    expect(described.configs.find((c) => c.name === 'cleanup.policy')?.value).toBe('compact');
  });

  it('checks the member and generation of commits from group members', async () => {
    const f = await open();
    const member = await stableMember(f.groups, 'g');
    const asMember = { generationId: member.generationId, memberId: member.memberId };
    expect(await commit(f.groups, 'g', { orders: { 0: 1 } }, asMember)).toEqual([ErrorCode.NONE]);
    expect(await commit(f.groups, 'g', { orders: { 0: 2 } }, { ...asMember, generationId: member.generationId + 1 })).toEqual([ErrorCode.ILLEGAL_GENERATION]);
    expect(await commit(f.groups, 'g', { orders: { 0: 2 } }, { ...asMember, memberId: 'ghost' })).toEqual([ErrorCode.UNKNOWN_MEMBER_ID]);
    // A commit from outside the protocol (generation -1) is refused while the group has members.
    expect(await commit(f.groups, 'g', { orders: { 0: 2 } })).toEqual([ErrorCode.UNKNOWN_MEMBER_ID]);
    expect(await commit(f.groups, 'new', { orders: { 0: 2 } }, { generationId: 3, memberId: 'x' })).toEqual([ErrorCode.ILLEGAL_GENERATION]);
    expect(committed(f.groups, 'g')).toEqual({ 'orders-0': 1 });
  });

  it('refuses commits while the group completes a rebalance', async () => {
    const f = await open();
    const joined = await f.groups.joinGroup(joinInput('g'));
    expect(f.groups.describeGroups(['g'])[0]!.groupState).toBe('CompletingRebalance');
    expect(await commit(f.groups, 'g', { orders: { 0: 1 } }, { generationId: joined.generationId, memberId: joined.memberId })).toEqual([
      ErrorCode.REBALANCE_IN_PROGRESS,
    ]);
  });

  it('answers per partition for unknown partitions and oversized metadata, committing the rest', async () => {
    const f = await open({ offsetMetadataMaxBytes: 8 });
    const result = await f.groups.commitOffsets({
      ...commitInput('g', {}),
      topics: [
        { name: 'orders', partitions: [{ partitionIndex: 0, committedOffset: 3, committedMetadata: 'ok' }, { partitionIndex: 9, committedOffset: 1, committedMetadata: null }] },
        { name: 'missing', partitions: [{ partitionIndex: 0, committedOffset: 1, committedMetadata: null }] },
        { name: 'audit', partitions: [{ partitionIndex: 0, committedOffset: 1, committedMetadata: 'x'.repeat(9) }] },
      ],
    });
    expect(result.map((t) => t.partitions.map((p) => p.errorCode))).toEqual([
      [ErrorCode.NONE, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      [ErrorCode.OFFSET_METADATA_TOO_LARGE],
    ]);
    expect(committed(f.groups, 'g')).toEqual({ 'orders-0': 3 });
  });
});

describe('__consumer_offsets', () => {
  it('rebuilds committed offsets at open: the last write per key wins and tombstones delete', async () => {
    const f = await open();
    await commit(f.groups, 'g1', { orders: { 0: 1, 1: 10 } });
    await commit(f.groups, 'g1', { orders: { 0: 2 }, audit: { 0: 4 } });
    await commit(f.groups, 'g2', { orders: { 2: 30 } });
    await commit(f.groups, 'gone', { orders: { 0: 1 } });
    expect((await f.groups.deleteOffsets('g1', [{ name: 'audit', partitionIndexes: [0] }])).topics[0]!.partitions[0]!.errorCode).toBe(0);
    expect(await f.groups.deleteGroups(['gone'])).toEqual([{ groupId: 'gone', errorCode: 0 }]);
    const before = { g1: committed(f.groups, 'g1'), g2: committed(f.groups, 'g2') };
    expect(before).toEqual({ g1: { 'orders-0': 2, 'orders-1': 10 }, g2: { 'orders-2': 30 } });
    await f.reopen();
    expect({ g1: committed(f.groups, 'g1'), g2: committed(f.groups, 'g2') }).toEqual(before);
    expect(f.groups.fetchOffsets('g1', [{ name: 'orders', partitionIndexes: [0] }]).topics[0]!.partitions[0]!.metadata).toBe('m2');
    expect(f.groups.listGroups().map((g) => [g.groupId, g.groupState])).toEqual([
      ['g1', 'Empty'],
      ['g2', 'Empty'],
    ]);
  });

  it('keeps the partition count it was created with, so groups map to the same partition after a config change', async () => {
    const f = await open({ offsetsTopicPartitions: 3 });
    await commit(f.groups, 'g', { orders: { 0: 8 } });
    const partition = offsetsPartitionFor('g', 3);
    expect(f.broker.describeTopic(CONSUMER_OFFSETS_TOPIC).partitions[partition]!.highWatermark).toBe(1);
    await f.reopen({ offsetsTopicPartitions: 7 });
    expect(f.broker.describeTopic(CONSUMER_OFFSETS_TOPIC).partitions).toHaveLength(3);
    await commit(f.groups, 'g', { orders: { 0: 9 } });
    expect(f.broker.describeTopic(CONSUMER_OFFSETS_TOPIC).partitions[partition]!.highWatermark).toBe(2);
    await f.reopen();
    expect(committed(f.groups, 'g')).toEqual({ 'orders-0': 9 });
  });

  it('maps groups to partitions with Java’s String.hashCode, as Kafka does', () => {
    // In Java, "group".hashCode() is 98629247 and "polygenelubricants".hashCode() is Integer.MIN_VALUE.
    expect(offsetsPartitionFor('group', 50)).toBe(98629247 % 50);
    expect(offsetsPartitionFor('polygenelubricants', 50)).toBe(0);
    expect(offsetsPartitionFor('polygenelubricants', 7)).toBe(0);
  });
});

describe('offsets retention', () => {
  it('expires an empty group’s offsets after the retention and removes the group, across restarts', async () => {
    const f = await open({ offsetsRetentionMs: 7 * DAY_MS });
    await commit(f.groups, 'old', { orders: { 0: 1 } });
    f.scheduler.advance(6 * DAY_MS);
    await commit(f.groups, 'recent', { orders: { 0: 2 } });
    expect(await f.groups.expireOffsets()).toBe(0);
    f.scheduler.advance(DAY_MS);
    expect(await f.groups.expireOffsets()).toBe(1);
    expect(f.groups.listGroups().map((g) => g.groupId)).toEqual(['recent']);
    await f.reopen();
    expect(f.groups.listGroups().map((g) => g.groupId)).toEqual(['recent']);
    expect(committed(f.groups, 'recent')).toEqual({ 'orders-0': 2 });
  });

  it('never expires offsets of a group with members; once it empties, they expire a retention after that', async () => {
    const f = await open({ offsetsRetentionMs: DAY_MS, maxSessionTimeoutMs: DAY_MS });
    const member = await stableMember(f.groups, 'g', ['orders'], DAY_MS);
    await commit(f.groups, 'g', { orders: { 0: 5 } }, { generationId: member.generationId, memberId: member.memberId });
    for (let day = 0; day < 3; day++) {
      f.scheduler.advance(DAY_MS / 2);
      f.groups.heartbeat({ groupId: 'g', generationId: member.generationId, memberId: member.memberId, groupInstanceId: null });
      f.scheduler.advance(DAY_MS / 2);
      expect(f.groups.heartbeat({ groupId: 'g', generationId: member.generationId, memberId: member.memberId, groupInstanceId: null })).toBe(0);
      expect(await f.groups.expireOffsets()).toBe(0);
    }
    f.groups.leaveGroup('g', [{ memberId: member.memberId, groupInstanceId: null }]);
    f.scheduler.advance(DAY_MS - 1);
    expect(await f.groups.expireOffsets()).toBe(0);
    f.scheduler.advance(1);
    expect(await f.groups.expireOffsets()).toBe(1);
    expect(f.groups.describeGroups(['g'])[0]!.groupState).toBe('Dead');
  });

  it('honours a commit’s own retention time (OffsetCommit v2-v4) and runs the check periodically', async () => {
    const f = await open({ offsetsRetentionMs: 30 * DAY_MS, offsetsRetentionCheckIntervalMs: 60_000 });
    await commit(f.groups, 'g', { orders: { 0: 5 } }, { retentionTimeMs: 120_000 });
    await commit(f.groups, 'g', { orders: { 1: 6 } });
    f.scheduler.advance(60_000);
    expect(committed(f.groups, 'g')).toEqual({ 'orders-0': 5, 'orders-1': 6 });
    f.scheduler.advance(60_000);
    // The periodic check issued its tombstone write; a second explicit check waits behind it.
    await f.groups.expireOffsets();
    expect(committed(f.groups, 'g')).toEqual({ 'orders-1': 6 });
  });
});

describe('OffsetDelete and DeleteGroups', () => {
  it('refuses to delete offsets of a topic the group is consuming and deletes the others', async () => {
    const f = await open();
    await commit(f.groups, 'g', { orders: { 0: 1 }, audit: { 0: 2 } });
    await stableMember(f.groups, 'g', ['orders']);
    const result = await f.groups.deleteOffsets('g', [
      { name: 'orders', partitionIndexes: [0] },
      { name: 'audit', partitionIndexes: [0] },
    ]);
    expect(result.errorCode).toBe(0);
    expect(result.topics.map((t) => t.partitions[0]!.errorCode)).toEqual([ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC, ErrorCode.NONE]);
    expect(committed(f.groups, 'g')).toEqual({ 'orders-0': 1 });
    expect((await f.groups.deleteOffsets('missing', [])).errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
  });

  it('deletes only groups without members', async () => {
    const f = await open();
    await stableMember(f.groups, 'busy');
    await commit(f.groups, 'idle', { orders: { 0: 1 } });
    expect(await f.groups.deleteGroups(['busy', 'idle', 'missing', ''])).toEqual([
      { groupId: 'busy', errorCode: ErrorCode.NON_EMPTY_GROUP },
      { groupId: 'idle', errorCode: ErrorCode.NONE },
      { groupId: 'missing', errorCode: ErrorCode.GROUP_ID_NOT_FOUND },
      { groupId: '', errorCode: ErrorCode.INVALID_GROUP_ID },
    ]);
    expect(f.groups.fetchOffsets('idle', null).topics).toEqual([]);
  });
});

describe('admin offset reset and lag', () => {
  it('resets to earliest, latest, a timestamp or explicit offsets (clamped to the log)', async () => {
    const f = await open();
    await produce(f, 'orders', 0, 10, 1_000);
    await produce(f, 'orders', 1, 4, 5_000);
    await commit(f.groups, 'g', { orders: { 0: 3 } });
    expect(await f.groups.resetOffsets('g', 'orders', 'latest')).toEqual([
      { partition: 0, offset: 10 },
      { partition: 1, offset: 4 },
      { partition: 2, offset: 0 },
    ]);
    expect(committed(f.groups, 'g')).toEqual({ 'orders-0': 10, 'orders-1': 4, 'orders-2': 0 });
    await f.groups.resetOffsets('g', 'orders', 'earliest');
    expect(committed(f.groups, 'g')).toEqual({ 'orders-0': 0, 'orders-1': 0, 'orders-2': 0 });
    await f.groups.resetOffsets('g', 'orders', { timestamp: 1_004 });
    expect(committed(f.groups, 'g')).toEqual({ 'orders-0': 4, 'orders-1': 0, 'orders-2': 0 });
    await f.groups.resetOffsets('g', 'orders', { timestamp: 6_000 });
    expect(committed(f.groups, 'g')).toEqual({ 'orders-0': 10, 'orders-1': 4, 'orders-2': 0 });
    await f.groups.resetOffsets('g', 'orders', { offsets: new Map([[0, 7], [1, 99]]) });
    expect(committed(f.groups, 'g')).toEqual({ 'orders-0': 7, 'orders-1': 4, 'orders-2': 0 });
    await f.reopen();
    expect(committed(f.groups, 'g')).toEqual({ 'orders-0': 7, 'orders-1': 4, 'orders-2': 0 });
    expect(f.groups.describeGroup('g').offsets.map((o) => [o.partition, o.committedOffset, o.highWatermark, o.lag])).toEqual([
      [0, 7, 10, 3],
      [1, 4, 4, 0],
      [2, 0, 0, 0],
    ]);
    expect(f.groups.describeGroup('g').totalLag).toBe(3);
  });

  it('refuses a reset while the group has members, and for unknown topics or partitions', async () => {
    const f = await open();
    await stableMember(f.groups, 'g');
    await expectKafkaError(f.groups.resetOffsets('g', 'orders', 'earliest'), 'NON_EMPTY_GROUP');
    await expectKafkaError(f.groups.resetOffsets('other', 'missing', 'earliest'), 'UNKNOWN_TOPIC_OR_PARTITION');
    await expectKafkaError(f.groups.resetOffsets('other', 'orders', { offsets: new Map([[5, 0]]) }), 'UNKNOWN_TOPIC_OR_PARTITION');
    expect(() => f.groups.describeGroup('missing')).toThrow(KafkaError);
    expect(f.groups.describeGroup('g')).toMatchObject({ state: 'Stable', protocolType: 'consumer', protocolName: 'range', generationId: 1 });
  });
});

describe('transaction offset sink', () => {
  it('fences TxnOffsetCommit by member and generation and commits a transaction’s offsets durably', async () => {
    const f = await open();
    const member = await stableMember(f.groups, 'g');
    const sink = f.groups.txnOffsetSink;
    expect(sink.checkMember('g', -1, '', null)).toBe(ErrorCode.NONE);
    expect(sink.checkMember('g', member.generationId, member.memberId, null)).toBe(ErrorCode.NONE);
    expect(sink.checkMember('g', member.generationId + 1, member.memberId, null)).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(sink.checkMember('g', member.generationId, 'ghost', null)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(sink.checkMember('unknown', 1, 'x', null)).toBe(ErrorCode.ILLEGAL_GENERATION);
    const offsets = [{ topic: 'orders', partition: 1, offset: 12, leaderEpoch: -1, metadata: 'txn' }];
    await sink.commitOffsets('g', offsets);
    await sink.commitOffsets('g', offsets);
    await f.reopen();
    expect(f.groups.fetchOffsets('g', null).topics).toEqual([
      { name: 'orders', partitions: [{ partitionIndex: 1, committedOffset: 12, metadata: 'txn', errorCode: 0 }] },
    ]);
  });
});
