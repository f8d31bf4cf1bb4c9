import type { RecordHeader } from '../../sdk/record/record.ts';
import type { Serde } from '../../sdk/serde/serde.ts';
import type { RecordMetadata } from '../topology/stream-record.ts';

/**
 * One input record's processing inside a task: the unit the runtime orders per key, bounds, waits
 * for at commit and routes to the error handler. It is the `metadata` of every StreamRecord derived
 * from the input, so work an operator continues asynchronously is still counted against it.
 */
export class Job implements RecordMetadata {
  /** Promise-likes returned by processors below the source and not settled yet. */
  pending = 0;
  /** The first error the record's processing raised. */
  error: unknown = undefined;
  failed = false;
  completed = false;
  /** Records with the same lane wait for each other (the input key, as a binary string). */
  lane: string | undefined = undefined;
  /** It went asynchronous, so records of its lane queue behind it until it completes. */
  holdsLane = false;
  /** Still inside its synchronous processing, which may start asynchronous steps. */
  private running = true;
  /**
   * The input key as its source deserialized it, and the serde that did: a sink writing the same
   * key with the same serde reuses `rawKey` instead of serializing the key again.
   */
  key: unknown = undefined;
  keySerde: Serde<unknown> | undefined = undefined;
  /** The task's stream time when the record was accepted (RecordMetadata.streamTimeMs). */
  streamTimeMs = -1;

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly offset: number,
    readonly timestamp: number,
    /** The input's bytes as read, for the dead-letter topic. */
    readonly rawKey: Uint8Array | null,
    readonly rawValue: Uint8Array | null,
    readonly headers: readonly RecordHeader[],
    private readonly onSettled: (job: Job) => void,
  ) {}

  /** Follows a processor's asynchronous step; the job completes once every step it started settled. */
  track(work: PromiseLike<unknown>): void {
    if (this.completed) {
      throw new Error(`a record of ${this.topic}-${this.partition} at offset ${this.offset} was forwarded after its processing finished: return the promise from process() instead of leaving work behind`);
    }
    this.pending++;
    work.then(
      () => this.settle(),
      (error: unknown) => {
        this.fail(error);
        this.settle();
      },
    );
  }

  fail(error: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.error = error;
  }

  private settle(): void {
    if (--this.pending === 0 && !this.running) this.finish();
  }

  /** Called once synchronous processing returned: completes now unless asynchronous steps are pending. */
  started(): void {
    this.running = false;
    if (this.pending === 0) this.finish();
  }

  private finish(): void {
    this.completed = true;
    this.onSettled(this);
  }
}

/** A key's bytes as a binary string (one char per byte), a cheap exact identity for lanes. */
export function laneOf(key: Uint8Array | null): string {
  if (key === null) return '\u{10FFFF}null';
  if (key.length <= 64) return String.fromCharCode.apply(null, key as unknown as number[]);
  let text = '';
  for (let i = 0; i < key.length; i += 64) text += String.fromCharCode.apply(null, key.subarray(i, i + 64) as unknown as number[]);
  return text;
}
