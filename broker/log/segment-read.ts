import { Buffer } from 'node:buffer';
import { BatchOffset, readInt64 } from '../../sdk/record/batch-header.ts';
import { batchSizeAt } from './batch-validation.ts';
import type { FileSystem } from './file-system.ts';

/** Header bytes needed to learn a batch's size and offsets: up to the end of lastOffsetDelta. */
const HEADER_PREFIX_BYTES = BatchOffset.lastOffsetDelta + 4;
const WALK_CHUNK_BYTES = 64 * 1024;

/** A segment's log file as the read paths see it. */
export interface SegmentSource {
  fs: FileSystem;
  fd: number;
  /** Bytes of valid batches in the file. */
  endPosition: number;
  /** Where to start looking for `offset` (an index lookup): a batch start at or before it. */
  positionFor(offset: number): number;
}

/**
 * A read buffer whose bytes are not zeroed first. A fetch's read allocates about a megabyte per
 * partition, and a zeroed allocation of that size (`new Uint8Array`) costs page faults on fresh
 * memory each time: reading into it was 15% of a stream job's time, where the same read into
 * reused memory costs a tenth of that. Only bytes the read filled are ever handed out.
 */
function readBuffer(size: number): Uint8Array {
  const bytes = Buffer.allocUnsafeSlow(size);
  return new Uint8Array(bytes.buffer, bytes.byteOffset, size);
}

function corruptRead(source: SegmentSource, position: number): Error {
  return new Error(`invariant broken: no batch header at byte ${position} of a segment (${source.endPosition} bytes)`);
}

/**
 * Whole batches starting with the one that contains `offset`, all below `upperBoundOffset`, at most
 * `maxBytes` in total except that the first batch is always whole. One pread of about
 * maxBytes + one index interval covers the usual case; batches are found by walking headers in
 * memory. Returns undefined when `offset` lies past this segment's batches.
 */
export function readBatches(
  source: SegmentSource,
  offset: number,
  maxBytes: number,
  upperBoundOffset: number,
  slackBytes: number,
): Uint8Array | undefined {
  const { fs, fd, endPosition } = source;
  let pos = source.positionFor(offset);
  if (pos >= endPosition) return undefined;
  let buffer = readBuffer(Math.min(endPosition - pos, maxBytes + slackBytes));
  let dv = new DataView(buffer.buffer);
  let bufferStart = pos;
  let bufferEnd = pos + fs.readSync(fd, buffer, pos);
  const reload = (at: number, minBytes: number): void => {
    if (buffer.length < minBytes) {
      buffer = readBuffer(minBytes);
      dv = new DataView(buffer.buffer);
    }
    bufferStart = at;
    bufferEnd = at + fs.readSync(fd, buffer, at);
  };
  let firstSize = 0;
  for (;;) {
    if (pos >= endPosition) return undefined;
    if (pos + HEADER_PREFIX_BYTES > bufferEnd) reload(pos, HEADER_PREFIX_BYTES);
    if (pos + HEADER_PREFIX_BYTES > bufferEnd) throw corruptRead(source, pos);
    const at = pos - bufferStart;
    const baseOffset = readInt64(dv, at);
    const lastOffset = baseOffset + dv.getInt32(at + BatchOffset.lastOffsetDelta);
    firstSize = batchSizeAt(dv, at);
    if (baseOffset >= upperBoundOffset) return new Uint8Array(0);
    if (lastOffset >= offset) {
      if (lastOffset >= upperBoundOffset) return new Uint8Array(0);
      break;
    }
    pos += firstSize;
  }
  const want = Math.min(endPosition - pos, Math.max(firstSize, maxBytes));
  if (pos + want > bufferEnd) reload(pos, want);
  const limit = Math.min(bufferEnd, endPosition);
  let end = pos;
  while (end + HEADER_PREFIX_BYTES <= limit) {
    const at = end - bufferStart;
    const size = batchSizeAt(dv, at);
    const lastOffset = readInt64(dv, at) + dv.getInt32(at + BatchOffset.lastOffsetDelta);
    if (lastOffset >= upperBoundOffset || end + size > limit) break;
    if (end > pos && end - pos + size > maxBytes) break;
    end += size;
  }
  if (end === pos) throw corruptRead(source, pos);
  return buffer.subarray(pos - bufferStart, end - bufferStart);
}

export interface BatchHeaderInfo {
  position: number;
  baseOffset: number;
  lastOffset: number;
  sizeBytes: number;
  maxTimestamp: number;
}

/** Walks batch headers from `position` with small chunked reads; `visit` returns true to stop. */
export function walkHeaders(source: SegmentSource, position: number, visit: (header: BatchHeaderInfo) => boolean): void {
  const { fs, fd, endPosition } = source;
  const chunk = new Uint8Array(WALK_CHUNK_BYTES);
  const dv = new DataView(chunk.buffer);
  let chunkStart = 0;
  let chunkEnd = 0;
  for (let pos = position; pos < endPosition; ) {
    if (pos + BatchOffset.maxTimestamp + 8 > chunkEnd) {
      chunkStart = pos;
      chunkEnd = pos + fs.readSync(fd, chunk, pos);
      if (pos + BatchOffset.maxTimestamp + 8 > chunkEnd) throw corruptRead(source, pos);
    }
    const at = pos - chunkStart;
    const baseOffset = readInt64(dv, at);
    const header: BatchHeaderInfo = {
      position: pos,
      baseOffset,
      lastOffset: baseOffset + dv.getInt32(at + BatchOffset.lastOffsetDelta),
      sizeBytes: batchSizeAt(dv, at),
      maxTimestamp: readInt64(dv, at + BatchOffset.maxTimestamp),
    };
    if (visit(header)) return;
    pos += header.sizeBytes;
  }
}

/** The stored bytes of one batch. */
export function readBatchAt(source: SegmentSource, header: BatchHeaderInfo): Uint8Array {
  const bytes = new Uint8Array(header.sizeBytes);
  if (source.fs.readSync(source.fd, bytes, header.position) !== header.sizeBytes) throw corruptRead(source, header.position);
  return bytes;
}
