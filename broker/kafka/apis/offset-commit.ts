import { ApiKey } from '../../../sdk/protocol/mod.ts';
import type { ApiHandler } from '../api-handler.ts';

/** OffsetCommit v2-v5 (v2-v4 carry a retention time, honoured per commit). */
export const offsetCommitHandler: ApiHandler<typeof ApiKey.OffsetCommit> = {
  apiKey: ApiKey.OffsetCommit,
  minVersion: 2,
  maxVersion: 5,
  async handle(request, { broker }) {
    const topics = await broker.groups.commitOffsets({
      groupId: request.groupId,
      generationId: request.generationIdOrMemberEpoch,
      memberId: request.memberId,
      groupInstanceId: request.groupInstanceId,
      retentionTimeMs: Number(request.retentionTimeMs),
      topics: request.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partitionIndex,
          committedOffset: Number(p.committedOffset),
          committedMetadata: p.committedMetadata,
        })),
      })),
    });
    return { throttleTimeMs: 0, topics };
  },
};
