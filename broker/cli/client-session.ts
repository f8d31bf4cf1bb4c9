import { ApiKey } from '../../sdk/protocol/mod.ts';
import { isKafkaError, KafkaError } from '../../sdk/protocol/kafka-error.ts';
import type { Transport } from '../../sdk/transport/transport.ts';
import { CliFailure } from './cli-errors.ts';
import { type ConnectionFlags, connectionTransport } from './connection-options.ts';

/**
 * Client commands fail fast: an unreachable or silent broker is one sentence after a few seconds,
 * not the SDK's long-lived-client patience (30 s requests, reconnects with backoff).
 */
export const CLI_CONNECT_TIMEOUT_MS = 5_000;
export const CLI_REQUEST_TIMEOUT_MS = 15_000;

/**
 * Opens a transport for the connection flags, checks the broker answers (ApiVersions, and SASL when
 * configured) so that an unreachable broker is one clear sentence, runs `work`, and closes the
 * transport whatever happens. Bad flags are usage errors thrown before anything connects.
 */
export async function withClient<T>(flags: ConnectionFlags, env: Readonly<Record<string, string | undefined>>, work: (transport: Transport) => Promise<T>): Promise<T> {
  const transport = connectionTransport(flags, env, 'rill-cli', { connectTimeoutMs: CLI_CONNECT_TIMEOUT_MS, requestTimeoutMs: CLI_REQUEST_TIMEOUT_MS });
  try {
    try {
      await transport.apiVersion(ApiKey.Metadata);
    } catch (error) {
      if (isKafkaError(error, 'NETWORK_EXCEPTION') || isKafkaError(error, 'REQUEST_TIMED_OUT')) {
        throw new CliFailure(`cannot reach the broker at ${flags.bootstrap} (${reason(error)}); is it running, and are --bootstrap and the TLS flags right?`);
      }
      if (isKafkaError(error, 'SASL_AUTHENTICATION_FAILED') || isKafkaError(error, 'UNSUPPORTED_SASL_MECHANISM') || isKafkaError(error, 'ILLEGAL_SASL_STATE')) {
        throw new CliFailure(`the broker at ${flags.bootstrap} refused the SASL login: ${reason(error)}`);
      }
      throw error;
    }
    return await work(transport);
  } catch (error) {
    throw error instanceof KafkaError ? kafkaFailure(error) : error;
  } finally {
    await transport.close();
  }
}

/** A KafkaError as one sentence: its message without the repeated error name, which goes last. */
function kafkaFailure(error: KafkaError): CliFailure {
  return new CliFailure(`${error.message.replaceAll(`${error.errorName}: `, '')} (${error.errorName})`, { cause: error });
}

/** A KafkaError's message without its leading error name. */
function reason(error: KafkaError): string {
  return error.message.replace(/^[A-Z_]+: /, '');
}

/** UNKNOWN_TOPIC_OR_PARTITION as the sentence a user expects; other errors unchanged. */
export function topicFailure(topic: string, error: unknown): unknown {
  if (isKafkaError(error, 'UNKNOWN_TOPIC_OR_PARTITION')) return new CliFailure(`topic "${topic}" does not exist (rill topics list shows the topics)`);
  if (isKafkaError(error, 'TOPIC_AUTHORIZATION_FAILED')) return new CliFailure(`not authorized to access topic "${topic}"`);
  return error;
}
