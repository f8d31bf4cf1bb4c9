import { ApiKey, type TxnOffsetCommitResponseTopic } from '../../../sdk/protocol/mod.ts';
import type { ApiHandler } from '../api-handler.ts';
import { fencedFor } from './producer-fenced.ts';

/**
 * TxnOffsetCommit v0-v4: offsets held in the transaction until its commit. v3+ carry the member
 * and generation for KIP-447 fencing; v0-v2 (kafkajs) carry none and are not member-checked.
 */
export const txnOffsetCommitHandler: ApiHandler<typeof ApiKey.TxnOffsetCommit> = {
  apiKey: ApiKey.TxnOffsetCommit,
  minVersion: 0,
  maxVersion: 4,
  async handle(request, { broker, apiVersion }) {
    const memberAware = apiVersion >= 3;
    const results = await broker.transactions.txnOffsetCommit({
      transactionalId: request.transactionalId,
      groupId: request.groupId,
      producerId: Number(request.producerId),
      producerEpoch: request.producerEpoch,
      generationId: memberAware ? request.generationId : -1,
      memberId: memberAware ? request.memberId : '',
      groupInstanceId: memberAware ? request.groupInstanceId : null,
      offsets: request.topics.flatMap((t) =>
        t.partitions.map((p) => ({
          topic: t.name,
          partition: p.partitionIndex,
          offset: Number(p.committedOffset),
          leaderEpoch: p.committedLeaderEpoch,
          metadata: p.committedMetadata ?? '',
        })),
      ),
    });
    const topics: TxnOffsetCommitResponseTopic[] = [];
    let i = 0;
    for (const t of request.topics) {
      topics.push({
        name: t.name,
        partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: fencedFor(results[i++]!.errorCode, apiVersion, 3) })),
      });
    }
    return { throttleTimeMs: 0, topics };
  },
};
