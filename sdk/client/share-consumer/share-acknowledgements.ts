import type { AcknowledgeTypeValue } from '../../protocol/acknowledge-type.ts';

/** A run of offsets with one type for all of them or one per offset (KIP-932's AcknowledgementBatch). */
export interface AcknowledgementBatch {
  firstOffset: number;
  lastOffset: number;
  acknowledgeTypes: number[];
}

/** Acknowledgements of one partition not yet sent. */
export interface PartitionAcknowledgements {
  topicId: string;
  partition: number;
  batches: AcknowledgementBatch[];
}

interface Pending {
  topicId: string;
  partition: number;
  /** Offsets in the order acknowledged, with their types. */
  offsets: number[];
  types: AcknowledgeTypeValue[];
  /** Whether `offsets` rose strictly so far (records are handed out, and mostly acknowledged, in offset order). */
  ascending: boolean;
}

/**
 * Acknowledgements waiting for the next ShareFetch or ShareAcknowledge, by partition, in the order
 * made. Bounded by the records the broker handed out (each offset is acknowledged once).
 */
export class PendingAcknowledgements {
  private readonly byPartition = new Map<string, Pending>();
  private last: Pending | undefined;

  get isEmpty(): boolean {
    return this.byPartition.size === 0;
  }

  add(topicId: string, partition: number, offset: number, type: AcknowledgeTypeValue): void {
    // Records come partition by partition: the last entry saves building a key per record.
    let entry = this.last;
    if (entry === undefined || entry.partition !== partition || entry.topicId !== topicId) {
      const key = `${topicId}:${partition}`;
      entry = this.byPartition.get(key);
      if (entry === undefined) this.byPartition.set(key, (entry = { topicId, partition, offsets: [], types: [], ascending: true }));
      this.last = entry;
    }
    const count = entry.offsets.length;
    if (count > 0 && entry.offsets[count - 1]! >= offset) entry.ascending = false;
    entry.offsets.push(offset);
    entry.types.push(type);
  }

  /**
   * Removes and returns everything pending as KIP-932 batches: runs of consecutive offsets, with one
   * type when the whole run shares it and one type per offset otherwise.
   */
  take(): PartitionAcknowledgements[] {
    const out: PartitionAcknowledgements[] = [];
    for (const entry of this.byPartition.values()) {
      const { offsets, types } = entry.ascending ? entry : sortedLastWins(entry);
      const batches: AcknowledgementBatch[] = [];
      for (let i = 0; i < offsets.length; ) {
        let end = i + 1;
        let uniform = true;
        while (end < offsets.length && offsets[end] === offsets[end - 1]! + 1) {
          if (types[end] !== types[i]) uniform = false;
          end++;
        }
        batches.push({ firstOffset: offsets[i]!, lastOffset: offsets[end - 1]!, acknowledgeTypes: uniform ? [types[i]!] : types.slice(i, end) });
        i = end;
      }
      out.push({ topicId: entry.topicId, partition: entry.partition, batches });
    }
    this.byPartition.clear();
    this.last = undefined;
    return out;
  }
}

/** The offsets in ascending order, each once with the type acknowledged last. */
function sortedLastWins(entry: Pending): { offsets: number[]; types: AcknowledgeTypeValue[] } {
  const byOffset = new Map<number, AcknowledgeTypeValue>();
  entry.offsets.forEach((offset, i) => byOffset.set(offset, entry.types[i]!));
  const offsets = [...byOffset.keys()].sort((a, b) => a - b);
  return { offsets, types: offsets.map((o) => byOffset.get(o)!) };
}
