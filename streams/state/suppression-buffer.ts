import type { RecordHeader } from '../../sdk/record/record.ts';
import { bytesSerde } from '../../sdk/serde/basic-serdes.ts';
import { readInt64BE, writeInt64BE } from '../../sdk/serde/int64.ts';
import type { Serde } from '../../sdk/serde/serde.ts';
import type { KeyValueStore } from './key-value-store.ts';
import type { KeyValueStoreSpec } from './store-spec.ts';

/** One key's held-back update: the latest change, the value before the first held one, and the latest update's record. */
export interface BufferedEntry {
  /** The table key, serialized. */
  readonly key: Uint8Array;
  /** When the key is due: the window end (`untilWindowCloses`) or the timestamp of its first held update (`untilTimeLimit`). */
  readonly bufferTimeMs: number;
  /** The latest new value, serialized; null: the key was deleted. */
  readonly newValue: Uint8Array | null;
  /** The value downstream last saw (before the first held update), serialized; null: none. */
  readonly priorValue: Uint8Array | null;
  /** The record timestamp and headers of the latest held update: the emitted record carries them. */
  readonly timestamp: number;
  readonly headers: readonly RecordHeader[];
}

/** The size of the buffer: held keys and their bytes (each entry's serialized key, values and headers). */
export interface BufferSize {
  readonly records: number;
  readonly bytes: number;
}

