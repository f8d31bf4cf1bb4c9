import { ApiKey } from '../../../sdk/protocol/mod.ts';
import type { ApiHandler } from '../api-handler.ts';

/** SyncGroup v0-v3: the leader's assignments, relayed to each member as opaque bytes. */
export const syncGroupHandler: ApiHandler<typeof ApiKey.SyncGroup> = {
  apiKey: ApiKey.SyncGroup,
  minVersion: 0,
  maxVersion: 3,
  async handle(request, { broker }) {
    const result = await broker.groups.syncGroup({
      groupId: request.groupId,
      generationId: request.generationId,
      memberId: request.memberId,
      groupInstanceId: request.groupInstanceId,
      protocolType: request.protocolType,
      protocolName: request.protocolName,
      assignments: request.assignments,
    });
    // protocolType and protocolName are on the wire from v5 only.
    return { throttleTimeMs: 0, errorCode: result.errorCode, protocolType: null, protocolName: null, assignment: result.assignment };
  },
};
