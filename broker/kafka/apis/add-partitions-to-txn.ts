import { ApiKey, type AddPartitionsToTxnResponseAddPartitionsToTxnTopicResult } from '../../../sdk/protocol/mod.ts';
import type { ApiHandler } from '../api-handler.ts';
import { fencedFor } from './producer-fenced.ts';

/**
 * AddPartitionsToTxn v0-v3, the client versions. v4+ is Kafka's broker-to-broker batched form
 * (KIP-890 verification) and is never advertised: a client offered it would send it.
 */
export const addPartitionsToTxnHandler: ApiHandler<typeof ApiKey.AddPartitionsToTxn> = {
  apiKey: ApiKey.AddPartitionsToTxn,
  minVersion: 0,
  maxVersion: 3,
  async handle(request, { broker, apiVersion }) {
    const partitions = request.v3AndBelowTopics.flatMap((t) => t.partitions.map((partition) => ({ topic: t.name, partition })));
    const results = await broker.transactions.addPartitions(
      request.v3AndBelowTransactionalId,
      Number(request.v3AndBelowProducerId),
      request.v3AndBelowProducerEpoch,
      partitions,
    );
    const byTopic = new Map<string, AddPartitionsToTxnResponseAddPartitionsToTxnTopicResult>();
    for (const r of results) {
      let topic = byTopic.get(r.topic);
      if (topic === undefined) {
        topic = { name: r.topic, resultsByPartition: [] };
        byTopic.set(r.topic, topic);
      }
      topic.resultsByPartition.push({ partitionIndex: r.partition, partitionErrorCode: fencedFor(r.errorCode, apiVersion, 2) });
    }
    return { throttleTimeMs: 0, errorCode: 0, resultsByTransaction: [], resultsByTopicV3AndBelow: [...byTopic.values()] };
  },
};
