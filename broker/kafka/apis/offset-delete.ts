import { ApiKey } from '../../../sdk/protocol/mod.ts';
import type { ApiHandler } from '../api-handler.ts';

/** OffsetDelete v0: GROUP_SUBSCRIBED_TO_TOPIC for topics the group's members consume. */
export const offsetDeleteHandler: ApiHandler<typeof ApiKey.OffsetDelete> = {
  apiKey: ApiKey.OffsetDelete,
  minVersion: 0,
  maxVersion: 0,
  async handle(request, { broker }) {
    const result = await broker.groups.deleteOffsets(
      request.groupId,
      request.topics.map((t) => ({ name: t.name, partitionIndexes: t.partitions.map((p) => p.partitionIndex) })),
    );
    return { errorCode: result.errorCode, throttleTimeMs: 0, topics: result.topics };
  },
};
