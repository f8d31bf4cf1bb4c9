import type { TopicPartition } from '../../sdk/client/consumer/consumer-types.ts';
import type { RecordHeader } from '../../sdk/record/record.ts';
import { RetryHeader } from '../dsl/retry-processor.ts';

const decoder = new TextDecoder();

/**
 * Which records of the retry tiers are due. A tier has one delay, so its records become due in
 * the order they were appended: when a tier partition's next record is not due yet, the thread
 * seeks the partition back to it and pauses it, and the gate remembers when to resume it. Nothing
 * of a held partition stays in memory (the consumer fetches the record again on resume), and the
 * stage's input and the other tiers are read on meanwhile.
 */
export class RetryTierGate {
  /** Held tier partitions (`topic\0partition`) → when their next record is due. */
  private readonly held = new Map<string, { tp: TopicPartition; dueMs: number }>();

  constructor(
    /** Full tier topic names → their delays. */
    private readonly delays: ReadonlyMap<string, number>,
  ) {}

  /** The delay of a tier topic; undefined for any other topic. */
  delayOf(topic: string): number | undefined {
    return this.delays.get(topic);
  }

  /** When a tier record is due: its last failure (header) plus the tier's delay; a record without the header is due at once. */
  static dueMs(headers: readonly RecordHeader[], delayMs: number): number {
    for (let i = headers.length - 1; i >= 0; i--) {
      const h = headers[i]!;
      if (h.key !== RetryHeader.failedAtMs || h.value === null) continue;
      const failedAtMs = Number(decoder.decode(h.value));
      return Number.isFinite(failedAtMs) ? failedAtMs + delayMs : 0;
    }
    return 0;
  }

  hold(tp: TopicPartition, dueMs: number): void {
    this.held.set(`${tp.topic}\u0000${tp.partition}`, { tp: { topic: tp.topic, partition: tp.partition }, dueMs });
  }

  /** The earliest time a held partition is due, Infinity when none is held. */
  nextDueMs(): number {
    let next = Infinity;
    for (const h of this.held.values()) if (h.dueMs < next) next = h.dueMs;
    return next;
  }

  /** Forgets and returns the held partitions due at `nowMs`. */
  takeDue(nowMs: number): TopicPartition[] {
    const due: TopicPartition[] = [];
    for (const [key, h] of this.held) {
      if (h.dueMs > nowMs) continue;
      this.held.delete(key);
      due.push(h.tp);
    }
    return due;
  }

  /** Forgets every held partition: its task is rewound, suspended or reassigned, and whoever resumes it reads it from the committed offset. */
  clear(): void {
    this.held.clear();
  }
}
