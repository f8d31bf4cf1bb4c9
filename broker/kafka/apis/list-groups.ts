import { ApiKey } from '../../../sdk/protocol/mod.ts';
import type { ApiHandler } from '../api-handler.ts';

/** ListGroups v0-v4 (v4: states filter). */
export const listGroupsHandler: ApiHandler<typeof ApiKey.ListGroups> = {
  apiKey: ApiKey.ListGroups,
  minVersion: 0,
  maxVersion: 4,
  async handle(request, { broker }) {
    const groups = broker.groups.listGroups(request.statesFilter).map((g) => ({ ...g, groupType: 'classic' }));
    return { throttleTimeMs: 0, errorCode: 0, groups };
  },
};
