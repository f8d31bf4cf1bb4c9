import { describe, expect, it } from 'vitest';
import { isKafkaError } from '../../../../sdk/protocol/kafka-error.ts';
import { ApiKey } from '../../../../sdk/protocol/mod.ts';
import { NegotiatedVersions } from '../../../../sdk/transport/version-negotiation.ts';

describe('NegotiatedVersions', () => {
  it('picks min(our max, broker max)', () => {
    const versions = new NegotiatedVersions([
      { apiKey: ApiKey.Produce, minVersion: 3, maxVersion: 11 },
      { apiKey: ApiKey.Fetch, minVersion: 4, maxVersion: 7 },
    ]);
    expect(versions.version(ApiKey.Produce)).toBe(9);
    expect(versions.version(ApiKey.Fetch)).toBe(7);
    expect(versions.supports(ApiKey.Produce)).toBe(true);
  });

  it('fails clearly when the broker lacks the API', () => {
    const versions = new NegotiatedVersions([{ apiKey: ApiKey.Produce, minVersion: 3, maxVersion: 9 }]);
    expect(versions.supports(ApiKey.InitProducerId)).toBe(false);
    expect(() => versions.version(ApiKey.InitProducerId)).toThrow(/does not support InitProducerId/);
  });

  it('fails clearly when the ranges do not overlap', () => {
    const versions = new NegotiatedVersions([{ apiKey: ApiKey.Fetch, minVersion: 0, maxVersion: 3 }]);
    let error: unknown;
    try {
      versions.version(ApiKey.Fetch);
    } catch (e) {
      error = e;
    }
    expect(isKafkaError(error, 'UNSUPPORTED_VERSION')).toBe(true);
    expect(String(error)).toMatch(/Fetch: the broker supports versions 0-3, this client 4-12/);
  });
});
