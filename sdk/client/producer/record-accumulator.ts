import { KafkaError } from '../../protocol/kafka-error.ts';
import type { CompressionName } from '../../record/compression.ts';
import type { RecordHeader, RecordInput } from '../../record/record.ts';
import { type BatchSink, ProducerBatch } from './producer-batch.ts';
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
  /** Encoded size of the last batch closed here: the next batch's buffer starts that large. */
  lastBatchBytes = 0;

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
  compression: CompressionName;
}

/** Per-record bookkeeping beyond its bytes (attributes, varint lengths, deltas). */
const RECORD_OVERHEAD_BYTES = 24;
/** The batch header, counted against batchSizeBytes but not against buffer memory. */
const BATCH_OVERHEAD_BYTES = 61;
/** A partition's first batch buffer; later ones start at the size the previous batch reached. */
const FIRST_BATCH_CAPACITY_BYTES = 16 * 1024;

export function estimateRecordBytes(record: RecordInput): number {
  return estimateBytes(record.key, record.value, record.headers);
}

/** A text value counts one byte per UTF-16 unit: exact for ASCII, a third of it at worst, which the bound tolerates. */
export function estimateBytes(
  key: Uint8Array | null | undefined,
  value: Uint8Array | string | null | undefined,
  headers: readonly RecordHeader[] | undefined,
): number {
  let size = RECORD_OVERHEAD_BYTES + (key?.length ?? 0) + (value?.length ?? 0);
  if (headers !== undefined) for (const h of headers) size += 8 + h.key.length * 3 + (h.value?.length ?? 0);
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

  /**
   * Encodes a record whose memory is already reserved into the partition's open batch; returns when
   * the broker acknowledges it, or with `sink`, reports to the sink at `slot` and returns nothing.
   * Throws (adding nothing) when the record cannot be encoded.
   */
  append(queue: PartitionQueue, record: RecordInput & { timestamp: number }, sizeBytes: number, nowMs: number): Promise<RecordMetadata>;
  append(queue: PartitionQueue, record: RecordInput & { timestamp: number }, sizeBytes: number, nowMs: number, sink: BatchSink, slot: number): undefined;
  append(
    queue: PartitionQueue,
    record: RecordInput & { timestamp: number },
    sizeBytes: number,
    nowMs: number,
    sink?: BatchSink,
    slot = 0,
  ): Promise<RecordMetadata> | undefined {
    let batch = queue.open;
    if (batch !== undefined && batch.count > 0 && BATCH_OVERHEAD_BYTES + batch.sizeBytes + sizeBytes > this.options.batchSizeBytes) {
      this.close(queue);
      batch = undefined;
    }
    if (batch === undefined) {
      const capacity = Math.min(this.options.batchSizeBytes, Math.max(FIRST_BATCH_CAPACITY_BYTES, queue.lastBatchBytes));
      batch = new ProducerBatch(queue.topic, queue.partition, nowMs, this.options.compression, capacity);
      queue.open = batch;
    }
    let done: Promise<RecordMetadata> | undefined;
    try {
      if (sink === undefined) done = batch.add(record, sizeBytes);
      else batch.addToSink(record, sizeBytes, sink, slot);
    } catch (error) {
      if (batch.count === 0) queue.open = undefined;
      throw error;
    }
    if (BATCH_OVERHEAD_BYTES + batch.sizeBytes >= this.options.batchSizeBytes) this.close(queue);
    return done;
  }

  close(queue: PartitionQueue): void {
    const open = queue.open;
    if (open === undefined) return;
    if (open.count === 0) {
      queue.open = undefined;
      return;
    }
    queue.lastBatchBytes = open.encodedBytes;
    queue.ready.push(open);
    queue.open = undefined;
    this.onReady();
  }
}
