import { KafkaError } from './kafka-error.ts';

/**
 * A request whose api key or version this codec does not know. The header fields that precede the
 * client id are exposed so a server can still reply, e.g. with ApiVersions error 35 in a v0 frame.
 */
export class UnsupportedApiError extends KafkaError {
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;

  constructor(apiKey: number, apiVersion: number, correlationId: number) {
    super('UNSUPPORTED_VERSION', `api key ${apiKey} version ${apiVersion} is not supported`);
    this.name = 'UnsupportedApiError';
    this.apiKey = apiKey;
    this.apiVersion = apiVersion;
    this.correlationId = correlationId;
  }
}
