import { ErrorCode } from '../../../sdk/protocol/error-codes.ts';

/**
 * PRODUCER_FENCED (KIP-588) exists only from a given version of each transaction API; older
 * versions get INVALID_PRODUCER_EPOCH, which their clients treat the same way.
 */
export function fencedFor(errorCode: number, apiVersion: number, firstFencedVersion: number): number {
  return errorCode === ErrorCode.PRODUCER_FENCED && apiVersion < firstFencedVersion ? ErrorCode.INVALID_PRODUCER_EPOCH : errorCode;
}
