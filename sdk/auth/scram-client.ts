import {
  bytesEqual,
  clientKey,
  encodeSaslName,
  fromBase64,
  hash,
  hmac,
  parseAttributes,
  randomNonce,
  saltedPassword,
  SCRAM_MIN_ITERATIONS,
  type ScramMechanism,
  toBase64,
  xor,
} from './scram.ts';

const GS2_HEADER = 'n,,';
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The client side of one SCRAM exchange: `first()`, then `final(serverFirst)`, then
 * `verify(serverFinal)`, which proves the server knew the credential too.
 */
export class ScramClient {
  private readonly clientNonce = randomNonce();
  private readonly clientFirstBare: string;
  private serverSignature: Uint8Array | undefined;

  constructor(
    private readonly mechanism: ScramMechanism,
    username: string,
    private readonly password: string,
  ) {
    this.clientFirstBare = `n=${encodeSaslName(username)},r=${this.clientNonce}`;
  }

  first(): Uint8Array {
    return utf8.encode(GS2_HEADER + this.clientFirstBare);
  }

  async final(serverFirstBytes: Uint8Array): Promise<Uint8Array> {
    const serverFirst = fromUtf8.decode(serverFirstBytes);
    const attributes = parseAttributes(serverFirst);
    const [r, s, i] = attributes ?? [];
    if (r?.key !== 'r' || s?.key !== 's' || i?.key !== 'i') throw new Error(`SCRAM: malformed server-first-message "${serverFirst}"`);
    if (!r.value.startsWith(this.clientNonce) || r.value.length === this.clientNonce.length) throw new Error('SCRAM: the server nonce does not extend ours');
    const salt = fromBase64(s.value);
    const iterations = /^\d+$/.test(i.value) ? Number(i.value) : Number.NaN;
    if (salt === undefined || !Number.isSafeInteger(iterations) || iterations < SCRAM_MIN_ITERATIONS) {
      throw new Error(`SCRAM: unacceptable salt or iteration count in "${serverFirst}"`);
    }
    const salted = await saltedPassword(this.mechanism, this.password, salt, iterations);
    const key = clientKey(this.mechanism, salted);
    const withoutProof = `c=${toBase64(utf8.encode(GS2_HEADER))},r=${r.value}`;
    const authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
    const signature = hmac(this.mechanism, hash(this.mechanism, key), authMessage);
    this.serverSignature = hmac(this.mechanism, hmac(this.mechanism, salted, 'Server Key'), authMessage);
    return utf8.encode(`${withoutProof},p=${toBase64(xor(key, signature))}`);
  }

  verify(serverFinalBytes: Uint8Array): void {
    const serverFinal = fromUtf8.decode(serverFinalBytes);
    const [v] = parseAttributes(serverFinal) ?? [];
    if (v?.key === 'e') throw new Error(`SCRAM: the server rejected the proof: ${v.value}`);
    const signature = v?.key === 'v' ? fromBase64(v.value) : undefined;
    if (signature === undefined || this.serverSignature === undefined || !bytesEqual(signature, this.serverSignature)) {
      throw new Error('SCRAM: the server signature does not verify; the server does not hold this credential');
    }
  }
}
