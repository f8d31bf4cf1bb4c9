import type { AnyApiHandler } from '../api-handler.ts';
import { addOffsetsToTxnHandler } from './add-offsets-to-txn.ts';
import { addPartitionsToTxnHandler } from './add-partitions-to-txn.ts';
import { endTxnHandler } from './end-txn.ts';
import { initProducerIdHandler } from './init-producer-id.ts';
import { txnOffsetCommitHandler } from './txn-offset-commit.ts';

/** The idempotence and transaction APIs (KIP-98). */
export const txnApiHandlers: readonly AnyApiHandler[] = [
  initProducerIdHandler,
  addPartitionsToTxnHandler,
  addOffsetsToTxnHandler,
  endTxnHandler,
  txnOffsetCommitHandler,
];
