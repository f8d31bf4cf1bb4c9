import { ApiKey } from '../../../sdk/protocol/mod.ts';
import type { ApiHandler } from '../api-handler.ts';

const UNSET_AUTHORIZED_OPERATIONS = -2147483648;

/** DescribeGroups v0-v4. */
export const describeGroupsHandler: ApiHandler<typeof ApiKey.DescribeGroups> = {
  apiKey: ApiKey.DescribeGroups,
  minVersion: 0,
  maxVersion: 4,
  async handle(request, { broker }) {
    return {
      throttleTimeMs: 0,
      groups: broker.groups.describeGroups(request.groups).map((g) => ({ ...g, authorizedOperations: UNSET_AUTHORIZED_OPERATIONS })),
    };
  },
};
