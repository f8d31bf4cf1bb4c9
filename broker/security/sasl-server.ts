import { createHmac, randomBytes } from 'node:crypto';
import {
  bytesEqual,
  clientKey,
  decodeSaslName,
  fromBase64,
  hash,
  hmac,
  parseAttributes,
  randomNonce,
  saltedPassword,
  type ScramCredential,
  type ScramMechanism,
  ScramMechanisms,
  toBase64,
  xor,
} from '../../sdk/auth/scram.ts';
import type { ScramCredentialStore } from './scram-credential-store.ts';

export const SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;
export type SaslMechanismName = (typeof SASL_MECHANISMS)[number];

export function isSaslMechanismName(name: string): name is SaslMechanismName {
  return (SASL_MECHANISMS as readonly string[]).includes(name);
}

/** The client's exchange is malformed or its credentials are wrong; the message goes back to the client. */
export class SaslAuthenticationError extends Error {
  override readonly name = 'SaslAuthenticationError';
}

export type SaslStep = { done: false; challenge: Uint8Array } | { done: true; challenge: Uint8Array; user: string };

/** One authentication attempt with one mechanism: client tokens in, server tokens out. */
export interface SaslServerExchange {
  step(token: Uint8Array): Promise<SaslStep>;
}

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const EMPTY = new Uint8Array(0);
/** Kafka's PLAIN and SCRAM servers cap the username and password at this many characters too. */
const MAX_FIELD_CHARS = 255;
const MAX_TOKEN_BYTES = 4096;

function text(token: Uint8Array): string {
  if (token.length > MAX_TOKEN_BYTES) throw new SaslAuthenticationError(`SASL token of ${token.length} bytes is too large`);
  try {
    return strictUtf8.decode(token);
  } catch {
    throw new SaslAuthenticationError('SASL token is not UTF-8');
  }
}

function invalidCredentials(mechanism: string): SaslAuthenticationError {
  return new SaslAuthenticationError(`Authentication failed during authentication due to invalid credentials with SASL mechanism ${mechanism}`);
}

/**
 * PLAIN (RFC 4616): `[authzid] NUL authcid NUL passwd` in one token. The password is checked by
 * deriving the SaltedPassword of the user's stored SCRAM credential and comparing StoredKeys, so
 * one credential per user serves every mechanism and no password hash of another kind is stored.
 */
class PlainServer implements SaslServerExchange {
  private used = false;

  constructor(private readonly store: ScramCredentialStore) {}

  async step(token: Uint8Array): Promise<SaslStep> {
    if (this.used) throw new SaslAuthenticationError('PLAIN takes exactly one token');
    this.used = true;
    const parts = text(token).split('\u0000');
    if (parts.length !== 3) throw new SaslAuthenticationError('Invalid SASL/PLAIN response: expected 3 tokens');
    const [authzid, user, password] = parts as [string, string, string];
    if (user.length === 0) throw new SaslAuthenticationError('Authentication failed: username not specified');
    if (password.length === 0) throw new SaslAuthenticationError('Authentication failed: password not specified');
    if (user.length > MAX_FIELD_CHARS || password.length > MAX_FIELD_CHARS) throw invalidCredentials('PLAIN');
    if (authzid !== '' && authzid !== user) throw new SaslAuthenticationError('Authentication failed: Client requested an authorization id that is different from username');
    const stored = this.store.credentialsOf(user)[0];
    if (stored === undefined) throw invalidCredentials('PLAIN');
    const m = ScramMechanisms[stored.mechanism];
    const salted = await saltedPassword(m, password, stored.credential.salt, stored.credential.iterations);
    if (!bytesEqual(hash(m, clientKey(m, salted)), stored.credential.storedKey)) throw invalidCredentials('PLAIN');
    return { done: true, challenge: EMPTY, user };
  }
}

/**
 * The server side of SCRAM (RFC 5802 §5): client-first → server-first, client-final →
 * server-final. An unknown user gets a made-up but stable salt and fails only at the proof, so the
 * exchange does not tell which usernames exist.
 */
class ScramServer implements SaslServerExchange {
  private stage: 'first' | 'final' | 'done' = 'first';
  private user = '';
  private credential: ScramCredential | undefined;
  private nonce = '';
  private gs2Header = '';
  private clientFirstBare = '';
  private serverFirst = '';

