import { ApiKey } from '../../../sdk/protocol/mod.ts';
import type { ApiHandler } from '../api-handler.ts';

/** ApiVersions answers from the dispatcher's own table, so it never advertises an API without a handler. */
export function apiVersionsHandler(
  advertised: () => { apiKey: number; minVersion: number; maxVersion: number }[],
): ApiHandler<typeof ApiKey.ApiVersions> {
  return {
    apiKey: ApiKey.ApiVersions,
    minVersion: 0,
    maxVersion: 4,
    handle: async () => ({
      errorCode: 0,
      apiKeys: advertised(),
      throttleTimeMs: 0,
      supportedFeatures: [],
      finalizedFeaturesEpoch: -1n,
      finalizedFeatures: [],
      zkMigrationReady: false,
    }),
  };
}
