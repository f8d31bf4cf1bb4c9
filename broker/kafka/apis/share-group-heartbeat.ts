import { ApiKey } from '../../../sdk/protocol/mod.ts';
import { clientHost } from '../../group/client-host.ts';
import type { ApiHandler } from '../api-handler.ts';

/** ShareGroupHeartbeat v0 (KIP-932): join with epoch 0, leave with -1, the server assigns. */
export const shareGroupHeartbeatHandler: ApiHandler<typeof ApiKey.ShareGroupHeartbeat> = {
  apiKey: ApiKey.ShareGroupHeartbeat,
  minVersion: 0,
  maxVersion: 0,
  async handle(request, { broker, header, connection }) {
    const answer = await broker.shareGroups.heartbeat(request.groupId, {
      memberId: request.memberId,
      memberEpoch: request.memberEpoch,
      rackId: request.rackId,
      subscribedTopicNames: request.subscribedTopicNames,
      clientId: header.clientId ?? '',
      clientHost: clientHost(connection.remoteAddress),
    });
    return {
      throttleTimeMs: 0,
      errorCode: answer.errorCode,
      errorMessage: answer.errorMessage,
      memberId: answer.memberId,
      memberEpoch: answer.memberEpoch,
      heartbeatIntervalMs: answer.heartbeatIntervalMs,
      assignment: answer.assignment === null ? null : { topicPartitions: answer.assignment },
    };
  },
};
