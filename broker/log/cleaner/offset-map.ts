import { murmur3x128 } from './key-hash.ts';

/** Kafka's SkimpyOffsetMap footprint: a 16-byte key hash and an 8-byte offset per slot. */
export const OFFSET_MAP_BYTES_PER_ENTRY = 24;

/**
 * The cleaner's map from key to the offset of the key's latest record in the dirty section
 * (Kafka's SkimpyOffsetMap): open addressing over a fixed number of slots, keyed by a 128-bit
 * hash of the key, never resized. It holds at most `maxEntries` keys (slots times the load
 * factor); a pass whose dirty keys do not fit stops mapping there and cleans up to that offset.
 */
export class OffsetMap {
  readonly slots: number;
  readonly maxEntries: number;
  private readonly hashes: Int32Array;
  /** A slot's offset plus one, 0 for an empty slot: a fresh (zeroed) array is an empty map without a pass over it. */
  private readonly offsets: Float64Array;
  private readonly probe = new Int32Array(4);
  private entries = 0;

  /**
   * A map for `wantedEntries` keys at most (a pass knows no more than the dirty offsets), within
   * `bufferBytes`; at least one key fits.
   */
  constructor(bufferBytes: number, loadFactor: number, wantedEntries: number) {
    const affordable = Math.floor(bufferBytes / OFFSET_MAP_BYTES_PER_ENTRY);
    this.slots = Math.max(2, Math.min(affordable, Math.ceil(Math.max(1, wantedEntries) / loadFactor) + 1));
    this.maxEntries = Math.max(1, Math.min(this.slots - 1, Math.floor(this.slots * loadFactor)));
    this.hashes = new Int32Array(this.slots * 4);
    this.offsets = new Float64Array(this.slots);
  }

  get size(): number {
    return this.entries;
  }

  /** Share of the slots in use (Kafka's `bufferUtilization`). */
  get utilization(): number {
    return this.entries / this.slots;
  }

  /** Maps the key at `bytes[start, end)` to `offset`; false, changing nothing, when it is new and the map is full. */
  put(bytes: Uint8Array, start: number, end: number, offset: number): boolean {
    const slot = this.find(bytes, start, end);
    if (this.offsets[slot] === 0) {
      if (this.entries >= this.maxEntries) return false;
      this.entries++;
      const h = slot * 4;
      this.hashes[h] = this.probe[0]!;
      this.hashes[h + 1] = this.probe[1]!;
      this.hashes[h + 2] = this.probe[2]!;
      this.hashes[h + 3] = this.probe[3]!;
    }
    this.offsets[slot] = offset + 1;
    return true;
  }

  /** The offset mapped to the key at `bytes[start, end)`, or -1. */
  get(bytes: Uint8Array, start: number, end: number): number {
    return this.offsets[this.find(bytes, start, end)]! - 1;
  }

  /** The slot holding the key's hash, or the empty slot where it would go; leaves the hash in `probe`. */
  private find(bytes: Uint8Array, start: number, end: number): number {
    const probe = this.probe;
    murmur3x128(bytes, start, end, probe);
    const { hashes, offsets, slots } = this;
    for (let slot = (probe[0]! >>> 0) % slots; ; slot = slot + 1 === slots ? 0 : slot + 1) {
      if (offsets[slot] === 0) return slot;
      const h = slot * 4;
      if (hashes[h] === probe[0] && hashes[h + 1] === probe[1] && hashes[h + 2] === probe[2] && hashes[h + 3] === probe[3]) return slot;
    }
  }
}
