import type { CompressionName } from '../../record/compression.ts';
import { RecordBatchBuilder } from '../../record/record-batch-builder.ts';
import type { RecordInput } from '../../record/record.ts';
import type { ProducerIdentity } from './sender.ts';
import type { RecordMetadata } from './producer-types.ts';

let capturedResolve: (metadata: RecordMetadata) => void = () => {};
let capturedReject: (error: unknown) => void = () => {};
/** One shared executor, so a record's promise allocates no closure of its own. */
function capture(resolve: (metadata: RecordMetadata) => void, reject: (error: unknown) => void): void {
  capturedResolve = resolve;
  capturedReject = reject;
}

/** Where the records of one `sendBatch` or `sendAll` call report as their batches are answered. */
export interface BatchSink {
  /** A record was acknowledged at `offset` (-1 without an answer); `slot` is its index in the call. */
  settleRecord(topic: string, partition: number, offset: number, timestamp: number, slot: number): void;
  fail(error: unknown): void;
}

/**
 * Collects the offsets of one `sendBatch` call's records, which may land in many batches, and
 * settles its promise once: with every record's metadata, or with the first failure.
 */
export class RecordSink implements BatchSink {
  readonly done: Promise<RecordMetadata[]>;
  private readonly results: RecordMetadata[];
  private remaining: number;
  private resolve!: (results: RecordMetadata[]) => void;
  private reject!: (error: unknown) => void;
  private failed = false;

  constructor(count: number) {
    this.results = new Array<RecordMetadata>(count);
    this.remaining = count;
    this.done = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    if (count === 0) this.resolve(this.results);
  }

  settleRecord(topic: string, partition: number, offset: number, timestamp: number, slot: number): void {
    this.results[slot] = { topic, partition, offset, timestamp };
    if (--this.remaining === 0 && !this.failed) this.resolve(this.results);
  }

  fail(error: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.reject(error);
  }
}

/** The offset after the last record a `sendAll` call wrote to each partition (topic → partition → offset). */
export type PartitionEndOffsets = ReadonlyMap<string, ReadonlyMap<number, number>>;

/**
 * Settles one `sendAll` call once every record is acknowledged, keeping only each partition's end
 * offset: no object per record, for callers that send many and need no per-record answer.
 */
export class EndOffsetsSink implements BatchSink {
  readonly done: Promise<PartitionEndOffsets>;
  private readonly ends = new Map<string, Map<number, number>>();
  private remaining: number;
  private resolve!: (ends: PartitionEndOffsets) => void;
  private reject!: (error: unknown) => void;
  private failed = false;

  constructor(count: number) {
    this.remaining = count;
    this.done = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    if (count === 0) this.resolve(this.ends);
  }

  settleRecord(topic: string, partition: number, offset: number): void {
    let partitions = this.ends.get(topic);
    if (partitions === undefined) this.ends.set(topic, (partitions = new Map()));
    if (offset + 1 > (partitions.get(partition) ?? -1)) partitions.set(partition, offset + 1);
    if (--this.remaining === 0 && !this.failed) this.resolve(this.ends);
  }

  fail(error: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.reject(error);
  }
}

/**
 * Records bound for one partition, sent in one RecordBatch. Each record is encoded into the batch
 * buffer when it is added, so no record object outlives its `send`. Sealed once, on its first send,
 * so a retry resends the same bytes with the same sequence number.
 */
export class ProducerBatch {
  private readonly builder: RecordBatchBuilder;
  /** Per record: the resolver of its own promise (`send`), or the sink of its `sendBatch` call. */
  private readonly resolvers: (((metadata: RecordMetadata) => void) | BatchSink)[] = [];
  /** Per record: the rejecter of its own promise, or its index in its sink. */
  private readonly rejecters: (((error: unknown) => void) | number)[] = [];
  /** Each record's create time, for its RecordMetadata. */
  private readonly timestamps: number[] = [];
  /** Estimated encoded size, also what the batch holds of the producer's buffer memory. */
  sizeBytes = 0;
  bytes: Uint8Array | undefined;
  baseSequence = -1;
  attempts = 0;
  /** When a retry may go out (backoff). */
  notBeforeMs = 0;

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly createdMs: number,
    compression: CompressionName,
    initialCapacityBytes: number,
  ) {
    this.builder = new RecordBatchBuilder({ compression, initialCapacityBytes });
  }

  get count(): number {
    return this.timestamps.length;
  }

  /** Bytes the encoded records take so far, header included (before compression). */
  get encodedBytes(): number {
    return this.builder.sizeEstimate;
  }

  /** Encodes the record (whose timestamp is set) into the batch; throws, adding nothing, if it cannot be encoded. */
  add(record: RecordInput & { timestamp: number }, sizeBytes: number): Promise<RecordMetadata> {
    this.builder.append(record);
    this.timestamps.push(record.timestamp);
    this.sizeBytes += sizeBytes;
    const done = new Promise<RecordMetadata>(capture);
    this.resolvers.push(capturedResolve);
    this.rejecters.push(capturedReject);
    return done;
  }

  /** Like `add`, but the record's metadata goes to `sink` at `slot` instead of a promise of its own. */
  addToSink(record: RecordInput & { timestamp: number }, sizeBytes: number, sink: BatchSink, slot: number): void {
    this.builder.append(record);
    this.timestamps.push(record.timestamp);
    this.sizeBytes += sizeBytes;
    this.resolvers.push(sink);
    this.rejecters.push(slot);
  }

  /** The batch's bytes with the producer's id, epoch and first sequence number; the same bytes on every retry. */
  seal(identity: ProducerIdentity, baseSequence: number): Uint8Array {
    if (this.bytes !== undefined) return this.bytes;
    this.baseSequence = baseSequence;
    this.bytes = this.builder.seal({
      producerId: identity.producerId,
      producerEpoch: identity.producerEpoch,
      baseSequence,
      isTransactional: identity.transactionalId !== null,
    });
    return this.bytes;
  }

  complete(baseOffset: number, logAppendTimeMs: number): void {
    const { topic, partition, resolvers, rejecters, timestamps } = this;
    for (let i = 0; i < resolvers.length; i++) {
      const offset = baseOffset < 0 ? -1 : baseOffset + i;
      const timestamp = logAppendTimeMs >= 0 ? logAppendTimeMs : timestamps[i]!;
      const resolver = resolvers[i]!;
      if (typeof resolver === 'function') resolver({ topic, partition, offset, timestamp });
      else resolver.settleRecord(topic, partition, offset, timestamp, rejecters[i] as number);
    }
  }

  fail(error: unknown): void {
    for (let i = 0; i < this.resolvers.length; i++) {
      const resolver = this.resolvers[i]!;
      if (typeof resolver === 'function') (this.rejecters[i] as (error: unknown) => void)(error);
      else resolver.fail(error);
    }
  }
}
