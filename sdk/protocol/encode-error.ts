import { KafkaError } from './kafka-error.ts';

/**
 * A message that cannot be written in the requested version: a non-ignorable field set to a
 * non-default value that the version lacks (Kafka's UnsupportedVersionException), a null in a version
 * where the field is not nullable, a string over 32767 UTF-8 bytes, a malformed UUID, or a frame above
 * the writer's bound.
 */
export class ProtocolEncodeError extends KafkaError {
  constructor(message: string) {
    super('UNSUPPORTED_VERSION', message);
    this.name = 'ProtocolEncodeError';
  }
}
