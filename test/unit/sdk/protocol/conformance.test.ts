import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { API_SPECS, type ApiKey, ApiKey as ApiKeys, Reader, REQUEST_CODECS, RESPONSE_CODECS, Writer } from '../../../../sdk/protocol/mod.ts';
import { CASES, type ConformanceCase } from './conformance-cases.ts';
import { anyLeaves, fill, missingLeaves, presentLeaves, projectToVersion, schema } from './schema-values.ts';
import '../../../helpers/promise-with-resolvers.ts';

type Codec = { createRequest: (...args: unknown[]) => { buffer: Buffer }; parseResponse: (...args: unknown[]) => unknown };
const platformatic = (await import('@platformatic/kafka')) as unknown as Record<string, unknown> & {
  Reader: { from(buffer: Buffer): unknown };
};

const require = createRequire(import.meta.url);
const KAFKAJS_REQUESTS = join(dirname(require.resolve('kafkajs/package.json')), 'src', 'protocol', 'requests');

/** Values a library writes on its own (replica ids, sentinels), not taken from the arguments. */
const LIBRARY_CONSTANTS = ['-1', '0', '', 'false', 'true', '00000000-0000-0000-0000-000000000000'];

const camel = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);
const apiKeyOf = (api: string) => ApiKeys[api as keyof typeof ApiKeys] as ApiKey;
const supported = (api: string, v: number) => v >= API_SPECS[apiKeyOf(api)].minVersion && v <= API_SPECS[apiKeyOf(api)].maxVersion;

function kafkajsVersions(c: ConformanceCase): number[] {
  if (c.kafkajsDir === undefined) return [];
  return readdirSync(join(KAFKAJS_REQUESTS, c.kafkajsDir))
    .filter((d) => /^v\d+$/.test(d))
    .map((d) => Number(d.slice(1)))
    .filter((v) => supported(c.api, v))
    .sort((a, b) => a - b);
}

/** Versions for which platformatic exports `createRequest` or `parseResponse` (some reuse an older module's and do not re-export it). */
function platformaticVersions(c: ConformanceCase, fn: keyof Codec): number[] {
  if (c.platformaticArgs === undefined) return [];
  const prefix = `${camel(c.api)}V`;
  return Object.keys(platformatic)
    .filter((k) => k.startsWith(prefix) && /^\d+$/.test(k.slice(prefix.length)))
    .filter((k) => typeof (platformatic[k] as Partial<Codec>)[fn] === 'function')
    .map((k) => Number(k.slice(prefix.length)))
    .filter((v) => supported(c.api, v))
    .sort((a, b) => a - b);
}

/** Decodes a third-party request body with our codec, checks the values and the re-encoded bytes. */
function checkRequest(c: ConformanceCase, v: number, body: Uint8Array, args: unknown): void {
  const msg = schema(`${c.api}Request`);
  const codec = REQUEST_CODECS[apiKeyOf(c.api)] as unknown as {
    decode(r: Reader, v: number): Record<string, unknown>;
    encode(w: Writer, v: number, m: unknown): void;
  };
  const r = new Reader(body);
  const decoded = codec.decode(r, v);
  expect(r.remaining).toBe(0);
  const allowed = [...LIBRARY_CONSTANTS, ...(c.normalized ?? [])];
  expect(missingLeaves(presentLeaves(msg, msg.fields, decoded, v), anyLeaves(args), allowed)).toEqual([]);
  const w = new Writer();
  codec.encode(w, v, decoded);
  expect(Buffer.from(w.finish()).toString('hex')).toBe(Buffer.from(body).toString('hex'));
}

/** Our encoding of the case's response at version `v`, and the values that version carries. */
function ourResponse(c: ConformanceCase, v: number): { frame: Buffer; leaves: string[] } {
  const msg = schema(`${c.api}Response`);
  const value = projectToVersion(msg, msg.fields, fill(msg, msg.fields, c.response), v);
  const w = new Writer();
  (RESPONSE_CODECS[apiKeyOf(c.api)] as unknown as { encode(w: Writer, v: number, m: unknown): void }).encode(w, v, value);
  return { frame: Buffer.from(w.finish()), leaves: presentLeaves(msg, msg.fields, value, v) };
}

const kafkajsRows = CASES.flatMap((c) => kafkajsVersions(c).map((v) => [c.api, v, c] as const));
const platformaticRequestRows = CASES.flatMap((c) => platformaticVersions(c, 'createRequest').map((v) => [c.api, v, c] as const));
const platformaticResponseRows = CASES.flatMap((c) => platformaticVersions(c, 'parseResponse').map((v) => [c.api, v, c] as const));

describe('kafkajs 2.2.4', () => {
  it.each(kafkajsRows)('%s v%i request: decodes to the same values, re-encodes to the same bytes', async (_api, v, c) => {
    const build = require(join(KAFKAJS_REQUESTS, c.kafkajsDir!, `v${v}`, 'request.js')) as (args: unknown) => {
      encode(): Promise<{ buffer: Buffer }>;
    };
    const encoder = await build(c.kafkajsArgs).encode();
    checkRequest(c, v, new Uint8Array(encoder.buffer), c.kafkajsArgs);
  });

  it.each(kafkajsRows)('%s v%i response: kafkajs decodes our encoding to the same values', async (_api, v, c) => {
    const { frame, leaves } = ourResponse(c, v);
    const { decode } = require(join(KAFKAJS_REQUESTS, c.kafkajsDir!, `v${v}`, 'response.js')) as {
      decode(buffer: Buffer): Promise<unknown>;
    };
    expect(missingLeaves(leaves, anyLeaves(await decode(frame)))).toEqual([]);
  });
});

describe('@platformatic/kafka 2.12.1', () => {
  const codec = (api: string, v: number) => platformatic[`${camel(api)}V${v}`] as Codec;

  it.each(platformaticRequestRows)('%s v%i request: decodes to the same values, re-encodes to the same bytes', async (_api, v, c) => {
    const writer = codec(c.api, v).createRequest(...c.platformaticArgs!);
    checkRequest(c, v, new Uint8Array(writer.buffer), c.platformaticArgs);
  });

  it.each(platformaticResponseRows)('%s v%i response: platformatic decodes our encoding to the same values', (_api, v, c) => {
    const { frame, leaves } = ourResponse(c, v);
    let decoded: unknown;
    try {
      decoded = codec(c.api, v).parseResponse(1, apiKeyOf(c.api), v, platformatic.Reader.from(frame));
    } catch (error) {
      // platformatic throws ResponseError for non-zero error codes, carrying the parsed response.
      decoded = (error as { response?: unknown }).response;
      if (decoded === undefined) throw error;
    }
    expect(missingLeaves(leaves, anyLeaves(decoded), c.droppedByPlatformatic?.[v])).toEqual([]);
  });
});