const INDEX = 0;
const ENTRY = 1;
const META = 2;
const META_KEY = Uint8Array.of(META);
const ENTRY_PREFIX = Uint8Array.of(ENTRY);
const TIME_BYTES = 8;
const NULL_LENGTH = -1;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * A suppression's buffer over a key-value store of bytes, so it is changelogged, committed and
 * restored like every store: what one commit emitted and deleted goes in the same transaction as
 * the emitted records. The processor keeps nothing in memory between records, so an aborted
 * commit (which drops the store's writes) leaves nothing stale behind.
 *
 * Store keys and values (all integers big-endian; `key` is the table key's serialized bytes):
 *
 *   index  0x00 ‖ key                         → int64 bufferTime
 *   entry  0x01 ‖ int64 bufferTime ‖ key      → entry value (below)
 *   meta   0x02                               → int64 records ‖ int64 bytes ‖ int64 emittedThroughMs
 *
 * Entries sort by buffer time (non-negative, so byte order is numeric order), then key: the due
 * entries are a prefix of the entry range. The index finds a key's entry, whose buffer time is
 * kept when the key is updated again (Kafka Streams' "non-resetting" buffer). `emittedThroughMs` is
 * the stream time of the last eviction (-1 before the first), kept once the buffer is empty too.
 *
 * Entry value:
 *
 *   0  timestamp    int64: the latest update's record timestamp
 *   8  newValue     int32 length (-1: null) ‖ bytes
 *      priorValue   int32 length (-1: null) ‖ bytes
 *      headerCount  int32, then per header: int32 key length ‖ UTF-8 key ‖ int32 value length (-1: null) ‖ bytes
 */
export class SuppressionBuffer {
  constructor(private readonly store: KeyValueStore<Uint8Array, Uint8Array>) {}

  size(): BufferSize {
    const bytes = this.store.get(META_KEY);
    if (bytes === undefined) return { records: 0, bytes: 0 };
    return { records: readInt64BE(bytes, 0), bytes: readInt64BE(bytes, TIME_BYTES) };
  }

  /** The stream time the last eviction ran at (committed with it), -1 before the first. */
  emittedThroughMs(): number {
    const bytes = this.store.get(META_KEY);
    return bytes === undefined ? -1 : readInt64BE(bytes, 2 * TIME_BYTES);
  }

  setEmittedThrough(streamTimeMs: number): void {
    if (streamTimeMs !== this.emittedThroughMs()) this.setMeta(this.size(), streamTimeMs);
  }

  /**
   * Holds `change` for `key`: a key not held yet is due at `bufferTimeMs` and remembers `oldValue`
   * as its prior value; a held key keeps its buffer time and prior value and takes the new value,
   * timestamp and headers.
   */
  put(key: Uint8Array, bufferTimeMs: number, newValue: Uint8Array | null, oldValue: Uint8Array | null, timestamp: number, headers: readonly RecordHeader[]): void {
    if (!Number.isSafeInteger(bufferTimeMs) || bufferTimeMs < 0) throw new Error(`invariant: a suppression buffer time must be a non-negative safe integer, got ${bufferTimeMs}`);
    const indexKey = prefixed(INDEX, key);
    const held = this.store.get(indexKey);
    let size = this.size();
    let entry: BufferedEntry;
    if (held === undefined) {
      entry = { key, bufferTimeMs, newValue, priorValue: oldValue, timestamp, headers };
      this.store.put(indexKey, timeBytes(bufferTimeMs));
      size = { records: size.records + 1, bytes: size.bytes };
    } else {
      const heldTimeMs = readInt64BE(held, 0);
      const previous = this.store.get(entryKey(heldTimeMs, key));
      if (previous === undefined) throw new Error(`invariant: a suppression buffer's index names an entry at ${heldTimeMs} that is missing`);
      const decoded = decodeEntry(key, heldTimeMs, previous);
      entry = { key, bufferTimeMs: heldTimeMs, newValue, priorValue: decoded.priorValue, timestamp, headers };
      size = { records: size.records, bytes: size.bytes - entryBytes(key, previous) };
    }
    const value = encodeEntry(entry);
    this.store.put(entryKey(entry.bufferTimeMs, key), value);
    this.setMeta({ records: size.records, bytes: size.bytes + entryBytes(key, value) }, this.emittedThroughMs());
  }

  /** The held entries, oldest buffer time first, while `take(entry)` says so; they are removed. */
  evictWhile(take: (entry: BufferedEntry, size: BufferSize) => boolean): BufferedEntry[] {
    const evicted: BufferedEntry[] = [];
    let size = this.size();
    if (size.records === 0) return evicted;
    for (const [storeKey, value] of this.store.prefixScan(ENTRY_PREFIX)) {
      const bufferTimeMs = readInt64BE(storeKey, 1);
      const key = storeKey.subarray(1 + TIME_BYTES);
      const entry = decodeEntry(key, bufferTimeMs, value);
      if (!take(entry, size)) break;
      evicted.push(entry);
      size = { records: size.records - 1, bytes: size.bytes - entryBytes(key, value) };
    }
    for (const entry of evicted) {
      this.store.delete(entryKey(entry.bufferTimeMs, entry.key));
      this.store.delete(prefixed(INDEX, entry.key));
    }
    if (evicted.length > 0) this.setMeta(size, this.emittedThroughMs());
    return evicted;
  }

  private setMeta(size: BufferSize, emittedThroughMs: number): void {
    const bytes = new Uint8Array(3 * TIME_BYTES);
    writeInt64BE(bytes, 0, size.records);
    writeInt64BE(bytes, TIME_BYTES, size.bytes);
    writeInt64BE(bytes, 2 * TIME_BYTES, emittedThroughMs);
    this.store.put(META_KEY, bytes);
  }
}

/** The spec of a suppression buffer's store: bytes keys and values in the layout `SuppressionBuffer` documents. */
export function suppressionBufferStoreSpec(name: string, logged: boolean, changelogConfig: Readonly<Record<string, string>>): KeyValueStoreSpec {
  return { name, kind: 'keyValue', keySerde: bytesSerde as Serde<unknown>, valueSerde: bytesSerde as Serde<unknown>, logged, cached: false, changelogConfig, internal: true };
}

/** What an entry counts for against `maxBytes`: its key and its value as stored. */
function entryBytes(key: Uint8Array, value: Uint8Array): number {
  return key.length + value.length;
}

function prefixed(tag: number, key: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(1 + key.length);
  bytes[0] = tag;
  bytes.set(key, 1);
  return bytes;
}

function entryKey(bufferTimeMs: number, key: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(1 + TIME_BYTES + key.length);
  bytes[0] = ENTRY;
  writeInt64BE(bytes, 1, bufferTimeMs);
  bytes.set(key, 1 + TIME_BYTES);
  return bytes;
}

function timeBytes(timeMs: number): Uint8Array {
  const bytes = new Uint8Array(TIME_BYTES);
  writeInt64BE(bytes, 0, timeMs);
  return bytes;
}

function encodeEntry(entry: BufferedEntry): Uint8Array {
  const headers = entry.headers.map((h) => ({ key: encoder.encode(h.key), value: h.value }));
  let length = TIME_BYTES + 4 + (entry.newValue?.length ?? 0) + 4 + (entry.priorValue?.length ?? 0) + 4;
  for (const h of headers) length += 4 + h.key.length + 4 + (h.value?.length ?? 0);
  const bytes = new Uint8Array(length);
  const view = new DataView(bytes.buffer);
  writeInt64BE(bytes, 0, entry.timestamp);
  let at = TIME_BYTES;
  const put = (part: Uint8Array | null): void => {
    view.setInt32(at, part === null ? NULL_LENGTH : part.length);
    at += 4;
    if (part === null) return;
    bytes.set(part, at);
    at += part.length;
  };
  put(entry.newValue);
  put(entry.priorValue);
  view.setInt32(at, headers.length);
  at += 4;
  for (const h of headers) {
    put(h.key);
    put(h.value);
  }
  return bytes;
}

function decodeEntry(key: Uint8Array, bufferTimeMs: number, bytes: Uint8Array): BufferedEntry {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = TIME_BYTES;
  const take = (): Uint8Array | null => {
    const length = view.getInt32(at);
    at += 4;
    if (length === NULL_LENGTH) return null;
    if (length < 0 || at + length > bytes.length) throw new Error(`invariant: a suppression buffer entry has a part of ${length} bytes at ${at} of ${bytes.length}`);
    const part = bytes.slice(at, at + length);
    at += length;
    return part;
  };
  const timestamp = readInt64BE(bytes, 0);
  const newValue = take();
  const priorValue = take();
  const headerCount = view.getInt32(at);
  at += 4;
  const headers: RecordHeader[] = [];
  for (let i = 0; i < headerCount; i++) {
    const headerKey = take();
    if (headerKey === null) throw new Error('invariant: a suppression buffer entry has a header without a key');
    headers.push({ key: decoder.decode(headerKey), value: take() });
  }
  return { key, bufferTimeMs, newValue, priorValue, timestamp, headers };
}
