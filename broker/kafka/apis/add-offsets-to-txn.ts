import { ApiKey } from '../../../sdk/protocol/mod.ts';
import type { ApiHandler } from '../api-handler.ts';
import { fencedFor } from './producer-fenced.ts';

/** AddOffsetsToTxn v0-v4: joins a group's offsets to the transaction (v4 only adds an error code we never send). */
export const addOffsetsToTxnHandler: ApiHandler<typeof ApiKey.AddOffsetsToTxn> = {
  apiKey: ApiKey.AddOffsetsToTxn,
  minVersion: 0,
  maxVersion: 4,
  async handle(request, { broker, apiVersion }) {
    const errorCode = await broker.transactions.addOffsets(request.transactionalId, Number(request.producerId), request.producerEpoch, request.groupId);
    return { throttleTimeMs: 0, errorCode: fencedFor(errorCode, apiVersion, 2) };
  },
};
