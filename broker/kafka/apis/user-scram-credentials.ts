import { credentialFromSaltedPassword, type ScramCredential, type ScramMechanismName, ScramMechanisms, scramMechanismByKafkaType } from '../../../sdk/auth/scram.ts';
import { ErrorCode } from '../../../sdk/protocol/error-codes.ts';
import { isKafkaError, KafkaError } from '../../../sdk/protocol/kafka-error.ts';
import { ApiKey } from '../../../sdk/protocol/mod.ts';
import { validateCredentialRequest } from '../../security/scram-credential-store.ts';
import type { ApiHandler } from '../api-handler.ts';

interface UserResult {
  user: string;
  errorCode: number;
  errorMessage: string | null;
}

/**
 * AlterUserScramCredentials (KIP-554): clients send the SaltedPassword they derived, the broker
 * keeps StoredKey and ServerKey. Each user's changes apply together or not at all; users are
 * independent, as in Kafka.
 */
export const alterUserScramCredentialsHandler: ApiHandler<typeof ApiKey.AlterUserScramCredentials> = {
  apiKey: ApiKey.AlterUserScramCredentials,
  minVersion: 0,
  maxVersion: 0,
  async handle(request, { broker }) {
    const store = broker.scramCredentials;
    const results = new Map<string, UserResult>();
    const deletions: { user: string; mechanism: ScramMechanismName }[] = [];
    const upsertions: { user: string; mechanism: ScramMechanismName; credential: ScramCredential }[] = [];
    const seen = new Set<string>();
    const fail = (user: string, error: KafkaError): void => {
      const result = results.get(user)!;
      if (result.errorCode === 0) Object.assign(result, { errorCode: error.code, errorMessage: error.message });
    };
    const all = [...request.deletions.map((d) => ({ ...d, upsert: undefined })), ...request.upsertions.map((u) => ({ name: u.name, mechanism: u.mechanism, upsert: u }))];
    for (const change of all) {
      if (!results.has(change.name)) results.set(change.name, { user: change.name, errorCode: 0, errorMessage: null });
      try {
        const mechanism = scramMechanismByKafkaType(change.mechanism);
        if (mechanism === undefined) throw new KafkaError('UNSUPPORTED_SASL_MECHANISM', `unknown SCRAM mechanism ${change.mechanism}`);
        const key = `${change.name}\n${mechanism.name}`;
        if (seen.has(key)) throw new KafkaError('DUPLICATE_RESOURCE', 'A user credential cannot be altered twice in the same request');
        seen.add(key);
        if (change.upsert === undefined) {
          if (store.get(change.name, mechanism.name) === undefined) throw new KafkaError('RESOURCE_NOT_FOUND', 'Attempt to delete a user credential that does not exist');
          deletions.push({ user: change.name, mechanism: mechanism.name });
        } else {
          const { iterations, salt, saltedPassword } = change.upsert;
          validateCredentialRequest(change.name, iterations);
          if (salt.length === 0) throw new KafkaError('UNACCEPTABLE_CREDENTIAL', 'salt must not be empty');
          if (saltedPassword.length !== mechanism.keyBytes) {
            throw new KafkaError('UNACCEPTABLE_CREDENTIAL', `saltedPassword must be ${mechanism.keyBytes} bytes for ${mechanism.name}`);
          }
          upsertions.push({ user: change.name, mechanism: mechanism.name, credential: credentialFromSaltedPassword(mechanism, saltedPassword, salt.slice(), iterations) });
        }
      } catch (error) {
        if (!isKafkaError(error)) throw error;
        fail(change.name, error);
      }
    }
    const ok = (user: string): boolean => results.get(user)!.errorCode === 0;
    await store.apply({ deletions: deletions.filter((d) => ok(d.user)), upsertions: upsertions.filter((u) => ok(u.user)) });
    return { throttleTimeMs: 0, results: [...results.values()] };
  },
};

export const describeUserScramCredentialsHandler: ApiHandler<typeof ApiKey.DescribeUserScramCredentials> = {
  apiKey: ApiKey.DescribeUserScramCredentials,
  minVersion: 0,
  maxVersion: 0,
  async handle(request, { broker }) {
    const store = broker.scramCredentials;
    const toInfo = (info: { user: string; credentials: { mechanism: ScramMechanismName; iterations: number }[] }) => ({
      user: info.user,
      errorCode: 0,
      errorMessage: null,
      credentialInfos: info.credentials.map((c) => ({ mechanism: ScramMechanisms[c.mechanism].kafkaType, iterations: c.iterations })),
    });
    if (request.users === null || request.users.length === 0) {
      return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, results: store.describe().map(toInfo) };
    }
    const counts = new Map<string, number>();
    for (const { name } of request.users) counts.set(name, (counts.get(name) ?? 0) + 1);
    const results = [...counts].map(([user, count]) => {
      if (count > 1) return { user, errorCode: ErrorCode.DUPLICATE_RESOURCE, errorMessage: `Cannot describe SCRAM credentials for the same user twice in a single request: ${user}`, credentialInfos: [] };
      const [info] = store.describe([user]);
      if (info === undefined) return { user, errorCode: ErrorCode.RESOURCE_NOT_FOUND, errorMessage: `Attempt to describe a user credential that does not exist: ${user}`, credentialInfos: [] };
      return toInfo(info);
    });
    return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, results };
  },
};
