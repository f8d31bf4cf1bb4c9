import type { TopicPartition } from '../consumer-types.ts';
import { type Assignor, emptyAssignment, type MemberSubscription, sortedMembers } from './assignor.ts';

/**
 * Kafka's RoundRobinAssignor: every partition in (topic, partition) order goes to the next member
 * in member id order that subscribes to its topic.
 */
export const roundRobinAssignor: Assignor<TopicPartition[]> = {
  name: 'roundrobin',
  protocol: 'eager',
  assign(members: readonly MemberSubscription[], partitionCounts: ReadonlyMap<string, number>): Map<string, TopicPartition[]> {
    const result = emptyAssignment(members);
    const ordered = sortedMembers(members);
    if (ordered.length === 0) return result;
    let next = 0;
    for (const [topic, count] of [...partitionCounts].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (!ordered.some((m) => m.topics.includes(topic))) continue;
      for (let partition = 0; partition < count; partition++) {
        while (!ordered[next % ordered.length]!.topics.includes(topic)) next++;
        result.get(ordered[next % ordered.length]!.memberId)!.push({ topic, partition });
        next++;
      }
    }
    return result;
  },
};