  constructor(
    private readonly mechanism: ScramMechanism,
    private readonly store: ScramCredentialStore,
    private readonly fakeSaltKey: Uint8Array,
  ) {}

  async step(token: Uint8Array): Promise<SaslStep> {
    if (this.stage === 'first') return this.first(text(token));
    if (this.stage === 'final') return this.final(text(token));
    throw new SaslAuthenticationError('SCRAM exchange already complete');
  }

  private first(message: string): SaslStep {
    const match = /^([ny]),(a=[^,]*)?,(.*)$/s.exec(message);
    if (match === null) throw new SaslAuthenticationError('Invalid SCRAM client first message: bad GS2 header (channel binding is not supported)');
    const [, , authzid, bare] = match as unknown as [string, string, string | undefined, string];
    const attributes = parseAttributes(bare);
    const [n, r, ...extensions] = attributes ?? [];
    if (n?.key !== 'n' || r?.key !== 'r' || extensions.length > 0) {
      throw new SaslAuthenticationError('Invalid SCRAM client first message: expected n=<user>,r=<nonce> (extensions are not supported)');
    }
    const user = decodeSaslName(n.value);
    if (user === undefined || user.length === 0 || user.length > MAX_FIELD_CHARS) throw new SaslAuthenticationError('Invalid SCRAM client first message: bad username');
    if (authzid !== undefined && decodeSaslName(authzid.slice(2)) !== user) {
      throw new SaslAuthenticationError('Authentication failed: Client requested an authorization id that is different from username');
    }
    if (!/^[\x21-\x2b\x2d-\x7e]{1,255}$/.test(r.value)) throw new SaslAuthenticationError('Invalid SCRAM client first message: bad nonce');
    this.user = user;
    this.credential = this.store.get(user, this.mechanism.name);
    const salt = this.credential?.salt ?? new Uint8Array(createHmac('sha256', this.fakeSaltKey).update(user).digest());
    const iterations = this.credential?.iterations ?? 8192;
    this.gs2Header = message.slice(0, message.length - bare.length);
    this.clientFirstBare = bare;
    this.nonce = r.value + randomNonce();
    this.serverFirst = `r=${this.nonce},s=${toBase64(salt)},i=${iterations}`;
    this.stage = 'final';
    return { done: false, challenge: utf8.encode(this.serverFirst) };
  }

  private final(message: string): SaslStep {
    this.stage = 'done';
    const attributes = parseAttributes(message);
    const [c, r, p, ...rest] = attributes ?? [];
    if (c?.key !== 'c' || r?.key !== 'r' || p?.key !== 'p' || rest.length > 0) {
      throw new SaslAuthenticationError('Invalid SCRAM client final message: expected c=,r=,p=');
    }
    if (c.value !== toBase64(utf8.encode(this.gs2Header))) throw new SaslAuthenticationError('Invalid SCRAM client final message: channel binding does not match');
    // Kafka checks that the nonce ends with the server's, not that it equals it: librdkafka sends
    // its own nonce again in front of the server's (which already begins with it).
    if (!r.value.endsWith(this.nonce)) throw new SaslAuthenticationError('Invalid SCRAM client final message: nonce does not match');
    const proof = fromBase64(p.value);
    const credential = this.credential;
    if (proof === undefined || proof.length !== this.mechanism.keyBytes || credential === undefined) throw invalidCredentials(this.mechanism.name);
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${message.slice(0, message.lastIndexOf(',p='))}`;
    const signature = hmac(this.mechanism, credential.storedKey, authMessage);
    if (!bytesEqual(hash(this.mechanism, xor(proof, signature)), credential.storedKey)) throw invalidCredentials(this.mechanism.name);
    const serverSignature = hmac(this.mechanism, credential.serverKey, authMessage);
    return { done: true, challenge: utf8.encode(`v=${toBase64(serverSignature)}`), user: this.user };
  }
}

/** Starts server exchanges over one credential store; the secret behind unknown users' salts lives as long as the process. */
export class SaslServerFactory {
  private readonly fakeSaltKey = new Uint8Array(randomBytes(32));

  constructor(private readonly store: ScramCredentialStore) {}

  create(mechanism: SaslMechanismName): SaslServerExchange {
    return mechanism === 'PLAIN' ? new PlainServer(this.store) : new ScramServer(ScramMechanisms[mechanism], this.store, this.fakeSaltKey);
  }
}
