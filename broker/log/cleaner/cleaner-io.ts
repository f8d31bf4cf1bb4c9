import { BATCH_HEADER_BYTES } from '../../../sdk/record/batch-header.ts';
import { batchSizeAt, contentDefect, lengthDefect } from '../batch-validation.ts';
import type { FileSystem } from '../file-system.ts';
import type { LogSegment } from '../log-segment.ts';

/** The cleaner stops (and leaves the log as it was) when asked to, at its next batch. */
export class CleanerAbortedError extends Error {
  constructor() {
    super('cleaning was aborted');
    this.name = 'CleanerAbortedError';
  }
}

/** Longest stretch of cleaner work between two turns of the event loop, so produce and fetch get theirs. */
const SLICE_MS = 1;

/**
 * Lets pending I/O callbacks (requests, fsync completions) run before the cleaner goes on:
 * setImmediate where the runtime has it (Node, Bun, Deno 2), which does not wait the 1 ms a
 * setTimeout(0) does in Node.
 */
const yieldToEventLoop: () => Promise<void> =
  typeof (globalThis as { setImmediate?: unknown }).setImmediate === 'function'
    ? () => new Promise((resolve) => (globalThis as unknown as { setImmediate: (callback: () => void) => void }).setImmediate(resolve))
    : () => new Promise((resolve) => setTimeout(resolve, 0));
/** The throttle measures its rate over windows of this length (Kafka's Throttler checks every 300 ms). */
const THROTTLE_WINDOW_MS = 100;

/**
 * Paces a cleaning pass: the cleaner runs on the broker's only thread, so it yields every few
 * milliseconds of work, keeps its I/O (bytes read plus written) under `maxBytesPerSecond`
 * (`log.cleaner.io.max.bytes.per.second`, Kafka's Throttler), and stops when aborted.
 */
export class CleanerPacer {
  private sliceStartMs = performance.now();
  private windowStartMs = performance.now();
  private windowBytes = 0;
  aborted = false;

  constructor(private readonly maxBytesPerSecond: number) {}

  throwIfAborted(): void {
    if (this.aborted) throw new CleanerAbortedError();
  }

  /** Accounts for `bytes` of I/O; sleeps when over the rate, yields when the slice is used up. */
  async pace(bytes: number): Promise<void> {
    this.throwIfAborted();
    this.windowBytes += bytes;
    const now = performance.now();
    const elapsedMs = now - this.windowStartMs;
    if (Number.isFinite(this.maxBytesPerSecond) && elapsedMs >= THROTTLE_WINDOW_MS) {
      const wantedMs = (this.windowBytes / this.maxBytesPerSecond) * 1000;
      if (wantedMs > elapsedMs) await new Promise((resolve) => setTimeout(resolve, wantedMs - elapsedMs));
      this.windowStartMs = performance.now();
      this.windowBytes = 0;
      this.sliceStartMs = this.windowStartMs;
    } else if (now - this.sliceStartMs >= SLICE_MS) {
      await yieldToEventLoop();
      this.sliceStartMs = performance.now();
    }
    this.throwIfAborted();
  }
}

/**
 * Reads a sealed segment's batches in order through one buffer of `bufferBytes` (grown for a
 * larger batch). Every batch is checked (length, CRC-32C, record count) before the cleaner may
 * rewrite it: a rewritten batch gets a fresh CRC, which would otherwise launder corruption.
 */
export class SegmentBatchReader {
  private readonly fd: number;
  private buffer: Uint8Array;
  private dv: DataView;
  private bufferStart = 0;
  private bufferEnd = 0;
  private position = 0;

  constructor(
    private readonly fs: FileSystem,
    private readonly segment: LogSegment,
    bufferBytes: number,
  ) {
    this.buffer = new Uint8Array(Math.max(bufferBytes, BATCH_HEADER_BYTES));
    this.dv = new DataView(this.buffer.buffer);
    this.fd = fs.openSync(segment.logPath, 'read');
  }

  /** The next batch (a view valid until the next call) and where it starts, or undefined at the end. */
  next(): { bytes: Uint8Array; position: number } | undefined {
    const end = this.segment.sizeBytes;
    const pos = this.position;
    if (pos >= end) return undefined;
    if (pos + BATCH_HEADER_BYTES > this.bufferEnd) this.load(pos, BATCH_HEADER_BYTES);
    if (this.bufferEnd - pos < BATCH_HEADER_BYTES) throw this.corrupt(pos, 'short read');
    const defect = lengthDefect(this.dv, pos - this.bufferStart, end - this.bufferStart);
    if (defect !== undefined) throw this.corrupt(pos, defect.reason);
    const size = batchSizeAt(this.dv, pos - this.bufferStart);
    if (pos + size > this.bufferEnd) this.load(pos, size);
    if (this.bufferEnd - pos < size) throw this.corrupt(pos, 'short read');
    const at = pos - this.bufferStart;
    const content = contentDefect(this.buffer, this.dv, at, { cleaned: true });
    if (content !== undefined) throw this.corrupt(pos, content.reason);
    this.position = pos + size;
    return { bytes: this.buffer.subarray(at, at + size), position: pos };
  }

  close(): void {
    this.fs.closeSync(this.fd);
  }

  private load(position: number, minBytes: number): void {
    if (minBytes > this.buffer.length) {
      this.buffer = new Uint8Array(minBytes);
      this.dv = new DataView(this.buffer.buffer);
    }
    this.bufferStart = position;
    this.bufferEnd = position + this.fs.readSync(this.fd, this.buffer, position);
  }

  private corrupt(position: number, reason: string): Error {
    return new Error(`${this.segment.logPath} at byte ${position}: ${reason}`);
  }
}
