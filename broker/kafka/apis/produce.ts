import { ApiKey, type ProduceResponsePartitionProduceResponse, type ProduceResponseTopicProduceResponse } from '../../../sdk/protocol/mod.ts';
import { KafkaError } from '../../../sdk/protocol/kafka-error.ts';
import type { AcksValue } from '../../log/acks.ts';
import type { AppendResult } from '../../log/partition-log.ts';
import type { ApiHandler } from '../api-handler.ts';
import { isCheckBackTopic } from '../../../sdk/client/txn-check/txn-check-format.ts';

const VALID_ACKS: ReadonlySet<number> = new Set([-1, 0, 1]);
const NO_LEADER = { leaderId: -1, leaderEpoch: -1 } as const;

function partitionResponse(index: number, outcome: AppendResult | KafkaError): ProduceResponsePartitionProduceResponse {
  const failed = outcome instanceof KafkaError;
  return {
    index,
    errorCode: failed ? outcome.code : 0,
    baseOffset: failed ? -1n : BigInt(outcome.baseOffset),
    logAppendTimeMs: failed ? -1n : BigInt(outcome.logAppendTimeMs),
    logStartOffset: failed ? -1n : BigInt(outcome.logStartOffset),
    recordErrors: [],
    errorMessage: failed ? outcome.message : null,
    currentLeader: NO_LEADER,
  };
}

/**
 * Produce: every partition's append starts synchronously, in request order, before anything is
 * awaited, so appends from one connection land in the order they were sent. Errors are per
 * partition. With acks=0 there is no response at all.
 */
export const produceHandler: ApiHandler<typeof ApiKey.Produce> = {
  apiKey: ApiKey.Produce,
  minVersion: 3,
  maxVersion: 11,
  async handle(request, { broker }) {
    const acks = request.acks;
    const pending: { topic: string; results: Promise<ProduceResponsePartitionProduceResponse>[] }[] = [];
    for (const topicData of request.topicData) {
      const results = topicData.partitionData.map((data) => {
        if (!VALID_ACKS.has(acks)) {
          const error = new KafkaError('INVALID_REQUIRED_ACKS', `acks must be -1, 0 or 1, got ${acks}`);
          return Promise.resolve(partitionResponse(data.index, error));
        }
        if (data.records === null || data.records.byteLength === 0) {
          const error = new KafkaError('INVALID_RECORD', `no record batches for ${topicData.name}-${data.index}`);
          return Promise.resolve(partitionResponse(data.index, error));
        }
        const records = data.records;
        const appended = isCheckBackTopic(topicData.name)
          ? broker.transactionChecks.produce(topicData.name, records, () => broker.append(topicData.name, data.index, records, acks as AcksValue))
          : broker.append(topicData.name, data.index, records, acks as AcksValue);
        return appended.then(
          (result) => partitionResponse(data.index, result),
          (error: unknown) => {
            if (error instanceof KafkaError) return partitionResponse(data.index, error);
            throw error;
          },
        );
      });
      pending.push({ topic: topicData.name, results });
    }
    if (acks === 0) {
      await Promise.all(pending.flatMap((p) => p.results));
      return undefined;
    }
    const responses: ProduceResponseTopicProduceResponse[] = [];
    for (const { topic, results } of pending) {
      responses.push({ name: topic, partitionResponses: await Promise.all(results) });
    }
    return { responses, throttleTimeMs: 0, nodeEndpoints: [] };
  },
};
