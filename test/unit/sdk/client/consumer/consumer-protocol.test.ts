import { describe, expect, it } from 'vitest';
import { subscribedTopics } from '../../../../../broker/group/consumer-subscription.ts';
import { decodeAssignment, decodeSubscription, encodeAssignment, encodeSubscription } from '../../../../../sdk/client/consumer/consumer-protocol.ts';

describe('consumer protocol', () => {
  it('round-trips a subscription with owned partitions and generation, readable by the broker', () => {
    const bytes = encodeSubscription({ topics: ['a', 'b'], ownedPartitions: [{ topic: 'a', partition: 2 }, { topic: 'a', partition: 0 }], generationId: 7 });
    expect(decodeSubscription(bytes)).toEqual({ topics: ['a', 'b'], ownedPartitions: [{ topic: 'a', partition: 0 }, { topic: 'a', partition: 2 }], generationId: 7, userData: null });
    expect(subscribedTopics(bytes)).toEqual(['a', 'b']);
  });

  it('round-trips an assignment; empty bytes are no partitions; garbage is INCONSISTENT_GROUP_PROTOCOL', () => {
    expect(decodeAssignment(encodeAssignment([{ topic: 't', partition: 1 }, { topic: 'u', partition: 0 }]))).toEqual([
      { topic: 't', partition: 1 },
      { topic: 'u', partition: 0 },
    ]);
    expect(decodeAssignment(new Uint8Array(0))).toEqual([]);
    expect(() => decodeAssignment(new Uint8Array([0, 0, 0, 0, 0, 9]))).toThrow(/INCONSISTENT_GROUP_PROTOCOL/);
  });
});
