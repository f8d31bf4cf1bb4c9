import { API_SPECS, type ApiKey, type ApiSpec } from './messages/api-table.ts';

export { ApiKey, API_SPECS, type ApiSpec } from './messages/api-table.ts';

const SPECS_BY_NUMBER: Readonly<Partial<Record<number, ApiSpec>>> = API_SPECS;

/** The spec of a known api key, or undefined for a key this codec was not generated for. */
export function apiSpec(apiKey: number): ApiSpec | undefined {
  return SPECS_BY_NUMBER[apiKey];
}

export function isKnownApiKey(apiKey: number): apiKey is ApiKey {
  return SPECS_BY_NUMBER[apiKey] !== undefined;
}

export function isSupportedVersion(apiKey: number, version: number): boolean {
  const spec = SPECS_BY_NUMBER[apiKey];
  return spec !== undefined && Number.isInteger(version) && version >= spec.minVersion && version <= spec.maxVersion;
}

export function isFlexibleVersion(apiKey: ApiKey, version: number): boolean {
  const from = API_SPECS[apiKey].flexibleFrom;
  return from !== null && version >= from;
}

/**
 * Request header version: 2 (tagged fields after client_id) for flexible versions, else 1. Only
 * ControlledShutdown v0 used header v0 (no client_id), as Kafka's `ApiKeys.requestHeaderVersion`.
 */
export function requestHeaderVersion(apiKey: ApiKey, version: number): 0 | 1 | 2 {
  if (apiKey === 7 && version === 0) return 0;
  return isFlexibleVersion(apiKey, version) ? 2 : 1;
}

/**
 * Response header version: 1 (a tagged-field section after correlation_id) for flexible versions,
 * else 0. ApiVersions responses always use v0 so that a client can read the reply to a version the
 * broker does not support (KIP-511).
 */
export function responseHeaderVersion(apiKey: ApiKey, version: number): 0 | 1 {
  if (apiKey === 18) return 0;
  return isFlexibleVersion(apiKey, version) ? 1 : 0;
}
