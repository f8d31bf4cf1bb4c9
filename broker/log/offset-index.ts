import type { FileSystem } from './file-system.ts';

/**
 * Sparse offset index (`<baseOffset>.index`), Kafka's format: fixed 8-byte entries, big-endian,
 *
 *   0  relativeOffset  int32   a batch's lastOffset minus the segment's baseOffset
 *   4  position        int32   byte position of that batch in the `.log` file
 *
 * One entry per `indexIntervalBytes` of log, strictly increasing in both fields. The first batch at
 * or before offset `o` starts at the position of the last entry with relativeOffset <= o - base
 * (or at 0 when there is none).
 */
export const OFFSET_INDEX_ENTRY_BYTES = 8;

/** In-memory entries of one segment's offset index; grows by doubling. */
export class OffsetIndex {
  private relativeOffsets = new Int32Array(16);
  private positions = new Int32Array(16);
  entries = 0;

  append(relativeOffset: number, position: number): void {
    if (this.entries > 0) {
      const last = this.entries - 1;
      if (relativeOffset <= this.relativeOffsets[last]! || position <= this.positions[last]!) {
        throw new Error(`offset index entries must increase: (${relativeOffset}, ${position}) after entry ${last}`);
      }
    }
    if (this.entries === this.positions.length) {
      const grow = (old: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> => {
        const next = new Int32Array(old.length * 2);
        next.set(old);
        return next;
      };
      this.relativeOffsets = grow(this.relativeOffsets);
      this.positions = grow(this.positions);
    }
    this.relativeOffsets[this.entries] = relativeOffset;
    this.positions[this.entries] = position;
    this.entries++;
  }

  /** Position of the last entry with relativeOffset <= target, else 0. */
  lookup(relativeOffset: number): number {
    let lo = 0;
    let hi = this.entries - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.relativeOffsets[mid]! <= relativeOffset) {
        found = this.positions[mid]!;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  encode(): Uint8Array {
    const bytes = new Uint8Array(this.entries * OFFSET_INDEX_ENTRY_BYTES);
    const dv = new DataView(bytes.buffer);
    for (let i = 0; i < this.entries; i++) {
      dv.setInt32(i * OFFSET_INDEX_ENTRY_BYTES, this.relativeOffsets[i]!);
      dv.setInt32(i * OFFSET_INDEX_ENTRY_BYTES + 4, this.positions[i]!);
    }
    return bytes;
  }
}

/**
 * Checks an index file against its segment without keeping it in memory: whole entries only,
 * both fields strictly increasing, positions inside the log, offsets below the segment's end.
 * Returns the reason it is unusable, or undefined when it is sane.
 */
export function checkOffsetIndexFile(
  fs: FileSystem,
  fd: number,
  logSizeBytes: number,
  offsetSpan: number,
): string | undefined {
  const size = fs.fileSizeSync(fd);
  if (size % OFFSET_INDEX_ENTRY_BYTES !== 0) return `size ${size} is not a multiple of ${OFFSET_INDEX_ENTRY_BYTES}`;
  const chunk = new Uint8Array(Math.min(size, 64 * 1024));
  const dv = new DataView(chunk.buffer);
  let previousOffset = -1;
  let previousPosition = -1;
  for (let at = 0; at < size; at += chunk.length) {
    const n = fs.readSync(fd, chunk, at);
    if (n < Math.min(chunk.length, size - at)) return 'short read';
    for (let i = 0; i + OFFSET_INDEX_ENTRY_BYTES <= n; i += OFFSET_INDEX_ENTRY_BYTES) {
      const relativeOffset = dv.getInt32(i);
      const position = dv.getInt32(i + 4);
      if (relativeOffset <= previousOffset || position <= previousPosition) return `entry ${(at + i) / 8} is not increasing`;
      if (position >= logSizeBytes || relativeOffset >= offsetSpan) return `entry ${(at + i) / 8} lies past the segment`;
      previousOffset = relativeOffset;
      previousPosition = position;
    }
  }
  return undefined;
}

/** Like `OffsetIndex.lookup`, by binary search over the file (for segments no longer appended to). */
export function lookupOffsetIndexFile(fs: FileSystem, fd: number, entries: number, relativeOffset: number): number {
  const entry = new Uint8Array(OFFSET_INDEX_ENTRY_BYTES);
  const dv = new DataView(entry.buffer);
  let lo = 0;
  let hi = entries - 1;
  let found = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (fs.readSync(fd, entry, mid * OFFSET_INDEX_ENTRY_BYTES) !== OFFSET_INDEX_ENTRY_BYTES) {
      throw new Error(`offset index entry ${mid} is missing`);
    }
    if (dv.getInt32(0) <= relativeOffset) {
      found = dv.getInt32(4);
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}
