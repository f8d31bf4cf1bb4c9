import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeFileSystem } from '../../../../broker/log/file-system.ts';
import { AuthFailureLimiter } from '../../../../broker/security/auth-failure-limiter.ts';
import { subjectToRfc2253 } from '../../../../broker/security/kafka-principal.ts';
import { SaslAuthenticationError, SaslServerFactory } from '../../../../broker/security/sasl-server.ts';
import { ScramCredentialStore } from '../../../../broker/security/scram-credential-store.ts';
import { ScramClient } from '../../../../sdk/auth/scram-client.ts';
import { type ScramMechanismName, ScramMechanisms } from '../../../../sdk/auth/scram.ts';

let dir: string;
let store: ScramCredentialStore;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rill-scram-'));
  store = await ScramCredentialStore.open(nodeFileSystem, dir);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A whole SCRAM exchange between the SDK's client and the broker's server; the authenticated user, or the server's refusal. */
async function exchange(mechanism: ScramMechanismName, user: string, password: string): Promise<string> {
  const server = new SaslServerFactory(store).create(mechanism);
  const client = new ScramClient(ScramMechanisms[mechanism], user, password);
  try {
    const first = await server.step(client.first());
    const final = await server.step(await client.final(first.challenge));
    if (!final.done) throw new Error('SCRAM did not finish after client-final');
    client.verify(final.challenge);
    return final.user;
  } catch (error) {
    if (error instanceof SaslAuthenticationError) return `refused: ${error.message}`;
    throw error;
  }
}

describe('SCRAM between the SDK client and the broker server', () => {
  it('authenticates any username (commas, equals signs, non-ASCII) with its password, and never with another', async () => {
    const name = fc.string({ minLength: 1, maxLength: 20, unit: fc.constantFrom('a', 'b', ',', '=', 'é', '名', ' ', '3', 'D', '2', 'C') });
    await fc.assert(
      fc.asyncProperty(name, fc.string({ minLength: 1, maxLength: 20 }), fc.string({ minLength: 1, maxLength: 20 }), fc.constantFrom<ScramMechanismName>('SCRAM-SHA-256', 'SCRAM-SHA-512'), async (user, password, other, mechanism) => {
        await store.setPassword(user, mechanism, password, 4096);
        expect(await exchange(mechanism, user, password)).toBe(user);
        if (other !== password) expect(await exchange(mechanism, user, other)).toMatch(/^refused: .*invalid credentials/);
      }),
      { numRuns: 15 },
    );
  });
});

describe('AuthFailureLimiter', () => {
  it('refuses an address past its failures until the window ends, and keeps at most maxAddresses windows', () => {
    let now = 0;
    const limiter = new AuthFailureLimiter({ maxFailures: 2, windowMs: 1_000, maxAddresses: 3 }, () => now);
    limiter.recordFailure('10.0.0.1');
    expect(limiter.allows('10.0.0.1')).toBe(true);
    limiter.recordFailure('10.0.0.1');
    expect(limiter.allows('10.0.0.1')).toBe(false);
    expect(limiter.allows('10.0.0.2')).toBe(true);
    now = 999;
    expect(limiter.allows('10.0.0.1')).toBe(false);
    now = 1_000;
    expect(limiter.allows('10.0.0.1')).toBe(true);
    for (const address of ['a', 'b', 'c', 'd', 'e']) limiter.recordFailure(address);
    expect(limiter.trackedAddresses).toBe(3);
  });
});

describe('certificate subjects as principals', () => {
  it('writes the subject last RDN first with RFC 2253 escaping, as Java X500Principal.getName() does', () => {
    expect(subjectToRfc2253('C=DE\nO=acme, Inc.\nOU=eng\nCN=alice')).toBe('CN=alice,OU=eng,O=acme\\, Inc.,C=DE');
    expect(subjectToRfc2253('CN=#x+y;z')).toBe('CN=\\#x\\+y\\;z');
  });
});
