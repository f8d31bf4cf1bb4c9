import type { AbortedTxn } from '../transaction-index.ts';

interface OngoingAbortedTxn {
  txn: AbortedTxn;
  /** Whether the pass met any data batch of the transaction (Kafka's lastObservedBatchOffset). */
  observedData: boolean;
}

/**
 * The transaction state a cleaning pass carries from batch to batch, in offset order (Kafka's
 * CleanedTransactionMetadata): which data batches belong to aborted transactions (dropped), and
 * whether a marker may go, which it may only once no batch of its transaction is left. A marker
 * met in the same pass as some of its transaction's batches stays this pass (those batches are
 * only gone once the pass is swapped in); the next pass finds none and starts its delete horizon.
 */
export class CleanedTransactions {
  /** Ascending by firstOffset; `next` is the first not yet started. */
  private readonly aborted: AbortedTxn[];
  private next = 0;
  private readonly ongoingAborted = new Map<number, OngoingAbortedTxn>();
  private readonly ongoingCommitted = new Set<number>();
  /** Aborted transactions whose ABORT marker the pass kept: the cleaned segment's `.txnindex`. */
  readonly retainedAbortedTxns: AbortedTxn[] = [];

  /** `aborted`: every aborted transaction overlapping the offsets the pass cleans. */
  constructor(aborted: readonly AbortedTxn[]) {
    this.aborted = [...aborted].sort((a, b) => a.firstOffset - b.firstOffset);
  }

  private startAbortedUpTo(offset: number): void {
    while (this.next < this.aborted.length && this.aborted[this.next]!.firstOffset <= offset) {
      const txn = this.aborted[this.next++]!;
      this.ongoingAborted.set(txn.producerId, { txn, observedData: false });
    }
  }

  /** A data batch in offset order; returns whether it belongs to an aborted transaction (and goes). */
  onDataBatch(producerId: number, isTransactional: boolean, lastOffset: number): boolean {
    this.startAbortedUpTo(lastOffset);
    if (!isTransactional) return false;
    const aborted = this.ongoingAborted.get(producerId);
    if (aborted !== undefined) {
      aborted.observedData = true;
      return true;
    }
    this.ongoingCommitted.add(producerId);
    return false;
  }

  /**
   * A control batch in offset order; returns whether its transaction has no batch left, so the
   * marker may go once its delete horizon has passed. An empty control batch may always go.
   */
  onControlBatch(producerId: number, type: 'ABORT' | 'COMMIT' | undefined, lastOffset: number): boolean {
    this.startAbortedUpTo(lastOffset);
    if (type === 'ABORT') {
      const aborted = this.ongoingAborted.get(producerId);
      this.ongoingAborted.delete(producerId);
      if (aborted?.observedData === true) {
        this.retainedAbortedTxns.push(aborted.txn);
        return false;
      }
      return true;
    }
    if (type === 'COMMIT') return !this.ongoingCommitted.delete(producerId);
    return true;
  }
}
