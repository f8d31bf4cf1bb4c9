import type { PendingOffset } from './txn-offset-sink.ts';
import type { TxnStateValue } from './txn-state.ts';

/** One transactional id's coordinator state (Kafka's TransactionMetadata). */
export interface TxnMetadata {
  transactionalId: string;
  producerId: number;
  producerEpoch: number;
  timeoutMs: number;
  state: TxnStateValue;
  /** Partitions in the open (or completing) transaction, keyed `topic\u0000partition`. */
  partitions: Map<string, { topic: string; partition: number }>;
  /** Groups added with AddOffsetsToTxn, with the offsets TxnOffsetCommit sent for them. */
  groups: Map<string, Map<string, PendingOffset>>;
  /** When the open transaction began (its first AddPartitions/AddOffsets), -1 when none. */
  txnStartMs: number;
  lastUpdateMs: number;
  /** A change of this id is being persisted or its markers written; other requests get CONCURRENT_TRANSACTIONS. */
  busy: boolean;
  /**
   * Producer id and epoch before the last InitProducerId bump, -1 when none: a producer whose
   * InitProducerId answer was lost retries with them and gets the current ones (KIP-360).
   */
  lastProducerId: number;
  lastProducerEpoch: number;
}

export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export function newTxnMetadata(transactionalId: string, producerId: number, timeoutMs: number, nowMs: number): TxnMetadata {
  return {
    transactionalId,
    producerId,
    producerEpoch: 0,
    timeoutMs,
    state: 'Empty',
    partitions: new Map(),
    groups: new Map(),
    txnStartMs: -1,
    lastUpdateMs: nowMs,
    busy: false,
    lastProducerId: -1,
    lastProducerEpoch: -1,
  };
}
