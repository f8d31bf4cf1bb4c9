import { ApiKey } from '../../sdk/protocol/mod.ts';
import type { Transport } from '../../sdk/transport/transport.ts';

/**
 * One ShareFetch (no waiting) by a member that joins and leaves again, releasing what it took;
 * resolves with the acquired ranges. On a share partition's first use it starts it at the log's
 * current end (share.auto.offset.reset=latest), so records produced afterwards are all the group's.
 */
export async function probeShareFetch(transport: Transport, groupId: string, topic: string, topicId: string): Promise<{ firstOffset: bigint; lastOffset: bigint; deliveryCount: number }[]> {
  const joined = await transport.send(ApiKey.ShareGroupHeartbeat, 0, { groupId, memberId: 'probe', memberEpoch: 0, rackId: null, subscribedTopicNames: [topic] });
  if (joined.errorCode !== 0) throw new Error(`probe join failed with ${joined.errorCode}`);
  const fetched = await transport.send(ApiKey.ShareFetch, 0, {
    groupId,
    memberId: 'probe',
    shareSessionEpoch: 0,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1024,
    topics: [{ topicId, partitions: [{ partitionIndex: 0, partitionMaxBytes: 1024, acknowledgementBatches: [] }] }],
    forgottenTopicsData: [],
  });
  const partition = fetched.responses[0]?.partitions[0];
  if (fetched.errorCode !== 0 || partition === undefined || partition.errorCode !== 0) throw new Error('probe fetch failed');
  await transport.send(ApiKey.ShareGroupHeartbeat, 0, { groupId, memberId: 'probe', memberEpoch: -1, rackId: null, subscribedTopicNames: null });
  return partition.acquiredRecords;
}
