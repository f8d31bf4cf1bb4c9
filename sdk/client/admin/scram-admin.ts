import { randomSalt, saltedPassword, type ScramMechanismName, ScramMechanisms, scramMechanismByKafkaType } from '../../auth/scram.ts';
import { ApiKey } from '../../protocol/mod.ts';
import type { Transport } from '../../transport/transport.ts';
import { throwIfError } from '../error-from-code.ts';

export interface ScramCredentialUpsert {
  user: string;
  mechanism: ScramMechanismName;
  password: string;
  /** PBKDF2 iterations, 4096 to 16384 (Kafka's bounds); default 8192. */
  iterations?: number;
}

export interface ScramCredentialDescription {
  user: string;
  credentials: { mechanism: ScramMechanismName; iterations: number }[];
}

/**
 * AlterUserScramCredentials (KIP-554): the password is salted and stretched here, so only the
 * SaltedPassword crosses the wire and the broker stores StoredKey and ServerKey.
 */
export async function alterScramCredentials(
  transport: Transport,
  changes: { upsertions?: readonly ScramCredentialUpsert[]; deletions?: readonly { user: string; mechanism: ScramMechanismName }[] },
): Promise<void> {
  const upsertions = await Promise.all(
    (changes.upsertions ?? []).map(async (u) => {
      const mechanism = ScramMechanisms[u.mechanism];
      const iterations = u.iterations ?? 8192;
      const salt = randomSalt();
      return { name: u.user, mechanism: mechanism.kafkaType, iterations, salt, saltedPassword: await saltedPassword(mechanism, u.password, salt, iterations) };
    }),
  );
  const deletions = (changes.deletions ?? []).map((d) => ({ name: d.user, mechanism: ScramMechanisms[d.mechanism].kafkaType }));
  const version = await transport.apiVersion(ApiKey.AlterUserScramCredentials);
  const response = await transport.send(ApiKey.AlterUserScramCredentials, version, { deletions, upsertions });
  for (const r of response.results) throwIfError(r.errorCode, `alter SCRAM credentials of ${r.user}`, r.errorMessage);
}

/** Which users have SCRAM credentials and with how many iterations (never the credentials themselves); all users when `users` is omitted. */
export async function describeScramCredentials(transport: Transport, users?: readonly string[]): Promise<ScramCredentialDescription[]> {
  const version = await transport.apiVersion(ApiKey.DescribeUserScramCredentials);
  const response = await transport.send(ApiKey.DescribeUserScramCredentials, version, { users: users === undefined ? null : users.map((name) => ({ name })) });
  throwIfError(response.errorCode, 'describe SCRAM credentials', response.errorMessage);
  return response.results.map((r) => {
    throwIfError(r.errorCode, `describe SCRAM credentials of ${r.user}`, r.errorMessage);
    return {
      user: r.user,
      credentials: r.credentialInfos.flatMap((c) => {
        const mechanism = scramMechanismByKafkaType(c.mechanism);
        return mechanism === undefined ? [] : [{ mechanism: mechanism.name, iterations: c.iterations }];
      }),
    };
  });
}
