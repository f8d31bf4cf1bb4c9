import { ApiKey } from '../../../sdk/protocol/mod.ts';
import { ResourceType } from '../../auth/acl.ts';
import { AUTHORIZED_OPERATIONS_NOT_REQUESTED, authorizedOperations } from '../../auth/authorized-operations.ts';
import type { ApiHandler } from '../api-handler.ts';

/** DescribeGroups v0-v4. Authorized operations (v3+, when asked) are for a broker without an authorizer; its guard replaces them. */
export const describeGroupsHandler: ApiHandler<typeof ApiKey.DescribeGroups> = {
  apiKey: ApiKey.DescribeGroups,
  minVersion: 0,
  maxVersion: 4,
  async handle(request, { broker }) {
    return {
      throttleTimeMs: 0,
      groups: broker.groups.describeGroups(request.groups).map((g) => ({
        ...g,
        authorizedOperations: request.includeAuthorizedOperations ? authorizedOperations(undefined, ResourceType.GROUP, g.groupId) : AUTHORIZED_OPERATIONS_NOT_REQUESTED,
      })),
    };
  },
};
