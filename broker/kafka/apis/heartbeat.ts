import { ApiKey } from '../../../sdk/protocol/mod.ts';
import type { ApiHandler } from '../api-handler.ts';

/** Heartbeat v0-v3. */
export const heartbeatHandler: ApiHandler<typeof ApiKey.Heartbeat> = {
  apiKey: ApiKey.Heartbeat,
  minVersion: 0,
  maxVersion: 3,
  async handle(request, { broker }) {
    const errorCode = broker.groups.heartbeat({
      groupId: request.groupId,
      generationId: request.generationId,
      memberId: request.memberId,
      groupInstanceId: request.groupInstanceId,
    });
    return { throttleTimeMs: 0, errorCode };
  },
};
