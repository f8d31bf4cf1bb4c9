import { readFileSync } from 'node:fs';
import { parseTokens } from './http-auth.ts';
import type { HttpApiOptions } from './http-options.ts';
import type { RateLimit } from './rate-limiter.ts';

/**
 * The HTTP config file named by `rill start --http-config FILE` (JSON, every field optional):
 *
 *   {
 *     "tokens": [ { "name": "ingest", "token": "s3cret-token", "acls": [{ "topics": "orders*", "operations": ["write"] }] } ],
 *     "clientLimit": { "ratePerSecond": 1000, "burst": 2000 },
 *     "topicLimit": { "ratePerSecond": 50000, "burst": 100000 },
 *     "maxBodyBytes": 8388608,
 *     "idempotencyWindowMs": 86400000
 *   }
 *
 * `tokens` turns bearer-token authentication on (see http-auth.ts for the ACL rules);
 * `clientLimit` counts requests per token (or per remote address without authentication);
 * `topicLimit` counts produced records (and read requests) per topic.
 */
export interface HttpStartOptions {
  api: Partial<HttpApiOptions>;
  allowUnauthenticated: boolean;
}

function rateLimit(value: unknown, name: string): RateLimit | undefined {
  if (value === undefined) return undefined;
  const v = value as Partial<RateLimit> | null;
  if (typeof v !== 'object' || v === null || typeof v.ratePerSecond !== 'number' || typeof v.burst !== 'number') {
    throw new Error(`http config: ${name} must be {"ratePerSecond": number, "burst": number}`);
  }
  return { ratePerSecond: v.ratePerSecond, burst: v.burst };
}

function positiveInteger(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || (value as number) < 1) throw new Error(`http config: ${name} must be a positive integer`);
  return value as number;
}

export function parseHttpConfig(text: string): Partial<HttpApiOptions> {
  const json = JSON.parse(text) as Record<string, unknown>;
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('http config: must be a JSON object');
  const known = ['tokens', 'clientLimit', 'topicLimit', 'maxBodyBytes', 'idempotencyWindowMs'];
  for (const key of Object.keys(json)) if (!known.includes(key)) throw new Error(`http config: unknown field "${key}" (known: ${known.join(', ')})`);
  const api: Partial<HttpApiOptions> = {};
  if (json['tokens'] !== undefined) api.tokens = parseTokens(json['tokens']);
  const clientLimit = rateLimit(json['clientLimit'], 'clientLimit');
  if (clientLimit !== undefined) api.clientLimit = clientLimit;
  const topicLimit = rateLimit(json['topicLimit'], 'topicLimit');
  if (topicLimit !== undefined) api.topicLimit = topicLimit;
  const maxBodyBytes = positiveInteger(json['maxBodyBytes'], 'maxBodyBytes');
  if (maxBodyBytes !== undefined) api.maxBodyBytes = maxBodyBytes;
  const windowMs = positiveInteger(json['idempotencyWindowMs'], 'idempotencyWindowMs');
  if (windowMs !== undefined) api.idempotencyWindowMs = windowMs;
  return api;
}

/** Reads `--http-config` and `--allow-unauthenticated` from `rill start`'s settings (keyed by flag name). */
export function httpStartOptions(values: Readonly<Record<string, string | boolean | undefined>>): HttpStartOptions {
  const file = values['http-config'];
  return {
    api: typeof file === 'string' ? parseHttpConfig(readFileSync(file, 'utf8')) : {},
    allowUnauthenticated: values['allow-unauthenticated'] === true,
  };
}

/** Loopback hosts, where running without authentication exposes nothing beyond this machine. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
