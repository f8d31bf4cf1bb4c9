import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as protocol from '../../../../sdk/protocol/mod.ts';
import { type ApiKey, decodeRequest, encodeRequest, Reader, REQUEST_CODECS, RESPONSE_CODECS, Writer } from '../../../../sdk/protocol/mod.ts';
import { arbitraryStruct, SCHEMAS, type SchemaMessage, versionList } from './schema-values.ts';

type Encode = (w: Writer, v: number, m: unknown) => void;
type Decode = (r: Reader, v: number) => unknown;

function codecOf(msg: SchemaMessage): { encode: Encode; decode: Decode } {
  if (msg.apiKey !== null && msg.kind !== 'data') {
    const table = msg.kind === 'request' ? REQUEST_CODECS : RESPONSE_CODECS;
    return table[msg.apiKey as ApiKey] as unknown as { encode: Encode; decode: Decode };
  }
  const exports = protocol as unknown as Record<string, unknown>;
  return { encode: exports[`encode${msg.name}`] as Encode, decode: exports[`decode${msg.name}`] as Decode };
}

function encode(codec: { encode: Encode }, v: number, value: unknown): Uint8Array {
  const w = new Writer(16);
  codec.encode(w, v, value);
  return w.finish().slice();
}

describe('every generated message round-trips random valid values in every version', () => {
  const messages = SCHEMAS.filter((m) => m.kind !== 'header');
  it('covers all 88 APIs (requests and responses) and the consumer-protocol data schemas', () => {
    expect(messages.filter((m) => m.kind === 'request')).toHaveLength(88);
    expect(messages.filter((m) => m.kind === 'response')).toHaveLength(88);
    expect(messages.filter((m) => m.kind === 'data').map((m) => m.name).sort()).toEqual([
      'ConsumerProtocolAssignment',
      'ConsumerProtocolSubscription',
    ]);
  });

  it.each(messages.map((m) => [m.name, m] as const))('%s: encode → decode → encode is byte-identical', (_name, msg) => {
    const codec = codecOf(msg);
    for (const v of versionList(msg.validVersions)) {
      fc.assert(
        fc.property(arbitraryStruct(msg, msg.fields, v), (value) => {
          const bytes = encode(codec, v, value);
          const r = new Reader(bytes);
          const decoded = codec.decode(r, v);
          expect(r.remaining).toBe(0);
          expect(decoded).toEqual(value);
          expect(encode(codec, v, decoded)).toEqual(bytes);
        }),
        { numRuns: 25 },
      );
    }
  });
});

describe('full request frames round-trip through encodeRequest/decodeRequest', () => {
  const requests = SCHEMAS.filter((m) => m.kind === 'request');
  it.each(requests.map((m) => [m.name, m] as const))('%s', (_name, msg) => {
    const apiKey = msg.apiKey as ApiKey;
    for (const v of versionList(msg.validVersions)) {
      fc.assert(
        fc.property(
          arbitraryStruct(msg, msg.fields, v),
          fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
          fc.option(fc.string({ maxLength: 10 }), { nil: null }),
          (body, correlationId, clientId) => {
            const frame = encodeRequest(apiKey, v, { correlationId, clientId }, body as never);
            const decoded = decodeRequest(frame);
            expect(decoded.apiKey).toBe(apiKey);
            expect(decoded.apiVersion).toBe(v);
            expect(decoded.header).toEqual({
              requestApiKey: apiKey,
              requestApiVersion: v,
              correlationId,
              clientId: apiKey === 7 && v === 0 ? null : clientId,
            });
            expect(decoded.body).toEqual(body);
          },
        ),
        { numRuns: 10 },
      );
    }
  });
});
