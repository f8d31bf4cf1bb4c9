import { ApiKey } from '../../../sdk/protocol/mod.ts';
import type { ApiHandler } from '../api-handler.ts';
import { fencedFor } from './producer-fenced.ts';

/**
 * EndTxn v0-v4: commits or aborts, answering once the markers are written. v5 (KIP-890 part 2,
 * an epoch bump per transaction) is not implemented and so not advertised.
 */
export const endTxnHandler: ApiHandler<typeof ApiKey.EndTxn> = {
  apiKey: ApiKey.EndTxn,
  minVersion: 0,
  maxVersion: 4,
  async handle(request, { broker, apiVersion }) {
    const errorCode = await broker.transactions.endTxn(request.transactionalId, Number(request.producerId), request.producerEpoch, request.committed);
    return { throttleTimeMs: 0, errorCode: fencedFor(errorCode, apiVersion, 2), producerId: -1n, producerEpoch: -1 };
  },
};
