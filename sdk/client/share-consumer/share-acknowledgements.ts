/** KIP-932's AcknowledgeType values. */
export const AcknowledgeType = { GAP: 0, ACCEPT: 1, RELEASE: 2, REJECT: 3 } as const;
export type AcknowledgeTypeValue = (typeof AcknowledgeType)[keyof typeof AcknowledgeType];

export interface AcknowledgementBatch {
  firstOffset: bigint;
  lastOffset: bigint;
  acknowledgeTypes: number[];
}

/** Acknowledgements of one partition not yet sent. */
export interface PartitionAcknowledgements {
  topicId: string;
  partition: number;
  batches: AcknowledgementBatch[];
}

/**
 * Acknowledgements waiting for the next ShareFetch or ShareAcknowledge, by partition and offset.
 * Bounded by the records the broker handed out (each offset is acknowledged once).
 */
export class PendingAcknowledgements {
  private readonly byPartition = new Map<string, { topicId: string; partition: number; types: Map<number, AcknowledgeTypeValue> }>();
  private last: { topicId: string; partition: number; types: Map<number, AcknowledgeTypeValue> } | undefined;

  get size(): number {
    let n = 0;
    for (const p of this.byPartition.values()) n += p.types.size;
    return n;
  }

  add(topicId: string, partition: number, offset: number, type: AcknowledgeTypeValue): void {
    // Records come partition by partition: the last entry saves building a key per record.
    let entry = this.last;
    if (entry === undefined || entry.partition !== partition || entry.topicId !== topicId) {
      const key = `${topicId}:${partition}`;
      entry = this.byPartition.get(key);
      if (entry === undefined) this.byPartition.set(key, (entry = { topicId, partition, types: new Map() }));
      this.last = entry;
    }
    entry.types.set(offset, type);
  }

  /**
   * Removes and returns everything pending as KIP-932 batches: runs of consecutive offsets, with one
   * type when the whole run shares it and one type per offset otherwise.
   */
  take(): PartitionAcknowledgements[] {
    const out: PartitionAcknowledgements[] = [];
    for (const { topicId, partition, types } of this.byPartition.values()) {
      const offsets = [...types.keys()].sort((a, b) => a - b);
      const batches: AcknowledgementBatch[] = [];
      let run: { first: number; types: number[] } | undefined;
      const flush = (): void => {
        if (run === undefined) return;
        const uniform = run.types.every((t) => t === run!.types[0]);
        batches.push({ firstOffset: BigInt(run.first), lastOffset: BigInt(run.first + run.types.length - 1), acknowledgeTypes: uniform ? [run.types[0]!] : run.types });
      };
      for (const offset of offsets) {
        if (run !== undefined && run.first + run.types.length === offset) run.types.push(types.get(offset)!);
        else {
          flush();
          run = { first: offset, types: [types.get(offset)!] };
        }
      }
      flush();
      out.push({ topicId, partition, batches });
    }
    this.byPartition.clear();
    this.last = undefined;
    return out;
  }
}
