import { BATCH_HEADER_BYTES, BatchOffset, readInt64 } from '../../sdk/record/batch-header.ts';
import { batchSizeAt, contentDefect, lengthDefect } from './batch-validation.ts';
import type { FileSystem } from './file-system.ts';
import type { LogSegment } from './log-segment.ts';

export interface ScanOutcome {
  /** The first invalid batch: where it starts and what is wrong; undefined if the file is clean. */
  defect: { position: number; reason: string } | undefined;
  /** maxTimestamp of the first batch, -1 when empty. */
  firstBatchMaxTimestamp: number;
}

/** What a segment's batches must satisfy besides their own checks. */
export interface ScanBounds {
  /**
   * The cleaner may have rewritten the segment: batches follow each other with gaps between
   * their offsets and may hold fewer records than their offset span. Otherwise every batch starts
   * right after the previous one, at the segment's base offset for the first.
   */
  cleaned: boolean;
  /** The next segment's base offset, which no batch may reach; undefined for the last segment. */
  endOffset: number | undefined;
  /** A batch whose last offset lies below this is not CRC-checked (trusted data, see log-recovery.ts); 0 checks all. */
  trustedBelowOffset: number;
}

/** The scan buffer used when no larger batch forces a bigger one. */
export const SCAN_CHUNK_BYTES = 1024 * 1024;

/**
 * Reads a segment file batch by batch, verifying length bounds, magic, CRC-32C, record counts and
 * offsets (see ScanBounds: the CRC does not cover baseOffset, so offsets are checked against
 * their neighbours and the segment's range), and rebuilds the segment's indexes as it goes.
 * Stops at the first invalid batch. Memory stays at one chunk (or one batch, if larger).
 */
export function scanSegment(
  fs: FileSystem,
  fd: number,
  segment: LogSegment,
  indexIntervalBytes: number,
  chunk: Uint8Array,
  bounds: ScanBounds,
): ScanOutcome {
  const fileSize = fs.fileSizeSync(fd);
  segment.sizeBytes = 0;
  let buffer = chunk;
  let dv = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  let bufferStart = 0;
  let bufferLength = 0;
  let firstBatchMaxTimestamp = -1;
  const load = (position: number, minBytes: number): void => {
    buffer = minBytes > chunk.length ? new Uint8Array(minBytes) : chunk;
    dv = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    bufferStart = position;
    bufferLength = fs.readSync(fd, buffer, position);
  };
  for (let pos = 0; pos < fileSize; ) {
    const fail = (reason: string): ScanOutcome => ({ defect: { position: pos, reason }, firstBatchMaxTimestamp });
    if (pos + BATCH_HEADER_BYTES > bufferStart + bufferLength) load(pos, BATCH_HEADER_BYTES);
    const headerDefect = lengthDefect(dv, pos - bufferStart, fileSize - bufferStart);
    if (headerDefect) return fail(headerDefect.reason);
    const size = batchSizeAt(dv, pos - bufferStart);
    if (pos + size > bufferStart + bufferLength) load(pos, size);
    if (bufferLength < pos - bufferStart + size) return fail('short read');
    const at = pos - bufferStart;
    const baseOffset = readInt64(dv, at + BatchOffset.baseOffset);
    const lastOffset = baseOffset + dv.getInt32(at + BatchOffset.lastOffsetDelta);
    const defect = contentDefect(buffer, dv, at, { cleaned: bounds.cleaned, headersOnly: true, checkCrc: lastOffset >= bounds.trustedBelowOffset });
    if (defect) return fail(defect.reason);
    const expected = segment.nextOffset;
    if (bounds.cleaned ? baseOffset < expected : baseOffset !== expected) {
      return fail(`baseOffset ${baseOffset}, expected ${bounds.cleaned ? 'at least ' : ''}${expected}`);
    }
    if (bounds.endOffset !== undefined && lastOffset >= bounds.endOffset) {
      return fail(`batch ends at offset ${lastOffset}, in the next segment, which starts at ${bounds.endOffset}`);
    }
    const maxTimestamp = readInt64(dv, at + BatchOffset.maxTimestamp);
    if (pos === 0) firstBatchMaxTimestamp = maxTimestamp;
    segment.recordBatch(baseOffset, lastOffset, pos, size, maxTimestamp, indexIntervalBytes);
    pos += size;
  }
  return { defect: undefined, firstBatchMaxTimestamp };
}
