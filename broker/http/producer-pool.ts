import { INT32_MAX } from '../producer-state/sequence-number.ts';
import { HttpProblem } from './problem.ts';

/** A producer id and epoch of the HTTP layer, with the next sequence per partition it has written to. */
interface PooledProducer {
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly nextSequence: Map<string, number>;
}

/** One keyed request's use of a pooled producer: its batches' base sequences, decided up front. */
export interface ProducerLease {
  readonly producerId: number;
  readonly producerEpoch: number;
  /** `[partition, baseSequence]` per batch, in the order the batches were given. */
  readonly sequences: [number, number][];
  /** The batches were appended: the producer goes back to the pool with its sequences advanced. */
  succeeded(): void;
  /** Nothing was appended: the producer goes back to the pool as it was. */
  unused(): void;
  /** Whether the batches reached the log is unknown: the producer is never used again. */
  retire(): void;
}

/**
 * Idempotent producer ids for requests with an Idempotency-Key. Each request leases a producer of
 * its own for as long as it runs, so the batches it appends are the only ones that producer writes
 * until its outcome is recorded; a retry after a crash can then resend them with the same
 * producer id and sequences, and the broker's duplicate detection answers with the original
 * offsets. Producers come back to the pool after use (so the broker tracks few), at most
 * `maxIdle` of them; the ids start fresh with every process, so sequences live only in memory.
 */
export class ProducerPool {
  private readonly idle: PooledProducer[] = [];

  constructor(
    private readonly allocate: () => Promise<{ errorCode: number; producerId: number; producerEpoch: number }>,
    private readonly maxIdle: number,
  ) {}

  async lease(topic: string, batches: readonly { partition: number; recordCount: number }[]): Promise<ProducerLease> {
    let producer = this.idle.pop();
    while (producer === undefined || batches.some((b) => (producer!.nextSequence.get(partitionKey(topic, b.partition)) ?? 0) > INT32_MAX - b.recordCount)) {
      // A producer near the end of its sequence space is dropped rather than wrapped.
      const allocated = await this.allocate();
      if (allocated.errorCode !== 0) throw new HttpProblem('unavailable', 'no producer id is available for an idempotent request now', { headers: { 'retry-after': '1' } });
      producer = { producerId: allocated.producerId, producerEpoch: allocated.producerEpoch, nextSequence: new Map() };
    }
    const leased = producer;
    const sequences = batches.map((b): [number, number] => [b.partition, leased.nextSequence.get(partitionKey(topic, b.partition)) ?? 0]);
    let settled = false;
    const settle = (back: boolean): void => {
      if (settled) throw new Error('invariant broken: a producer lease settled twice');
      settled = true;
      if (back && this.idle.length < this.maxIdle) this.idle.push(leased);
    };
    return {
      producerId: leased.producerId,
      producerEpoch: leased.producerEpoch,
      sequences,
      succeeded: () => {
        batches.forEach((b, i) => leased.nextSequence.set(partitionKey(topic, b.partition), sequences[i]![1] + b.recordCount));
        settle(true);
      },
      unused: () => settle(true),
      retire: () => settle(false),
    };
  }
}

function partitionKey(topic: string, partition: number): string {
  return `${topic}\0${partition}`;
}
