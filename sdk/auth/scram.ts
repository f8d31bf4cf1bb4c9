import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * SCRAM (RFC 5802, RFC 7677) pieces shared by the broker (server) and the SDK (client). Kafka's
 * SCRAM uses no channel binding, no SASLprep (the password's UTF-8 bytes as given) and the
 * `tokenauth` extension for delegation tokens, which Rill does not serve.
 */
export const ScramMechanisms = {
  'SCRAM-SHA-256': { name: 'SCRAM-SHA-256', digest: 'sha256', keyBytes: 32, kafkaType: 1 },
  'SCRAM-SHA-512': { name: 'SCRAM-SHA-512', digest: 'sha512', keyBytes: 64, kafkaType: 2 },
} as const;

export type ScramMechanismName = keyof typeof ScramMechanisms;
export type ScramMechanism = (typeof ScramMechanisms)[ScramMechanismName];

export function isScramMechanismName(name: string): name is ScramMechanismName {
  return Object.hasOwn(ScramMechanisms, name);
}

/** The mechanism AlterUserScramCredentials and DescribeUserScramCredentials number 1 and 2. */
export function scramMechanismByKafkaType(type: number): ScramMechanism | undefined {
  return Object.values(ScramMechanisms).find((m) => m.kafkaType === type);
}

/** Kafka's bounds on a SCRAM credential's iteration count (ScramMechanism.minIterations / maxIterations). */
export const SCRAM_MIN_ITERATIONS = 4096;
export const SCRAM_MAX_ITERATIONS = 16_384;

/** What a server keeps of a password: enough to verify a proof and sign, not to recover it. */
export interface ScramCredential {
  salt: Uint8Array;
  iterations: number;
  storedKey: Uint8Array;
  serverKey: Uint8Array;
}

const utf8 = new TextEncoder();

export function hmac(mechanism: ScramMechanism, key: Uint8Array, data: Uint8Array | string): Uint8Array {
  return new Uint8Array(createHmac(mechanism.digest, key).update(data).digest());
}

export function hash(mechanism: ScramMechanism, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash(mechanism.digest).update(data).digest());
}

export function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length !== b.length) throw new Error('invariant: xor of unequal lengths');
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/** Compares in time independent of where the bytes differ. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Hi(password, salt, i): PBKDF2 with the mechanism's HMAC, the "SaltedPassword". */
export function saltedPassword(mechanism: ScramMechanism, password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    pbkdf2(utf8.encode(password), salt, iterations, mechanism.keyBytes, mechanism.digest, (error, key) => {
      if (error !== null) reject(error);
      else resolve(new Uint8Array(key));
    });
  });
}

export function clientKey(mechanism: ScramMechanism, salted: Uint8Array): Uint8Array {
  return hmac(mechanism, salted, 'Client Key');
}

/** StoredKey and ServerKey from a SaltedPassword (what AlterUserScramCredentials carries). */
export function credentialFromSaltedPassword(mechanism: ScramMechanism, salted: Uint8Array, salt: Uint8Array, iterations: number): ScramCredential {
  return {
    salt,
    iterations,
    storedKey: hash(mechanism, clientKey(mechanism, salted)),
    serverKey: hmac(mechanism, salted, 'Server Key'),
  };
}

export function randomSalt(): Uint8Array {
  return new Uint8Array(randomBytes(32));
}

/** A nonce of printable characters without ',' (RFC 5802 §5.1). */
export function randomNonce(): string {
  return randomBytes(24).toString('base64');
}

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Strict base64: undefined for anything `Buffer` would silently repair or truncate. */
export function fromBase64(text: string): Uint8Array | undefined {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) return undefined;
  return new Uint8Array(Buffer.from(text, 'base64'));
}

/** saslname (RFC 5802 §5.1): ',' and '=' are escaped as '=2C' and '=3D'. */
export function encodeSaslName(name: string): string {
  return name.replaceAll('=', '=3D').replaceAll(',', '=2C');
}

export function decodeSaslName(text: string): string | undefined {
  if (/=(?!2C|3D)/.test(text)) return undefined;
  return text.replaceAll('=2C', ',').replaceAll('=3D', '=');
}

/**
 * A message's `k=v` attributes in order; undefined if any part is not one. Values may contain
 * '=' (base64 padding), so only the first '=' splits.
 */
export function parseAttributes(message: string): { key: string; value: string }[] | undefined {
  const out: { key: string; value: string }[] = [];
  for (const part of message.split(',')) {
    if (part.length < 2 || part[1] !== '=') return undefined;
    out.push({ key: part[0]!, value: part.slice(2) });
  }
  return out;
}
