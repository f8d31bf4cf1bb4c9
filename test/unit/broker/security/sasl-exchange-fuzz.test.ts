import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnyApiHandler, RequestContext } from '../../../../broker/kafka/api-handler.ts';
import type { ConnectionInfo } from '../../../../broker/kafka/kafka-connection.ts';
import { nodeFileSystem } from '../../../../broker/log/file-system.ts';
import { ANONYMOUS } from '../../../../broker/security/kafka-principal.ts';
import { SaslAuthentication } from '../../../../broker/security/sasl-authentication.ts';
import { ScramCredentialStore } from '../../../../broker/security/scram-credential-store.ts';
import { ScramClient } from '../../../../sdk/auth/scram-client.ts';
import { ScramMechanisms } from '../../../../sdk/auth/scram.ts';
import { ApiKey } from '../../../../sdk/protocol/mod.ts';

const utf8 = new TextEncoder();
let dir: string;
let store: ScramCredentialStore;
/** Client messages of a genuine SCRAM-SHA-256 exchange that succeeded earlier: replay material. */
let recorded: { first: Uint8Array; final: Uint8Array };

interface Probe {
  connection: ConnectionInfo & { closeRequested: boolean };
  sasl: SaslAuthentication;
  handshake: AnyApiHandler;
  authenticate: AnyApiHandler;
  served: number;
  gate: (apiKey: number) => Promise<unknown>;
}

