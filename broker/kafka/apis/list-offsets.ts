import {
  ApiKey,
  type ListOffsetsResponseListOffsetsPartitionResponse,
  type ListOffsetsResponseListOffsetsTopicResponse,
} from '../../../sdk/protocol/mod.ts';
import { IsolationLevel } from '../../fetch/fetch-types.ts';
import type { ApiHandler } from '../api-handler.ts';
import { errorFields } from './kafka-error-fields.ts';

/**
 * ListOffsets v1+: latest (-1), earliest (-2), max timestamp (-3, v7+), earliest local (-4, v8+),
 * latest tiered (-5, v9+: none, there is no remote tier) or the first offset at or after a
 * timestamp, per partition. v10's timeout is for remote lookups, which never happen here.
 */
export const listOffsetsHandler: ApiHandler<typeof ApiKey.ListOffsets> = {
  apiKey: ApiKey.ListOffsets,
  minVersion: 1,
  maxVersion: 10,
  async handle(request, { broker }) {
    const isolationLevel = request.isolationLevel === IsolationLevel.readCommitted ? IsolationLevel.readCommitted : IsolationLevel.readUncommitted;
    const topics: ListOffsetsResponseListOffsetsTopicResponse[] = request.topics.map((topic) => ({
      name: topic.name,
      partitions: topic.partitions.map((p): ListOffsetsResponseListOffsetsPartitionResponse => {
        try {
          const found = broker.listOffsets(topic.name, p.partitionIndex, Number(p.timestamp), isolationLevel);
          return {
            partitionIndex: p.partitionIndex,
            errorCode: 0,
            oldStyleOffsets: [],
            timestamp: BigInt(found.timestamp),
            offset: BigInt(found.offset),
            leaderEpoch: -1,
          };
        } catch (error) {
          return {
            partitionIndex: p.partitionIndex,
            errorCode: errorFields(error).errorCode,
            oldStyleOffsets: [],
            timestamp: -1n,
            offset: -1n,
            leaderEpoch: -1,
          };
        }
      }),
    }));
    return { throttleTimeMs: 0, topics };
  },
};
