import { ApiKey } from '../../../sdk/protocol/mod.ts';
import { ErrorCode } from '../../../sdk/protocol/error-codes.ts';
import type { ApiHandler } from '../api-handler.ts';
import { errorFields } from './kafka-error-fields.ts';

/**
 * DeleteRecords v0-v2 (KIP-107): each partition's log start offset moves up to the given offset
 * (-1: the high watermark); the answer carries the new low watermark once it is durable. Errors
 * are per partition: OFFSET_OUT_OF_RANGE past the high watermark, UNKNOWN_TOPIC_OR_PARTITION,
 * INVALID_TOPIC_EXCEPTION for internal topics.
 */
export const deleteRecordsHandler: ApiHandler<typeof ApiKey.DeleteRecords> = {
  apiKey: ApiKey.DeleteRecords,
  minVersion: 0,
  maxVersion: 2,
  async handle(request, { broker }) {
    const topics = await Promise.all(
      request.topics.map(async (t) => ({
        name: t.name,
        partitions: await Promise.all(
          t.partitions.map(async (p) => {
            try {
              const lowWatermark = await broker.deleteRecords(t.name, p.partitionIndex, Number(p.offset));
              return { partitionIndex: p.partitionIndex, lowWatermark: BigInt(lowWatermark), errorCode: ErrorCode.NONE };
            } catch (error) {
              return { partitionIndex: p.partitionIndex, lowWatermark: -1n, errorCode: errorFields(error).errorCode };
            }
          }),
        ),
      })),
    );
    return { throttleTimeMs: 0, topics };
  },
};