function probe(nowMs: () => number = Date.now, connectionsMaxReauthMs = 0): Probe {
  const sasl = new SaslAuthentication(store, { mechanisms: ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'], connectionsMaxReauthMs, failureLimits: { maxFailures: 1_000_000, windowMs: 1, maxAddresses: 4 } }, nowMs);
  const [handshake, authenticate] = sasl.handlers() as [AnyApiHandler, AnyApiHandler];
  const connection = {
    id: 1,
    remoteAddress: '10.0.0.1:5555',
    closed: new AbortController().signal,
    principal: ANONYMOUS,
    closeRequested: false,
    closeAfterResponses() {
      this.closeRequested = true;
    },
  };
  const p: Probe = { connection, sasl, handshake, authenticate, served: 0, gate: async () => undefined };
  const gated = sasl.gate(async () => {
    p.served++;
    return [];
  });
  p.gate = (apiKey) => gated(new Uint8Array([apiKey >> 8, apiKey & 0xff, 0, 0, 0, 0, 0, 1]), connection);
  return p;
}

function context(connection: ConnectionInfo, apiVersion: number): RequestContext {
  return { broker: undefined as never, apiVersion, header: { correlationId: 1, clientId: 'fuzz' } as never, connection, advertised: { nodeId: 0, host: 'x', port: 1 }, clusterId: 'c' };
}

async function handshake(p: Probe, mechanism: string, version = 1) {
  return (p.handshake.handle as (b: object, c: RequestContext) => Promise<{ errorCode: number }>)({ mechanism }, context(p.connection, version));
}

async function authenticate(p: Probe, authBytes: Uint8Array, version = 2) {
  return (p.authenticate.handle as (b: object, c: RequestContext) => Promise<{ errorCode: number; authBytes: Uint8Array }>)({ authBytes }, context(p.connection, version));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rill-sasl-fuzz-'));
  store = await ScramCredentialStore.open(nodeFileSystem, dir);
  await store.setPassword('alice', 'SCRAM-SHA-256', 'alice-secret', 4096);
  await store.setPassword('alice', 'SCRAM-SHA-512', 'alice-secret', 4096);
  const p = probe();
  await handshake(p, 'SCRAM-SHA-256');
  const client = new ScramClient(ScramMechanisms['SCRAM-SHA-256'], 'alice', 'alice-secret');
  const first = client.first();
  const serverFirst = await authenticate(p, first);
  const final = await client.final(serverFirst.authBytes);
  const serverFinal = await authenticate(p, final);
  expect(serverFinal.errorCode).toBe(0);
  client.verify(serverFinal.authBytes);
  expect(p.connection.principal).toEqual({ type: 'User', name: 'alice' });
  recorded = { first, final };
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Bytes near the genuine messages: truncated, with a byte changed, spliced, or arbitrary. */
const token = (): fc.Arbitrary<Uint8Array> =>
  fc.oneof(
    fc.uint8Array({ maxLength: 64 }),
    fc.constantFrom('first', 'final').chain((which) => {
      const base = recorded[which as 'first' | 'final'];
      return fc.oneof(
        fc.constant(base),
        fc.nat(base.length).map((n) => base.subarray(0, n)),
        fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
          const copy = base.slice();
          copy[i] = copy[i]! ^ x;
          return copy;
        }),
        fc.tuple(fc.nat(base.length), fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([i, extra]) => new Uint8Array([...base.subarray(0, i), ...extra, ...base.subarray(i)])),
      );
    }),
    fc.constantFrom('n,,n=alice,r=', 'n,,n=alice,r=x,e=1', 'p=tls-unique,,n=alice,r=abc', 'c=biws,r=,p=', 'n,a=bob,n=alice,r=abc', '\u0000alice\u0000wrong', 'alice\u0000alice\u0000', '\u0000\u0000').map((s) => utf8.encode(s)),
    fc.string({ maxLength: 40 }).map((s) => utf8.encode(s)),
  );

const step = fc.oneof(
  fc.record({ kind: fc.constant('handshake' as const), mechanism: fc.constantFrom('PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'GSSAPI', '', 'scram-sha-256'), version: fc.constantFrom(0, 1) }),
  fc.record({ kind: fc.constant('authenticate' as const), token: token(), version: fc.constantFrom(0, 1, 2) }),
  fc.record({ kind: fc.constant('request' as const), apiKey: fc.constantFrom(ApiKey.Metadata, ApiKey.Produce, ApiKey.CreateTopics, ApiKey.AlterUserScramCredentials) }),
);

describe('the SASL exchange under malformed, truncated and replayed messages', () => {
  it('never throws, never authenticates and never serves another request; every refusal closes the connection', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 8 }), async (steps) => {
        const p = probe();
        for (const s of steps) {
          if (s.kind === 'handshake') {
            const response = await handshake(p, s.mechanism, s.version);
            if (response.errorCode !== 0) expect(p.connection.closeRequested).toBe(true);
          } else if (s.kind === 'authenticate') {
            const response = await authenticate(p, s.token, s.version);
            if (response.errorCode !== 0) expect(p.connection.closeRequested).toBe(true);
          } else {
            // Refused before authentication, or taken as a bare token after SaslHandshake v0 and failed: the connection is destroyed either way.
            await expect(p.gate(s.apiKey)).rejects.toThrow(/before authenticating|Invalid SASL|SCRAM|SASL token|too large|exchange/);
          }
          expect(p.connection.principal).toBe(ANONYMOUS);
        }
        expect(p.served).toBe(0);
      }),
      { numRuns: Number(process.env.RILL_SASL_FUZZ_RUNS ?? 300) },
    );
  });

  it('does not authenticate a replayed client-final message against a fresh server nonce', async () => {
    const p = probe();
    await handshake(p, 'SCRAM-SHA-256');
    expect((await authenticate(p, recorded.first)).errorCode).toBe(0);
    const replay = await authenticate(p, recorded.final);
    expect(replay.errorCode).toBe(58);
    expect(p.connection.principal).toBe(ANONYMOUS);
  });

  it('serves requests until the session lifetime passes, then closes on the next one until the client re-authenticates', async () => {
    let now = 1_000;
    const p = probe(() => now, 60_000);
    expect((await handshake(p, 'PLAIN')).errorCode).toBe(0);
    expect((await authenticate(p, utf8.encode('\u0000alice\u0000alice-secret'), 1)).errorCode).toBe(0);
    await p.gate(ApiKey.Metadata);
    now += 59_999;
    await p.gate(ApiKey.Metadata);
    now += 1;
    await expect(p.gate(ApiKey.Metadata)).rejects.toThrow(/after its SASL session expired/);
    expect(p.served).toBe(2);
  });
});
