import type { TopicPartition } from '../consumer-types.ts';
import { type Assignor, emptyAssignment, type MemberSubscription, sortedMembers } from './assignor.ts';

/**
 * Kafka's RangeAssignor: per topic, its subscribers in member id order each take a contiguous
 * range of partitions; the first `count % subscribers` take one extra.
 */
export const rangeAssignor: Assignor<TopicPartition[]> = {
  name: 'range',
  protocol: 'eager',
  assign(members: readonly MemberSubscription[], partitionCounts: ReadonlyMap<string, number>): Map<string, TopicPartition[]> {
    const result = emptyAssignment(members);
    const ordered = sortedMembers(members);
    for (const [topic, count] of [...partitionCounts].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const subscribers = ordered.filter((m) => m.topics.includes(topic));
      if (subscribers.length === 0) continue;
      const each = Math.floor(count / subscribers.length);
      const extra = count % subscribers.length;
      subscribers.forEach((m, i) => {
        const start = i * each + Math.min(i, extra);
        const length = each + (i < extra ? 1 : 0);
        for (let p = start; p < start + length; p++) result.get(m.memberId)!.push({ topic, partition: p });
      });
    }
    return result;
  },
};
