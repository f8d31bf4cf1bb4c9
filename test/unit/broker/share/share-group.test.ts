import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../../sdk/protocol/error-codes.ts';
import { assignShareGroup } from '../../../../broker/share/share-assignor.ts';
import { deadLetterTopicOf, defaultShareGroupConfig, resolveShareGroupConfig } from '../../../../broker/share/share-config.ts';
import { validateTopicName } from '../../../../broker/topic/topic-name.ts';
import { ShareGroup } from '../../../../broker/share/share-group.ts';

const counts = new Map([
  ['a', 2],
  ['b', 5],
]);
const partitionCount = (topic: string) => counts.get(topic);

describe('share assignor', () => {
  it('spreads partitions over members, and members over partitions when there are more members', () => {
    const fewer = assignShareGroup(
      [
        { memberId: 'm2', subscribedTopicNames: ['b'] },
        { memberId: 'm1', subscribedTopicNames: ['b'] },
      ],
      partitionCount,
    );
    expect(fewer.get('m1')!.get('b')).toEqual([0, 2, 4]);
    expect(fewer.get('m2')!.get('b')).toEqual([1, 3]);
    const more = assignShareGroup(['x', 'y', 'z'].map((memberId) => ({ memberId, subscribedTopicNames: ['a'] })), partitionCount);
    expect([...more.values()].map((m) => m.get('a'))).toEqual([[0], [1], [0]]);
    const missing = assignShareGroup([{ memberId: 'x', subscribedTopicNames: ['nope'] }], partitionCount);
    expect(missing.get('x')!.size).toBe(0);
  });
});

describe('ShareGroup membership', () => {
  it('moves members to the group epoch with their new assignment, fences stale epochs and expires silent members', () => {
    const group = new ShareGroup('g', defaultShareGroupConfig);
    const a = group.heartbeat({ memberId: 'a', memberEpoch: 0, rackId: null, subscribedTopicNames: ['b'] }, 0, partitionCount);
    expect(a).toMatchObject({ errorCode: 0, memberId: 'a', memberEpoch: 2 });
    const b = group.heartbeat({ memberId: 'b', memberEpoch: 0, rackId: null, subscribedTopicNames: ['b'] }, 0, partitionCount);
    expect(b).toMatchObject({ errorCode: 0, memberEpoch: 3 });
    const again = group.heartbeat({ memberId: 'a', memberEpoch: 2, rackId: null, subscribedTopicNames: null }, 1000, partitionCount);
    expect(again).toMatchObject({ errorCode: 0, memberEpoch: 3 });
    expect('assignment' in again && again.assignment?.get('b')).toEqual([0, 2, 4]);
    expect(group.heartbeat({ memberId: 'a', memberEpoch: 2, rackId: null, subscribedTopicNames: null }, 1000, partitionCount).errorCode).toBe(ErrorCode.FENCED_MEMBER_EPOCH);
    expect(group.heartbeat({ memberId: 'zz', memberEpoch: 3, rackId: null, subscribedTopicNames: null }, 1000, partitionCount).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(group.heartbeat({ memberId: 'c', memberEpoch: 0, rackId: null, subscribedTopicNames: [] }, 1000, partitionCount).errorCode).toBe(ErrorCode.INVALID_REQUEST);
    counts.set('b', 6);
    const grown = group.heartbeat({ memberId: 'a', memberEpoch: 3, rackId: null, subscribedTopicNames: null }, 2000, partitionCount);
    expect(grown).toMatchObject({ errorCode: 0, memberEpoch: 4 });
    counts.set('b', 5);
    expect(group.expiredMembers(1000 + defaultShareGroupConfig.sessionTimeoutMs + 1)).toEqual(['b']);
  });

  it('refuses bad settings with a sentence naming the Kafka config', () => {
    expect(() => resolveShareGroupConfig({ defaults: { deliveryCountLimit: 0 } }, 'g')).toThrow(/share.delivery.count.limit must be a positive integer/);
    expect(() => resolveShareGroupConfig({ groups: { g: { autoOffsetReset: 'middle' as never } } }, 'g')).toThrow(/share.auto.offset.reset must be latest or earliest/);
  });
});

describe('the default dead-letter topic', () => {
  it('is <group>-dlq, and a valid, distinct topic name for group ids a topic name cannot hold', () => {
    expect(deadLetterTopicOf('orders-workers', defaultShareGroupConfig)).toBe('orders-workers-dlq');
    expect(deadLetterTopicOf('g', { ...defaultShareGroupConfig, deadLetterTopic: 'mine' })).toBe('mine');
    const ids = ['mqtt-share-ops/plant/+/temp', 'mqtt-share-ops/plant/+/humidity', 'mqtt-share-ops_plant_+_temp', 'émile', 'x'.repeat(300)];
    const topics = ids.map((id) => deadLetterTopicOf(id, defaultShareGroupConfig));
    for (const topic of topics) expect(() => validateTopicName(topic)).not.toThrow();
    expect(new Set(topics).size).toBe(ids.length);
    expect(topics[0]).toMatch(/^mqtt-share-ops_plant___temp-[0-9a-f]{8}-dlq$/);
  });
});
