import { ApiKey } from '../../../sdk/protocol/mod.ts';
import type { ApiHandler } from '../api-handler.ts';

/** LeaveGroup v0-v3: one member before v3, a batch of members (with group.instance.id) from v3. */
export const leaveGroupHandler: ApiHandler<typeof ApiKey.LeaveGroup> = {
  apiKey: ApiKey.LeaveGroup,
  minVersion: 0,
  maxVersion: 3,
  async handle(request, { broker, apiVersion }) {
    if (apiVersion >= 3) {
      const result = broker.groups.leaveGroup(
        request.groupId,
        request.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId })),
      );
      return { throttleTimeMs: 0, errorCode: result.errorCode, members: result.members };
    }
    const result = broker.groups.leaveGroup(request.groupId, [{ memberId: request.memberId, groupInstanceId: null }]);
    // Before v3 the one member's error is the response's error.
    const errorCode = result.errorCode !== 0 ? result.errorCode : (result.members[0]?.errorCode ?? 0);
    return { throttleTimeMs: 0, errorCode, members: [] };
  },
};
