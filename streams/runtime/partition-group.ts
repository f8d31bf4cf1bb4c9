import type { TopicPartition } from '../../sdk/client/consumer/consumer-types.ts';
import type { InputRecord } from './task.ts';

/** Records buffered per input partition beyond which the thread pauses the partition (Kafka Streams' `buffered.records.per.partition`). */
export const BUFFERED_RECORDS_PER_PARTITION = 1_000;

/** What the group learns from the consumer: how far behind the broker's end a partition is (undefined: not known yet). */
export type LagOf = (tp: TopicPartition) => number | undefined;

interface PartitionQueue {
  readonly tp: TopicPartition;
  records: InputRecord[];
  head: number;
  /** Paused because it held too much; resumed once below the bound again. */
  paused: boolean;
}

/**
 * The input buffers of a task with several input partitions (Kafka Streams' PartitionGroup): the
 * next record is the one with the smallest timestamp among the partitions' first records, so a
 * join or a merge sees its inputs in timestamp order across partitions. While a partition has
 * nothing buffered the task waits (`max.task.idle.ms`, KIP-695): for as long as the broker holds
 * records of it the consumer has not fetched yet (or its lag is not known yet), then up to
 * `maxTaskIdleMs` more for new records to arrive; after that it goes on without it ("enforced
 * processing"). `maxTaskIdleMs` -1 never waits.
 */
export class PartitionGroup {
  private readonly queues: PartitionQueue[];
  /** When the task started waiting on a caught-up empty partition (undefined: not waiting). */
  private idleSinceMs: number | undefined;
  /** Records taken while a partition was empty and its wait had run out. */
  enforcedProcessing = 0;

  constructor(
    partitions: readonly TopicPartition[],
    private readonly maxTaskIdleMs: number,
  ) {
    this.queues = partitions.map((tp) => ({ tp, records: [], head: 0, paused: false }));
  }

  private queue(topic: string, partition: number): PartitionQueue {
    const queue = this.queues.find((q) => q.tp.topic === topic && q.tp.partition === partition);
    if (queue === undefined) throw new Error(`invariant: ${topic}-${partition} is not an input partition of this task`);
    return queue;
  }

  /** Buffers a fetched batch; returns whether its partition now holds as much as it may (the caller pauses it). */
  add(topic: string, partition: number, records: readonly InputRecord[]): boolean {
    const queue = this.queue(topic, partition);
    if (queue.head === queue.records.length) {
      queue.records = records.slice();
      queue.head = 0;
    } else {
      for (const record of records) queue.records.push(record);
    }
    if (queue.paused || queue.records.length - queue.head < BUFFERED_RECORDS_PER_PARTITION) return false;
    queue.paused = true;
    return true;
  }

  /** Whether the partition holds as much as it may (`add` said so, and it is not below the bound again). */
  holdsTooMuch(topic: string, partition: number): boolean {
    return this.queue(topic, partition).paused;
  }

  /** The partitions `add` asked to pause that are below the bound again (the caller resumes them). */
  resumable(): TopicPartition[] {
    const out: TopicPartition[] = [];
    for (const queue of this.queues) {
      if (!queue.paused || queue.records.length - queue.head >= BUFFERED_RECORDS_PER_PARTITION) continue;
      queue.paused = false;
      out.push(queue.tp);
    }
    return out;
  }

  get isEmpty(): boolean {
    return this.queues.every((q) => q.head === q.records.length);
  }

  /**
   * The next record to process at `nowMs`, with its partition, or undefined while the task waits
   * (or nothing is buffered).
   */
  next(nowMs: number, lagOf: LagOf): { record: InputRecord; tp: TopicPartition } | undefined {
    let best: PartitionQueue | undefined;
    let waiting = false;
    for (const queue of this.queues) {
      if (queue.head === queue.records.length) {
        waiting = true;
        continue;
      }
      if (best === undefined || queue.records[queue.head]!.timestamp < best.records[best.head]!.timestamp) best = queue;
    }
    if (best === undefined) return undefined;
    if (waiting && !this.doneWaiting(nowMs, lagOf)) return undefined;
    if (waiting) this.enforcedProcessing++;
    else this.idleSinceMs = undefined;
    const record = best.records[best.head]!;
    best.head++;
    if (best.head === best.records.length) {
      best.records = [];
      best.head = 0;
    }
    return { record, tp: best.tp };
  }

  /** Whether the wait for the empty partitions is over: each is caught up with the broker, and `maxTaskIdleMs` passed since. */
  private doneWaiting(nowMs: number, lagOf: LagOf): boolean {
    if (this.maxTaskIdleMs < 0) return true;
    for (const queue of this.queues) {
      if (queue.head !== queue.records.length) continue;
      const lag = lagOf(queue.tp);
      if (lag === undefined || lag > 0) {
        // Records are on the broker (or may be): the next fetch brings them.
        this.idleSinceMs = undefined;
        return false;
      }
    }
    this.idleSinceMs ??= nowMs;
    return nowMs - this.idleSinceMs >= this.maxTaskIdleMs;
  }

  /** When a wait on caught-up partitions runs out, Infinity when the task does not wait on the clock. */
  get idleDeadlineMs(): number {
    return this.idleSinceMs === undefined || this.isEmpty ? Infinity : this.idleSinceMs + this.maxTaskIdleMs;
  }

  /** Drops what is buffered (the consumer reads it again from the committed offsets). */
  clear(): void {
    for (const queue of this.queues) {
      queue.records = [];
      queue.head = 0;
      queue.paused = false;
    }
    this.idleSinceMs = undefined;
  }
}
