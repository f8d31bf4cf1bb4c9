import { type TopicPartition, tpKey } from '../consumer-types.ts';
import { type Assignor, type MemberSubscription, sortedMembers } from './assignor.ts';

/**
 * Kafka's CooperativeStickyAssignor (KIP-429): members keep what they own, unowned partitions go to
 * the least loaded subscriber, then single partitions move from the most to the least loaded until
 * no two eligible members differ by more than one. A partition that changes owner is left out of
 * this round: its old owner revokes it and rejoins, and the follow-up rebalance hands it over, so a
 * partition is never owned twice.
 */
export const cooperativeStickyAssignor: Assignor<TopicPartition[]> = {
  name: 'cooperative-sticky',
  protocol: 'cooperative',
  assign(members: readonly MemberSubscription[], partitionCounts: ReadonlyMap<string, number>): Map<string, TopicPartition[]> {
    const ordered = sortedMembers(members);
    const exists = (tp: TopicPartition) => tp.partition >= 0 && tp.partition < (partitionCounts.get(tp.topic) ?? 0);
    const previousOwner = new Map<string, string>();
    const assigned = new Map<string, TopicPartition[]>(ordered.map((m) => [m.memberId, []]));
    // On conflicting claims (a member that missed a rebalance), the newest generation wins.
    for (const m of [...ordered].sort((a, b) => b.generationId - a.generationId)) {
      for (const tp of m.ownedPartitions) {
        const key = tpKey(tp.topic, tp.partition);
        if (!exists(tp) || !m.topics.includes(tp.topic) || previousOwner.has(key)) continue;
        previousOwner.set(key, m.memberId);
        assigned.get(m.memberId)!.push({ topic: tp.topic, partition: tp.partition });
      }
    }
    const subscribers = (topic: string) => ordered.filter((m) => m.topics.includes(topic));
    const load = (m: MemberSubscription) => assigned.get(m.memberId)!.length;
    for (const [topic, count] of [...partitionCounts].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const eligible = subscribers(topic);
      if (eligible.length === 0) continue;
      for (let partition = 0; partition < count; partition++) {
        if (previousOwner.has(tpKey(topic, partition))) continue;
        const least = eligible.reduce((best, m) => (load(m) < load(best) ? m : best));
        assigned.get(least.memberId)!.push({ topic, partition });
      }
    }
    // Every move lowers the sum of squared loads, so this ends; the bound guards the invariant.
    const maxMoves = [...partitionCounts.values()].reduce((a, b) => a + b, 0) * Math.max(1, ordered.length);
    for (let moves = 0; ; moves++) {
      if (moves > maxMoves) throw new Error('invariant: cooperative-sticky balancing did not converge');
      const move = findMove(ordered, assigned);
      if (move === undefined) break;
      const from = assigned.get(move.from)!;
      from.splice(from.indexOf(move.tp), 1);
      assigned.get(move.to)!.push(move.tp);
    }
    for (const [memberId, list] of assigned) {
      assigned.set(
        memberId,
        list.filter((tp) => {
          const owner = previousOwner.get(tpKey(tp.topic, tp.partition));
          return owner === undefined || owner === memberId;
        }),
      );
    }
    return assigned;
  },
};

/** A partition of a most-loaded member (its latest acquired first) that a member with two fewer can take. */
function findMove(
  ordered: readonly MemberSubscription[],
  assigned: ReadonlyMap<string, TopicPartition[]>,
): { tp: TopicPartition; from: string; to: string } | undefined {
  const byLoad = [...ordered].sort((a, b) => assigned.get(b.memberId)!.length - assigned.get(a.memberId)!.length);
  for (const from of byLoad) {
    const list = assigned.get(from.memberId)!;
    for (let i = list.length - 1; i >= 0; i--) {
      const tp = list[i]!;
      let to: MemberSubscription | undefined;
      for (const m of ordered) {
        if (m === from || !m.topics.includes(tp.topic)) continue;
        if (assigned.get(m.memberId)!.length + 1 < list.length && (to === undefined || assigned.get(m.memberId)!.length < assigned.get(to.memberId)!.length)) to = m;
      }
      if (to !== undefined) return { tp, from: from.memberId, to: to.memberId };
    }
  }
  return undefined;
}
