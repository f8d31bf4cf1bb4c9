import { ApiKey } from '../../../sdk/protocol/mod.ts';
import type { ApiHandler } from '../api-handler.ts';

/** OffsetFetch v1-v4 (v2+: null topics fetch every committed partition; top-level error code). */
export const offsetFetchHandler: ApiHandler<typeof ApiKey.OffsetFetch> = {
  apiKey: ApiKey.OffsetFetch,
  minVersion: 1,
  maxVersion: 4,
  async handle(request, { broker, apiVersion }) {
    const result = broker.groups.fetchOffsets(
      request.groupId,
      request.topics?.map((t) => ({ name: t.name, partitionIndexes: t.partitionIndexes })) ?? null,
    );
    // v1 has no top-level error code, so a group-level error goes on every partition.
    const partitionError = apiVersion < 2 ? result.errorCode : 0;
    return {
      throttleTimeMs: 0,
      errorCode: result.errorCode,
      groups: [],
      topics: result.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partitionIndex,
          committedOffset: BigInt(p.committedOffset),
          committedLeaderEpoch: -1,
          metadata: p.metadata,
          errorCode: p.errorCode !== 0 ? p.errorCode : partitionError,
        })),
      })),
    };
  },
};
