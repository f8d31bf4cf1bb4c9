import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestAccess } from '../auth/request-access.ts';
import { HttpProblem } from './problem.ts';

export const Operation = { read: 'read', write: 'write', admin: 'admin' } as const;
export type OperationValue = (typeof Operation)[keyof typeof Operation];

/**
 * The HTTP config file's `tokens` section (JSON):
 *
 *   { "tokens": [
 *       { "name": "ingest", "token": "s3cret", "acls": [{ "topics": "orders", "operations": ["write"] }] },
 *       { "name": "ops", "token": "0p5", "acls": [{ "topics": "*", "operations": ["read", "write", "admin"] }] } ] }
 *
 * `topics` is an exact topic name, a prefix ending in `*` (`"events.*"`) or `"*"`. A request needs
 * `read` to read or tail a topic, see its schemas and see or commit group offsets on it, `write`
 * to produce, `admin` to create, delete or reconfigure a topic, register schemas and reset group
 * offsets.
 */
export interface TokenConfig {
  name: string;
  token: string;
  acls: { topics: string; operations: OperationValue[] }[];
}

export interface Principal {
  name: string;
  acls: readonly { topics: string; operations: readonly OperationValue[] }[];
  /**
   * The broker's Kafka ACLs for this principal, when the broker authorizes (broker/auth/http-acl-bridge.ts);
   * `audit` records a refusal in the audit log.
   */
  kafkaAcls?: (operation: OperationValue, topic: string, audit: boolean) => boolean;
  /** The same principal's view of the broker's authorizer, for checks beyond topics (groups, the cluster). */
  kafkaAccess?: RequestAccess;
}

export const ANONYMOUS: Principal = { name: 'anonymous', acls: [{ topics: '*', operations: ['read', 'write', 'admin'] }] };

function fail(message: string): never {
  throw new Error(`http config: ${message}`);
}

/** Checks a parsed `tokens` section; a bad entry is an Error naming it. */
export function parseTokens(value: unknown): TokenConfig[] {
  if (!Array.isArray(value)) fail('"tokens" must be an array');
  return value.map((entry: unknown, i): TokenConfig => {
    const e = entry as Partial<TokenConfig> | null;
    if (typeof e !== 'object' || e === null) fail(`tokens[${i}] must be an object`);
    if (typeof e.name !== 'string' || e.name === '') fail(`tokens[${i}].name must be a non-empty string`);
    if (typeof e.token !== 'string' || e.token.length < 8) fail(`tokens[${i}].token must be a string of at least 8 characters`);
    if (!Array.isArray(e.acls)) fail(`tokens[${i}].acls must be an array`);
    for (const [j, acl] of e.acls.entries()) {
      if (typeof acl?.topics !== 'string' || !Array.isArray(acl.operations)) fail(`tokens[${i}].acls[${j}] needs "topics" and "operations"`);
      for (const op of acl.operations) {
        if (!Object.values(Operation).includes(op)) fail(`tokens[${i}].acls[${j}]: unknown operation "${String(op)}"`);
      }
    }
    return { name: e.name, token: e.token, acls: e.acls };
  });
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function matches(pattern: string, topic: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('*')) return topic.startsWith(pattern.slice(0, -1));
  return pattern === topic;
}

function permits(principal: Principal, operation: OperationValue, topic: string, audit: boolean): boolean {
  if (!tokenAllows(principal, operation, topic)) return false;
  return principal.kafkaAcls?.(operation, topic, audit) ?? true;
}

/** Whether the token's own `acls` allow an operation on a topic, before the broker's ACLs. */
export function tokenAllows(principal: Principal, operation: OperationValue, topic: string): boolean {
  return principal.acls.some((acl) => acl.operations.includes(operation) && matches(acl.topics, topic));
}

/** Whether a principal may perform an operation on a topic (for filtering listings: refusals are not audited). */
export function allows(principal: Principal, operation: OperationValue, topic: string): boolean {
  return permits(principal, operation, topic, false);
}

/** Checks a topic operation for a principal; a refusal is a 403. */
export function authorize(principal: Principal, operation: OperationValue, topic: string): void {
  if (!permits(principal, operation, topic, true)) {
    throw new HttpProblem('forbidden', `"${principal.name}" may not ${operation} topic "${topic}"`);
  }
}

/** Bearer-token authentication. Tokens are compared as SHA-256 digests in constant time. */
export class Authenticator {
  private readonly entries: { digest: Buffer; principal: Principal }[];

  constructor(tokens: readonly TokenConfig[]) {
    this.entries = tokens.map((t) => ({ digest: sha256(t.token), principal: { name: t.name, acls: t.acls } }));
  }

  /** The principal for an Authorization header; missing or unknown tokens are a 401. */
  authenticate(authorization: string | undefined): Principal {
    const challenge = { headers: { 'www-authenticate': 'Bearer realm="rill"' } };
    const match = authorization === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match === null) throw new HttpProblem('unauthorized', 'send an Authorization: Bearer <token> header', challenge);
    const digest = sha256(match[1]!);
    let found: Principal | undefined;
    for (const entry of this.entries) if (timingSafeEqual(entry.digest, digest)) found = entry.principal;
    if (found === undefined) throw new HttpProblem('unauthorized', 'unknown bearer token', challenge);
    return found;
  }
}
