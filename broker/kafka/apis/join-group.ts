import { ApiKey } from '../../../sdk/protocol/mod.ts';
import { clientHost } from '../../group/client-host.ts';
import type { ApiHandler } from '../api-handler.ts';

/** JoinGroup v0-v5 (v4+: MEMBER_ID_REQUIRED on a first join; v5+: static membership). */
export const joinGroupHandler: ApiHandler<typeof ApiKey.JoinGroup> = {
  apiKey: ApiKey.JoinGroup,
  minVersion: 0,
  maxVersion: 5,
  async handle(request, { broker, apiVersion, header, connection }) {
    const result = await broker.groups.joinGroup({
      groupId: request.groupId,
      memberId: request.memberId,
      groupInstanceId: request.groupInstanceId,
      clientId: header.clientId ?? '',
      clientHost: clientHost(connection.remoteAddress),
      sessionTimeoutMs: request.sessionTimeoutMs,
      rebalanceTimeoutMs: request.rebalanceTimeoutMs,
      protocolType: request.protocolType,
      protocols: request.protocols,
      requireKnownMemberId: apiVersion >= 4,
    });
    return {
      throttleTimeMs: 0,
      errorCode: result.errorCode,
      generationId: result.generationId,
      protocolType: result.protocolType,
      protocolName: result.protocolName ?? '',
      leader: result.leader,
      skipAssignment: false,
      memberId: result.memberId,
      members: result.members,
    };
  },
};
