import { ApiKey } from '../../../sdk/protocol/mod.ts';
import type { ApiHandler } from '../api-handler.ts';

/** DeleteGroups v0-v1: only groups without members (NON_EMPTY_GROUP otherwise). */
export const deleteGroupsHandler: ApiHandler<typeof ApiKey.DeleteGroups> = {
  apiKey: ApiKey.DeleteGroups,
  minVersion: 0,
  maxVersion: 1,
  async handle(request, { broker }) {
    return { throttleTimeMs: 0, results: await broker.groups.deleteGroups(request.groupsNames) };
  },
};
