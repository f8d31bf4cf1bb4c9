import { encode } from '@msgpack/msgpack';
import { expect, it } from 'vitest';
import { decodeTxnValue, encodeTxnValue, type TxnRecordValue } from '../../../../broker/txn/txn-record.ts';

const value: TxnRecordValue = {
  producerId: 7,
  producerEpoch: 3,
  timeoutMs: 60_000,
  state: 'Ongoing',
  partitions: [{ topic: 't', partition: 1 }],
  groups: [{ groupId: 'g', offsets: [{ topic: 't', partition: 1, offset: 42, leaderEpoch: -1, metadata: '' }] }],
  txnStartMs: 1_000,
  lastUpdateMs: 2_000,
  lastProducerId: 7,
  lastProducerEpoch: 2,
};

it('round-trips every field of a __transaction_state value', () => {
  expect(decodeTxnValue(encodeTxnValue(value))).toEqual(value);
});

it('reads a value written before lastProducerId/lastProducerEpoch existed as having none', () => {
  const legacy = encode([0, 7, 3, 60_000, 'Ongoing', [['t', 1]], [['g', [['t', 1, 42, -1, '']]]], 1_000, 2_000]);
  expect(decodeTxnValue(legacy)).toEqual({ ...value, lastProducerId: -1, lastProducerEpoch: -1 });
});

it('refuses a value of another length as corrupt', () => {
  expect(() => decodeTxnValue(encode([0, 7, 3]))).toThrow(/malformed/);
});
