import type { RecordBatchView } from '../../record/record-batch-reader.ts';
import { parseControlRecord } from '../../record/control-record.ts';

/**
 * Kafka's client-side read_committed filter over one fetch response: a transactional batch from a
 * producer with an aborted transaction starting at or before it is dropped, until that producer's
 * abort marker. The built-in broker already omits aborted data; other brokers do not.
 */
export class AbortedTransactionFilter {
  private readonly pending: { producerId: number; firstOffset: number }[];
  private readonly aborting = new Set<number>();

  constructor(aborted: readonly { producerId: bigint; firstOffset: bigint }[] | null) {
    this.pending = (aborted ?? []).map((a) => ({ producerId: Number(a.producerId), firstOffset: Number(a.firstOffset) })).sort((a, b) => a.firstOffset - b.firstOffset);
  }

  /** Whether the batch's records should be dropped; also consumes abort markers. */
  skip(batch: RecordBatchView): boolean {
    const header = batch.header;
    while (this.pending.length > 0 && this.pending[0]!.firstOffset <= batch.lastOffset) {
      this.aborting.add(this.pending.shift()!.producerId);
    }
    if (batch.isControl) {
      if (this.aborting.has(header.producerId)) {
        for (const record of batch.records()) {
          if (parseControlRecord(record).type === 'ABORT') this.aborting.delete(header.producerId);
        }
      }
      return true;
    }
    return batch.isTransactional && this.aborting.has(header.producerId);
  }
}
