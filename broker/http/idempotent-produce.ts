import type { CompressionName } from '../../sdk/record/compression.ts';
import type { Acks } from '../log/acks.ts';
import type { HttpContext } from './http-context.ts';
import type { IdempotentAttempt, ProduceIntent } from './idempotency-store.ts';
import { appendPrepared, prepareProduce, type PreparedProduce, type ProducedRecord } from './produce.ts';
import type { ProduceRecord } from './record-codec.ts';

/**
 * Produces a request with an Idempotency-Key so that a crash before its result is stored cannot
 * make a retry append it twice: validate and seal the batches, lease a producer id and sequences,
 * record that intent durably, then append the batches as idempotent ones. A retry whose earlier
 * attempt left an intent resends the same batches under the same producer id and sequences, and
 * the broker answers those that reached the log with their original offsets.
 *
 * Only for acks=all: a producer goes back to the pool once its batches are fsynced and the
 * result stored, so a retry's resent batches always follow durable ones in sequence.
 */
export async function produceIdempotently(
  ctx: HttpContext,
  topic: string,
  records: readonly ProduceRecord[],
  acks: typeof Acks.all,
  attempt: IdempotentAttempt,
  compression?: CompressionName,
): Promise<ProducedRecord[]> {
  const previous = attempt.previous;
  const prepared = prepareProduce(ctx, topic, records, previous, compression);
  if (previous !== undefined && sameBatches(previous, prepared)) return appendPrepared(ctx, prepared, acks, previous);

  const lease = await ctx.producers.lease(topic, prepared.batches);
  const intent: ProduceIntent = {
    producerId: lease.producerId,
    producerEpoch: lease.producerEpoch,
    sequences: lease.sequences,
    ...prepared.placement,
  };
  try {
    await attempt.record(intent);
  } catch (error) {
    lease.unused();
    throw error;
  }
  try {
    const produced = await appendPrepared(ctx, prepared, acks, intent);
    // Back to the pool only once the result is stored: until then a retry may resend these batches,
    // and the broker recognises them only while they are among the producer's last few.
    void attempt.settled.then((resultStored) => (resultStored ? lease.succeeded() : lease.retire()));
    return produced;
  } catch (error) {
    lease.retire();
    throw error;
  }
}

/** Whether a request's batches go to the partitions the intent gave sequences for, in the same order. */
function sameBatches(intent: ProduceIntent, prepared: PreparedProduce): boolean {
  return intent.sequences.length === prepared.batches.length && prepared.batches.every((b, i) => intent.sequences[i]![0] === b.partition);
}
