import { join } from 'node:path';
import {
  credentialFromSaltedPassword,
  fromBase64,
  randomSalt,
  saltedPassword,
  SCRAM_MAX_ITERATIONS,
  SCRAM_MIN_ITERATIONS,
  type ScramCredential,
  type ScramMechanismName,
  ScramMechanisms,
  isScramMechanismName,
  toBase64,
} from '../../sdk/auth/scram.ts';
import { KafkaError } from '../../sdk/protocol/kafka-error.ts';
import { readFileIfExists, writeFileAtomic } from '../log/atomic-file.ts';
import type { FileSystem } from '../log/file-system.ts';
import { SerialQueue } from '../serial-queue.ts';

export const SCRAM_CREDENTIALS_FILE = 'scram-credentials.json';

/**
 * On disk (`<dataDir>/scram-credentials.json`, replaced atomically on every change):
 *
 *   { "version": 1, "users": { "alice": { "SCRAM-SHA-256": { "salt": "<base64>", "iterations": 8192,
 *     "storedKey": "<base64>", "serverKey": "<base64>" } } } }
 *
 * Only StoredKey and ServerKey are kept (RFC 5802 §3): they verify a client's proof and sign the
 * server's answer, but give neither the password nor a usable ClientKey.
 */
interface StoredFile {
  version: 1;
  users: Record<string, Partial<Record<ScramMechanismName, { salt: string; iterations: number; storedKey: string; serverKey: string }>>>;
}

export interface UserCredentialInfo {
  user: string;
  credentials: { mechanism: ScramMechanismName; iterations: number }[];
}

/** SCRAM credentials by user and mechanism, durable in the data directory. PLAIN verifies against them too. */
export class ScramCredentialStore {
  private readonly writes = new SerialQueue();

  private constructor(
    private readonly fs: FileSystem,
    private readonly path: string,
    private readonly users: Map<string, Map<ScramMechanismName, ScramCredential>>,
  ) {}

  static async open(fs: FileSystem, dataDir: string): Promise<ScramCredentialStore> {
    const path = join(dataDir, SCRAM_CREDENTIALS_FILE);
    const bytes = await readFileIfExists(fs, path);
    const users = new Map<string, Map<ScramMechanismName, ScramCredential>>();
    if (bytes !== undefined) {
      const file = JSON.parse(new TextDecoder().decode(bytes)) as StoredFile;
      if (file.version !== 1) throw new Error(`${path}: unknown version ${String(file.version)}`);
      for (const [user, byMechanism] of Object.entries(file.users)) {
        const credentials = new Map<ScramMechanismName, ScramCredential>();
        for (const [mechanism, stored] of Object.entries(byMechanism)) {
          const salt = fromBase64(stored.salt);
          const storedKey = fromBase64(stored.storedKey);
          const serverKey = fromBase64(stored.serverKey);
          if (!isScramMechanismName(mechanism) || salt === undefined || storedKey === undefined || serverKey === undefined) {
            throw new Error(`${path}: malformed credential for user "${user}" (${mechanism})`);
          }
          credentials.set(mechanism, { salt, iterations: stored.iterations, storedKey, serverKey });
        }
        users.set(user, credentials);
      }
    }
    return new ScramCredentialStore(fs, path, users);
  }

  get(user: string, mechanism: ScramMechanismName): ScramCredential | undefined {
    return this.users.get(user)?.get(mechanism);
  }

  /** Every credential `user` has, strongest mechanism first (what PLAIN verifies against). */
  credentialsOf(user: string): { mechanism: ScramMechanismName; credential: ScramCredential }[] {
    const byMechanism = this.users.get(user);
    if (byMechanism === undefined) return [];
    return [...byMechanism].map(([mechanism, credential]) => ({ mechanism, credential })).sort((a, b) => b.mechanism.localeCompare(a.mechanism));
  }

  describe(users?: readonly string[]): UserCredentialInfo[] {
    const names = users ?? [...this.users.keys()].sort();
    return names
      .filter((user) => this.users.has(user))
      .map((user) => ({
        user,
        credentials: [...this.users.get(user)!].map(([mechanism, c]) => ({ mechanism, iterations: c.iterations })).sort((a, b) => a.mechanism.localeCompare(b.mechanism)),
      }));
  }

  /** Applies deletions and upsertions (already validated) together and persists them before resolving. */
  apply(changes: { deletions: { user: string; mechanism: ScramMechanismName }[]; upsertions: { user: string; mechanism: ScramMechanismName; credential: ScramCredential }[] }): Promise<void> {
    for (const { user, mechanism } of changes.deletions) {
      const byMechanism = this.users.get(user);
      byMechanism?.delete(mechanism);
      if (byMechanism?.size === 0) this.users.delete(user);
    }
    for (const { user, mechanism, credential } of changes.upsertions) {
      let byMechanism = this.users.get(user);
      if (byMechanism === undefined) this.users.set(user, (byMechanism = new Map()));
      byMechanism.set(mechanism, credential);
    }
    const snapshot = this.serialize();
    return this.writes.run(() => writeFileAtomic(this.fs, this.path, snapshot));
  }

  /** Sets `user`'s password for `mechanism` (a fresh salt): the operator's way in before any user exists. */
  async setPassword(user: string, mechanism: ScramMechanismName, password: string, iterations = 8192): Promise<void> {
    validateCredentialRequest(user, iterations);
    const m = ScramMechanisms[mechanism];
    const salt = randomSalt();
    const credential = credentialFromSaltedPassword(m, await saltedPassword(m, password, salt, iterations), salt, iterations);
    await this.apply({ deletions: [], upsertions: [{ user, mechanism, credential }] });
  }

  private serialize(): Uint8Array {
    const file: StoredFile = { version: 1, users: {} };
    for (const [user, byMechanism] of this.users) {
      const entry: StoredFile['users'][string] = {};
      for (const [mechanism, c] of byMechanism) {
        entry[mechanism] = { salt: toBase64(c.salt), iterations: c.iterations, storedKey: toBase64(c.storedKey), serverKey: toBase64(c.serverKey) };
      }
      file.users[user] = entry;
    }
    return new TextEncoder().encode(`${JSON.stringify(file, null, 1)}\n`);
  }
}

/** Kafka's checks on an upserted credential (UNACCEPTABLE_CREDENTIAL). */
export function validateCredentialRequest(user: string, iterations: number): void {
  if (user.length === 0) throw new KafkaError('UNACCEPTABLE_CREDENTIAL', 'username must not be empty');
  if (!Number.isSafeInteger(iterations) || iterations < SCRAM_MIN_ITERATIONS || iterations > SCRAM_MAX_ITERATIONS) {
    throw new KafkaError('UNACCEPTABLE_CREDENTIAL', `iterations must be from ${SCRAM_MIN_ITERATIONS} to ${SCRAM_MAX_ITERATIONS}, got ${iterations}`);
  }
}
