import { KafkaError } from '../../protocol/kafka-error.ts';
import type { RecordInput } from '../../record/record.ts';
import { ProducerBatch } from './producer-batch.ts';
import type { RecordMetadata } from './producer-types.ts';

/** One partition's batches: the open one taking records, then closed ones in send order. */
export class PartitionQueue {
  open: ProducerBatch | undefined;
  /** Closed batches, oldest first; a retried batch goes back to the front. */
  readonly ready: ProducerBatch[] = [];
  inFlight = 0;
  /** Set while a retried batch is outstanding: the partition sends one batch at a time until it lands. */
  retrying = false;
  /** The next sequence number for an idempotent producer. */
  nextSequence = 0;

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}

  get isEmpty(): boolean {
    return this.open === undefined && this.ready.length === 0 && this.inFlight === 0;
  }
}

export interface AccumulatorOptions {
  batchSizeBytes: number;
  bufferMemoryBytes: number;
  /** Bound on the number of partition queues, as a guard against unbounded topic fan-out. */
  maxPartitions: number;
}

/** Per-record bookkeeping beyond its bytes (attributes, varint lengths, deltas). */
const RECORD_OVERHEAD_BYTES = 24;
/** The batch header, counted against batchSizeBytes but not against buffer memory. */
const BATCH_OVERHEAD_BYTES = 61;

export function estimateRecordBytes(record: RecordInput): number {
  let size = RECORD_OVERHEAD_BYTES + (record.key?.length ?? 0) + (record.value?.length ?? 0);
  for (const h of record.headers ?? []) size += 8 + h.key.length * 3 + (h.value?.length ?? 0);
  return size;
}

/**
 * Collects records into per-partition batches within a memory bound: `append` waits while the
 * buffered bytes would exceed `bufferMemoryBytes`, and the bytes come back when a batch completes.
 */
export class RecordAccumulator {
  readonly partitions = new Map<string, PartitionQueue>();
  /** The same queues by topic and partition index, so the per-record lookup builds no string key. */
  private readonly byTopic = new Map<string, (PartitionQueue | undefined)[]>();
  private usedBytes = 0;
  private readonly memoryWaiters: { bytes: number; resolve: () => void }[] = [];
  /** Partitions whose open batch reached the size limit or was closed, so the sender should look. */
  onReady: () => void = () => {};

  constructor(private readonly options: AccumulatorOptions) {}

  get bufferedBytes(): number {
    return this.usedBytes;
  }

  queue(topic: string, partition: number): PartitionQueue {
    const known = this.byTopic.get(topic)?.[partition];
    if (known !== undefined) return known;
    const key = `${partition}:${topic}`;
    let queue = this.partitions.get(key);
    if (queue === undefined) {
      if (this.partitions.size >= this.options.maxPartitions) {
        for (const [k, q] of this.partitions) {
          if (q.isEmpty) this.partitions.delete(k);
        }
        this.byTopic.clear();
        if (this.partitions.size >= this.options.maxPartitions) {
          throw new KafkaError('INVALID_CONFIG', `the producer has batches for ${this.partitions.size} partitions, its limit`);
        }
      }
      queue = new PartitionQueue(topic, partition);
      this.partitions.set(key, queue);
    }
    let byPartition = this.byTopic.get(topic);
    if (byPartition === undefined) {
      byPartition = [];
      this.byTopic.set(topic, byPartition);
    }
    byPartition[partition] = queue;
    return queue;
  }

  /** Takes buffer room for `bytes` if it is free now and nobody is waiting for room before us. */
  tryReserve(bytes: number): boolean {
    if (this.memoryWaiters.length > 0 || this.usedBytes + bytes > this.options.bufferMemoryBytes) return false;
    this.usedBytes += bytes;
    return true;
  }

  /** Waits for buffer room for `bytes`; a lone record larger than the whole buffer fails instead. */
  async reserve(bytes: number): Promise<void> {
    if (bytes > this.options.bufferMemoryBytes) {
      throw new KafkaError('RECORD_LIST_TOO_LARGE', `a ${bytes}-byte record exceeds bufferMemoryBytes (${this.options.bufferMemoryBytes})`);
    }
    if (this.tryReserve(bytes)) return;
    await new Promise<void>((resolve) => this.memoryWaiters.push({ bytes, resolve }));
  }

  release(bytes: number): void {
    this.usedBytes -= bytes;
    if (this.usedBytes < 0) throw new Error('invariant: the producer released more buffer memory than it reserved');
    while (this.memoryWaiters.length > 0) {
      const next = this.memoryWaiters[0]!;
      if (this.usedBytes + next.bytes > this.options.bufferMemoryBytes) break;
      this.memoryWaiters.shift();
      this.usedBytes += next.bytes;
      next.resolve();
    }
  }

  /** Adds a record whose memory is already reserved; returns when the broker acknowledges it. */
  append(queue: PartitionQueue, record: RecordInput, sizeBytes: number, nowMs: number): Promise<RecordMetadata> {
    let batch = queue.open;
    if (batch !== undefined && batch.count > 0 && BATCH_OVERHEAD_BYTES + batch.sizeBytes + sizeBytes > this.options.batchSizeBytes) {
      this.close(queue);
      batch = undefined;
    }
    if (batch === undefined) {
      batch = new ProducerBatch(queue.topic, queue.partition, nowMs);
      queue.open = batch;
    }
    const done = batch.add(record, sizeBytes);
    if (BATCH_OVERHEAD_BYTES + batch.sizeBytes >= this.options.batchSizeBytes) this.close(queue);
    return done;
  }

  close(queue: PartitionQueue): void {
    if (queue.open === undefined) return;
    queue.ready.push(queue.open);
    queue.open = undefined;
    this.onReady();
  }
}
