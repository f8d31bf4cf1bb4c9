import { ErrorCode } from '../../sdk/protocol/error-codes.ts';
import { isKafkaError } from '../../sdk/protocol/kafka-error.ts';

function tooLarge(errorName: string): boolean {
  return errorName === 'MESSAGE_TOO_LARGE' || errorName === 'RECORD_LIST_TOO_LARGE';
}

/**
 * The error an offset commit gets when its write to `__consumer_offsets` fails (Kafka's mapping);
 * anything but a KafkaError is a bug and is rethrown.
 */
export function offsetWriteErrorCode(error: unknown): number {
  if (!isKafkaError(error)) throw error;
  return tooLarge(error.errorName) ? ErrorCode.INVALID_COMMIT_OFFSET_SIZE : ErrorCode.COORDINATOR_NOT_AVAILABLE;
}

/** The error members get when their group's metadata cannot be written (Kafka's mapping for group writes); rethrows anything but a KafkaError. */
export function groupWriteErrorCode(error: unknown): number {
  if (!isKafkaError(error)) throw error;
  return tooLarge(error.errorName) ? ErrorCode.UNKNOWN_SERVER_ERROR : ErrorCode.COORDINATOR_NOT_AVAILABLE;
}
