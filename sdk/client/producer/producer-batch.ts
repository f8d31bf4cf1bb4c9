import type { RecordInput } from '../../record/record.ts';
import type { RecordMetadata } from './producer-types.ts';

interface Pending {
  resolve: (metadata: RecordMetadata) => void;
  reject: (error: unknown) => void;
}

/**
 * Records bound for one partition, sent in one RecordBatch. Sealed once, on its first send, so a
 * retry resends the same bytes with the same sequence number.
 */
export class ProducerBatch {
  readonly records: RecordInput[] = [];
  private readonly pending: Pending[] = [];
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
  ) {}

  get count(): number {
    return this.records.length;
  }

  add(record: RecordInput, sizeBytes: number): Promise<RecordMetadata> {
    this.records.push(record);
    this.sizeBytes += sizeBytes;
    return new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
  }

  complete(baseOffset: number, logAppendTimeMs: number, now: number): void {
    for (let i = 0; i < this.pending.length; i++) {
      const record = this.records[i]!;
      const timestamp = logAppendTimeMs >= 0 ? logAppendTimeMs : (record.timestamp ?? now);
      this.pending[i]!.resolve({ topic: this.topic, partition: this.partition, offset: baseOffset < 0 ? -1 : baseOffset + i, timestamp });
    }
  }

  fail(error: unknown): void {
    for (const p of this.pending) p.reject(error);
  }
}
