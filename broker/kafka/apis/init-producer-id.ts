import { ApiKey } from '../../../sdk/protocol/mod.ts';
import type { ApiHandler } from '../api-handler.ts';
import { fencedFor } from './producer-fenced.ts';

/**
 * InitProducerId v0-v5: a new producer id for an idempotent producer, or for a transactional id a
 * new id or the next epoch, fencing the previous producer and aborting its open transaction.
 * v3+ carry the producer's current id and epoch (KIP-360); v5 only adds an error code we never send.
 */
export const initProducerIdHandler: ApiHandler<typeof ApiKey.InitProducerId> = {
  apiKey: ApiKey.InitProducerId,
  minVersion: 0,
  maxVersion: 5,
  async handle(request, { broker, apiVersion }) {
    const result = await broker.transactions.initProducerId(
      request.transactionalId,
      request.transactionTimeoutMs,
      Number(request.producerId),
      request.producerEpoch,
    );
    return {
      throttleTimeMs: 0,
      errorCode: fencedFor(result.errorCode, apiVersion, 4),
      producerId: BigInt(result.producerId),
      producerEpoch: result.producerEpoch,
    };
  },
};
