import { decode, encode } from '@msgpack/msgpack';
import type { TxnMetadata } from './txn-metadata.ts';
import type { PendingOffset } from './txn-offset-sink.ts';
import { TxnState, type TxnStateValue } from './txn-state.ts';

const RECORD_VERSION = 0;
const STATES = new Set<string>(Object.values(TxnState));

/** The persisted part of a TxnMetadata. */
export interface TxnRecordValue {
  producerId: number;
  producerEpoch: number;
  timeoutMs: number;
  state: TxnStateValue;
  partitions: { topic: string; partition: number }[];
  /** Groups in the transaction with their pending offsets. */
  groups: { groupId: string; offsets: PendingOffset[] }[];
  txnStartMs: number;
  lastUpdateMs: number;
  lastProducerId: number;
  lastProducerEpoch: number;
}

/**
 * Record formats of `__transaction_state` (msgpack):
 *
 *   key:   [version = 0, transactionalId]
 *   value: [version = 0, producerId, producerEpoch, timeoutMs, state name,
 *           [[topic, partition], ...],
 *           [[groupId, [[topic, partition, offset, leaderEpoch, metadata], ...]], ...],
 *           txnStartMs, lastUpdateMs, lastProducerId, lastProducerEpoch]
 *   a null value (tombstone) forgets the transactional id. Values written before the last two
 *   fields existed have 9 fields and read as lastProducerId = lastProducerEpoch = -1.
 *
 * Arrays rather than maps keep each record small; the version leads so a later format can be told apart.
 */
export function encodeTxnKey(transactionalId: string): Uint8Array {
  return encode([RECORD_VERSION, transactionalId]);
}

export function decodeTxnKey(bytes: Uint8Array): string | undefined {
  const key = decode(bytes);
  return Array.isArray(key) && key[0] === RECORD_VERSION && typeof key[1] === 'string' ? key[1] : undefined;
}

export function toRecordValue(meta: TxnMetadata): TxnRecordValue {
  return {
    producerId: meta.producerId,
    producerEpoch: meta.producerEpoch,
    timeoutMs: meta.timeoutMs,
    state: meta.state,
    partitions: [...meta.partitions.values()],
    groups: [...meta.groups].map(([groupId, offsets]) => ({ groupId, offsets: [...offsets.values()] })),
    txnStartMs: meta.txnStartMs,
    lastUpdateMs: meta.lastUpdateMs,
    lastProducerId: meta.lastProducerId,
    lastProducerEpoch: meta.lastProducerEpoch,
  };
}

export function encodeTxnValue(value: TxnRecordValue): Uint8Array {
  return encode([
    RECORD_VERSION,
    value.producerId,
    value.producerEpoch,
    value.timeoutMs,
    value.state,
    value.partitions.map((p) => [p.topic, p.partition]),
    value.groups.map((g) => [g.groupId, g.offsets.map((o) => [o.topic, o.partition, o.offset, o.leaderEpoch, o.metadata])]),
    value.txnStartMs,
    value.lastUpdateMs,
    value.lastProducerId,
    value.lastProducerEpoch,
  ]);
}

function fail(reason: string): never {
  throw new Error(`invariant broken: __transaction_state holds a malformed value: ${reason}`);
}

export function decodeTxnValue(bytes: Uint8Array): TxnRecordValue {
  const v = decode(bytes);
  if (!Array.isArray(v) || v[0] !== RECORD_VERSION || (v.length !== 9 && v.length !== 11)) fail('not a version 0 array of 9 or 11 fields');
  const [, producerId, producerEpoch, timeoutMs, state, partitions, groups, txnStartMs, lastUpdateMs, lastProducerId = -1, lastProducerEpoch = -1] = v as unknown[];
  if (typeof state !== 'string' || !STATES.has(state)) fail(`unknown state ${String(state)}`);
  if (!Array.isArray(partitions) || !Array.isArray(groups)) fail('partitions or groups is not an array');
  return {
    producerId: Number(producerId),
    producerEpoch: Number(producerEpoch),
    timeoutMs: Number(timeoutMs),
    state: state as TxnStateValue,
    partitions: (partitions as [string, number][]).map(([topic, partition]) => ({ topic, partition })),
    groups: (groups as [string, [string, number, number, number, string][]][]).map(([groupId, offsets]) => ({
      groupId,
      offsets: offsets.map(([topic, partition, offset, leaderEpoch, metadata]) => ({ topic, partition, offset, leaderEpoch, metadata })),
    })),
    txnStartMs: Number(txnStartMs),
    lastUpdateMs: Number(lastUpdateMs),
    lastProducerId: Number(lastProducerId),
    lastProducerEpoch: Number(lastProducerEpoch),
  };
}
