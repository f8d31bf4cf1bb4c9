import { ApiKey } from '../../../sdk/protocol/mod.ts';
import type { ApiHandler } from '../api-handler.ts';

/** Kafka's "authorized operations not requested" marker. */
const NO_AUTHORIZED_OPERATIONS = -2147483648;

/** ShareGroupDescribe v0 (KIP-932): members, their epochs, subscriptions and assignments. */
export const shareGroupDescribeHandler: ApiHandler<typeof ApiKey.ShareGroupDescribe> = {
  apiKey: ApiKey.ShareGroupDescribe,
  minVersion: 0,
  maxVersion: 0,
  async handle(request, { broker }) {
    return {
      throttleTimeMs: 0,
      groups: request.groupIds.map((groupId) => {
        const group = broker.shareGroups.describe(groupId);
        return {
          errorCode: group.errorCode,
          errorMessage: group.errorMessage,
          groupId,
          groupState: group.groupState,
          groupEpoch: group.groupEpoch,
          assignmentEpoch: group.groupEpoch,
          assignorName: 'simple',
          members: group.members.map((m) => ({
            memberId: m.memberId,
            rackId: m.rackId,
            memberEpoch: m.memberEpoch,
            clientId: m.clientId,
            clientHost: m.clientHost,
            subscribedTopicNames: m.subscribedTopicNames,
            assignment: { topicPartitions: m.assignment },
          })),
          authorizedOperations: NO_AUTHORIZED_OPERATIONS,
        };
      }),
    };
  },
};
