import { KafkaError } from '../../sdk/protocol/kafka-error.ts';

/** Kafka's limit: a partition directory name `<topic>-<partition>` must fit in 255 bytes. */
export const TOPIC_NAME_MAX_LENGTH = 249;
const LEGAL = /^[a-zA-Z0-9._-]+$/;

/** Throws INVALID_TOPIC_EXCEPTION with the reason when `name` is not a legal Kafka topic name. */
export function validateTopicName(name: string): void {
  if (name.length === 0) throw new KafkaError('INVALID_TOPIC_EXCEPTION', 'topic name is empty');
  if (name === '.' || name === '..') {
    throw new KafkaError('INVALID_TOPIC_EXCEPTION', `topic name cannot be "${name}"`);
  }
  if (name.length > TOPIC_NAME_MAX_LENGTH) {
    throw new KafkaError(
      'INVALID_TOPIC_EXCEPTION',
      `topic name is ${name.length} characters long; the maximum is ${TOPIC_NAME_MAX_LENGTH}`,
    );
  }
  if (!LEGAL.test(name)) {
    throw new KafkaError(
      'INVALID_TOPIC_EXCEPTION',
      `topic name "${name}" contains characters other than ASCII letters, digits, '.', '_' and '-'`,
    );
  }
}

export function isInternalTopic(name: string): boolean {
  return name.startsWith('__');
}
