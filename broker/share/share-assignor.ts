/** A member's target assignment: partitions by topic name. */
export type ShareAssignment = ReadonlyMap<string, readonly number[]>;

/**
 * KIP-932's simple assignor, server-side. Share groups need no exclusive ownership, so every
 * partition of a subscribed topic gets at least one member and every member at least one
 * partition: with no more members than partitions, partition p goes to member p mod M; with more
 * members, member i gets partition i mod P, so several members share a partition. Members are
 * taken in id order, which keeps the result the same for the same group.
 */
export function assignShareGroup(
  members: readonly { memberId: string; subscribedTopicNames: readonly string[] }[],
  partitionCount: (topic: string) => number | undefined,
): Map<string, Map<string, number[]>> {
  const result = new Map<string, Map<string, number[]>>();
  const sorted = [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
  for (const m of sorted) result.set(m.memberId, new Map());
  const topics = new Set(sorted.flatMap((m) => m.subscribedTopicNames));
  for (const topic of [...topics].sort()) {
    const count = partitionCount(topic) ?? 0;
    if (count === 0) continue;
    const subscribers = sorted.filter((m) => m.subscribedTopicNames.includes(topic));
    const add = (memberId: string, partition: number): void => {
      const own = result.get(memberId)!;
      own.set(topic, [...(own.get(topic) ?? []), partition]);
    };
    if (subscribers.length <= count) for (let p = 0; p < count; p++) add(subscribers[p % subscribers.length]!.memberId, p);
    else subscribers.forEach((m, i) => add(m.memberId, i % count));
  }
  return result;
}

export function sameAssignment(a: ShareAssignment, b: ShareAssignment): boolean {
  if (a.size !== b.size) return false;
  for (const [topic, partitions] of a) {
    const other = b.get(topic);
    if (other === undefined || other.length !== partitions.length || other.some((p, i) => p !== partitions[i])) return false;
  }
  return true;
}
