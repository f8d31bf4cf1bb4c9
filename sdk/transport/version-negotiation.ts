import { ApiKey } from '../protocol/mod.ts';
import { KafkaError } from '../protocol/kafka-error.ts';
import { CLIENT_API_VERSIONS } from './client-versions.ts';
import type { VersionRange } from './transport.ts';

const API_NAMES = new Map<number, string>(Object.entries(ApiKey).map(([name, key]) => [key, name]));

/** What one broker advertised in ApiVersions, intersected with what we speak. */
export class NegotiatedVersions {
  private readonly ranges = new Map<number, VersionRange>();

  constructor(advertised: readonly { apiKey: number; minVersion: number; maxVersion: number }[]) {
    for (const a of advertised) this.ranges.set(a.apiKey, { minVersion: a.minVersion, maxVersion: a.maxVersion });
  }

  supports(apiKey: ApiKey): boolean {
    const ours = CLIENT_API_VERSIONS[apiKey];
    const theirs = this.ranges.get(apiKey);
    return ours !== undefined && theirs !== undefined && ours.maxVersion >= theirs.minVersion && theirs.maxVersion >= ours.minVersion;
  }

  /** min(our max, broker max), checked against both minimums. */
  version(apiKey: ApiKey): number {
    const name = API_NAMES.get(apiKey) ?? String(apiKey);
    const ours = CLIENT_API_VERSIONS[apiKey];
    if (ours === undefined) throw new Error(`invariant: the client sends ${name} but declares no versions for it`);
    const theirs = this.ranges.get(apiKey);
    if (theirs === undefined) {
      throw new KafkaError('UNSUPPORTED_VERSION', `the broker does not support ${name} (api key ${apiKey})`);
    }
    const version = Math.min(ours.maxVersion, theirs.maxVersion);
    if (version < ours.minVersion || version < theirs.minVersion) {
      throw new KafkaError(
        'UNSUPPORTED_VERSION',
        `${name}: the broker supports versions ${theirs.minVersion}-${theirs.maxVersion}, this client ${ours.minVersion}-${ours.maxVersion}`,
      );
    }
    return version;
  }
}
