import type { ProducerEntry } from '../../producer-state/producer-entry.ts';

/**
 * The batches a pass must keep, at least as a header, for the producer state to be rebuilt from
 * the log alone (a lost or damaged snapshot): for each producer the partition still remembers,
 * the data batches it remembers (up to five, so a retry of any of them is still recognised as a
 * duplicate and answered with its offsets, Kafka keeps only the last), or, when it remembers none
 * (its epoch was bumped by a marker), its markers of the current epoch, which carry that epoch.
 * Taken when the pass starts: later appends only push older batches out of the producer state.
 */
export class ProducerRetention {
  private readonly producers = new Map<number, { epoch: number; baseOffsets: Set<number> }>();

  constructor(entries: Iterable<ProducerEntry>) {
    for (const entry of entries) {
      this.producers.set(entry.producerId, { epoch: entry.producerEpoch, baseOffsets: new Set(entry.batches.map((b) => b.baseOffset)) });
    }
  }

  keepsDataBatch(producerId: number, producerEpoch: number, baseOffset: number): boolean {
    const producer = this.producers.get(producerId);
    return producer !== undefined && producer.epoch === producerEpoch && producer.baseOffsets.has(baseOffset);
  }

  keepsMarker(producerId: number, producerEpoch: number): boolean {
    const producer = this.producers.get(producerId);
    return producer !== undefined && producer.epoch === producerEpoch && producer.baseOffsets.size === 0;
  }
}
