import type { FileSystem } from './file-system.ts';
import { readInt64, writeInt64 } from '../../sdk/record/batch-header.ts';

/**
 * Time index (`<baseOffset>.timeindex`), Kafka's format: fixed 12-byte entries, big-endian,
 *
 *   0  timestamp       int64   the largest batch maxTimestamp in the segment so far
 *   8  relativeOffset  int32   lastOffset of the first batch that reached it, minus baseOffset
 *
 * Appended next to each offset index entry when the timestamp grew, and once more when the segment
 * is rolled, so the last entry holds the segment's largest timestamp. Both fields increase.
 */
export const TIME_INDEX_ENTRY_BYTES = 12;

export class TimeIndex {
  private timestamps = new Float64Array(8);
  private relativeOffsets = new Int32Array(8);
  entries = 0;

  get lastTimestamp(): number {
    return this.entries === 0 ? -1 : this.timestamps[this.entries - 1]!;
  }

  /** Appends unless `timestamp` does not exceed the last entry's (Kafka's maybeAppend). */
  maybeAppend(timestamp: number, relativeOffset: number): void {
    if (timestamp <= this.lastTimestamp) return;
    if (this.entries > 0 && relativeOffset < this.relativeOffsets[this.entries - 1]!) {
      throw new Error(`time index offsets must not decrease: ${relativeOffset} after entry ${this.entries - 1}`);
    }
    if (this.entries === this.timestamps.length) {
      const timestamps = new Float64Array(this.entries * 2);
      timestamps.set(this.timestamps);
      this.timestamps = timestamps;
      const offsets = new Int32Array(this.entries * 2);
      offsets.set(this.relativeOffsets);
      this.relativeOffsets = offsets;
    }
    this.timestamps[this.entries] = timestamp;
    this.relativeOffsets[this.entries] = relativeOffset;
    this.entries++;
  }

  /** relativeOffset of the last entry with timestamp < target, else -1: no batch up to it qualifies. */
  lookupBefore(timestampMs: number): number {
    let found = -1;
    for (let lo = 0, hi = this.entries - 1; lo <= hi; ) {
      const mid = (lo + hi) >>> 1;
      if (this.timestamps[mid]! < timestampMs) {
        found = this.relativeOffsets[mid]!;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  encode(): Uint8Array {
    const bytes = new Uint8Array(this.entries * TIME_INDEX_ENTRY_BYTES);
    const dv = new DataView(bytes.buffer);
    for (let i = 0; i < this.entries; i++) {
      writeInt64(dv, i * TIME_INDEX_ENTRY_BYTES, this.timestamps[i]!);
      dv.setInt32(i * TIME_INDEX_ENTRY_BYTES + 8, this.relativeOffsets[i]!);
    }
    return bytes;
  }
}

/**
 * Checks a time index file like `checkOffsetIndexFile`; returns the last entry's timestamp (-1 if
 * empty) when sane, or the reason it is unusable.
 */
export function checkTimeIndexFile(
  fs: FileSystem,
  fd: number,
  offsetSpan: number,
): { lastTimestamp: number } | { reason: string } {
  const size = fs.fileSizeSync(fd);
  if (size % TIME_INDEX_ENTRY_BYTES !== 0) return { reason: `size ${size} is not a multiple of ${TIME_INDEX_ENTRY_BYTES}` };
  const chunk = new Uint8Array(Math.min(size, 64 * 1020));
  const dv = new DataView(chunk.buffer);
  let previousTimestamp = -1;
  let previousOffset = -1;
  for (let at = 0; at < size; at += chunk.length) {
    const n = fs.readSync(fd, chunk, at);
    if (n < Math.min(chunk.length, size - at)) return { reason: 'short read' };
    for (let i = 0; i + TIME_INDEX_ENTRY_BYTES <= n; i += TIME_INDEX_ENTRY_BYTES) {
      const timestamp = readInt64(dv, i);
      const relativeOffset = dv.getInt32(i + 8);
      const entry = (at + i) / TIME_INDEX_ENTRY_BYTES;
      if (timestamp <= previousTimestamp || relativeOffset < previousOffset) return { reason: `entry ${entry} is not increasing` };
      if (relativeOffset >= offsetSpan) return { reason: `entry ${entry} lies past the segment` };
      previousTimestamp = timestamp;
      previousOffset = relativeOffset;
    }
  }
  return { lastTimestamp: previousTimestamp };
}

/** Like `TimeIndex.lookupBefore`, by binary search over the file. */
export function lookupTimeIndexFileBefore(fs: FileSystem, fd: number, entries: number, timestampMs: number): number {
  const entry = new Uint8Array(TIME_INDEX_ENTRY_BYTES);
  const dv = new DataView(entry.buffer);
  let found = -1;
  for (let lo = 0, hi = entries - 1; lo <= hi; ) {
    const mid = (lo + hi) >>> 1;
    if (fs.readSync(fd, entry, mid * TIME_INDEX_ENTRY_BYTES) !== TIME_INDEX_ENTRY_BYTES) {
      throw new Error(`time index entry ${mid} is missing`);
    }
    if (readInt64(dv, 0) < timestampMs) {
      found = dv.getInt32(8);
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}
