import { Buffer } from 'node:buffer';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Reader } from '../../sdk/protocol/reader.ts';
import { Writer } from '../../sdk/protocol/writer.ts';
import { crc32c } from '../../sdk/record/crc32c.ts';
import { ArraySnapshot } from './array-snapshot.ts';
import { type BinaryString, writeBinary } from './binary-string.ts';
import type { StoreSnapshot } from './task-store.ts';

/**
 * A store snapshot file. All integers big-endian:
 *
 *   magic            4 bytes  "RSNP"
 *   version          int16    1
 *   changelog topic  16 bytes the changelog topic's id (a recreated topic has a new one)
 *   partition        int32    the changelog partition
 *   changelog offset int64    the state covers the changelog up to here: restore replays from it
 *   entry count      int64
 *   entries          per entry: key length uint32, key bytes, value length uint32, value bytes,
 *                    keys strictly ascending in byte order
 *   crc              uint32   CRC-32C (Castagnoli) of every byte before it
 *
 * Written to `<path>.tmp`, fsynced, renamed over `<path>`, directory fsynced: a crash leaves the
 * old file or the new one, and a torn or damaged one fails the CRC on load.
 */
const MAGIC = [0x52, 0x53, 0x4e, 0x50] as const;
const VERSION = 1;
const HEADER_BYTES = 4 + 2 + 16 + 4 + 8 + 8;
const CRC_BYTES = 4;
/** Bytes encoded between two writes: bounds how long a snapshot write holds the event loop (a few ms). */
const DEFAULT_CHUNK_BYTES = 64 << 10;
/** Entries decoded, and bytes checksummed, between two yields to the event loop while reading. */
const LOAD_ENTRIES_PER_TURN = 1 << 15;
const CRC_BYTES_PER_TURN = 8 << 20;

/** Which changelog partition a snapshot covers; a file naming another is not this store's. */
export interface SnapshotIdentity {
  /** The changelog topic's id, as the admin client reports it (8-4-4-4-12 hex). */
  readonly changelogTopicId: string;
  readonly partition: number;
}

export interface SnapshotWriteOptions {
  chunkBytes?: number;
}

/** Writes `snapshot` to `path` atomically, yielding to the event loop between chunks; returns the file's size. */
export async function writeSnapshotFile(path: string, identity: SnapshotIdentity, snapshot: StoreSnapshot, options: SnapshotWriteOptions = {}): Promise<number> {
  const tempPath = `${path}.tmp`;
  const handle = await open(tempPath, 'w');
  let sizeBytes = 0;
  try {
    const chunk = new Uint8Array(Math.max(options.chunkBytes ?? DEFAULT_CHUNK_BYTES, HEADER_BYTES + CRC_BYTES));
    const view = new DataView(chunk.buffer);
    let used = 0;
    let position = 0;
    let crc = 0;
    const emit = async (bytes: Uint8Array, length: number): Promise<void> => {
      crc = crc32c(bytes, 0, length, crc);
      for (let done = 0; done < length; ) {
        const { bytesWritten } = await handle.write(bytes, done, length - done, position + done);
        if (bytesWritten <= 0) throw new Error(`short write to ${tempPath}`);
        done += bytesWritten;
      }
      position += length;
    };
    chunk.set(encodeHeader(identity, snapshot));
    used = HEADER_BYTES;
    let count = 0;
    for (const [key, value] of snapshot.entries()) {
      const entryBytes = 8 + key.length + value.length;
      if (used + entryBytes > chunk.length) {
        await emit(chunk, used);
        used = 0;
        if (entryBytes > chunk.length) {
          await emit(encodeEntry(key, value), entryBytes);
          count++;
          continue;
        }
      }
      view.setUint32(used, key.length);
      used = writeBinary(key, chunk, used + 4);
      view.setUint32(used, value.length);
      used = writeBinary(value, chunk, used + 4);
      count++;
    }
    if (count !== snapshot.entryCount) throw new Error(`invariant: a snapshot announced ${snapshot.entryCount} entries and iterated ${count}`);
    if (used + CRC_BYTES > chunk.length) {
      await emit(chunk, used);
      used = 0;
    }
    await emit(chunk, used);
    const trailer = new Uint8Array(CRC_BYTES);
    new DataView(trailer.buffer).setUint32(0, crc);
    await emit(trailer, CRC_BYTES);
    sizeBytes = position;
    await handle.sync();
    await handle.close();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(tempPath).catch(() => undefined);
    throw error;
  }
  await rename(tempPath, path);
  await fsyncDirectory(dirname(path));
  return sizeBytes;
}

function encodeHeader(identity: SnapshotIdentity, snapshot: StoreSnapshot): Uint8Array {
  const writer = new Writer(HEADER_BYTES);
  writer.writeRaw(Uint8Array.from(MAGIC));
  writer.writeInt16(VERSION);
  writer.writeUuid(identity.changelogTopicId);
  writer.writeInt32(identity.partition);
  writer.writeInt64(BigInt(snapshot.changelogOffset));
  writer.writeInt64(BigInt(snapshot.entryCount));
  return writer.finish();
}

function encodeEntry(key: BinaryString, value: BinaryString): Uint8Array {
  const bytes = new Uint8Array(8 + key.length + value.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, key.length);
  const at = writeBinary(key, bytes, 4);
  view.setUint32(at, value.length);
  writeBinary(value, bytes, at + 4);
  return bytes;
}

async function fsyncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** A snapshot read back from a file that passed every check. */
export class LoadedSnapshot extends ArraySnapshot {
  constructor(
    readonly identity: SnapshotIdentity,
    readonly sizeBytes: number,
    changelogOffset: number,
    keys: readonly BinaryString[],
    values: readonly BinaryString[],
  ) {
    super(changelogOffset, keys, values);
  }
}

/** The snapshot in a file, or why the file cannot be used (the caller falls back to an older snapshot or a full replay). */
export type SnapshotRead = { readonly snapshot: LoadedSnapshot; readonly rejected?: undefined } | { readonly snapshot?: undefined; readonly rejected: string };

/**
 * Reads and validates a snapshot file: structure, CRC, that it names `expected`'s changelog
 * partition, and key order. Checking and decoding yield to the event loop every few milliseconds.
 */
export async function readSnapshotFile(path: string, expected: SnapshotIdentity): Promise<SnapshotRead> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    return { rejected: `cannot be read: ${(error as Error).message}` };
  }
  if (bytes.length < HEADER_BYTES + CRC_BYTES) return { rejected: `truncated: ${bytes.length} bytes, a snapshot has at least ${HEADER_BYTES + CRC_BYTES}` };
  if (MAGIC.some((byte, i) => bytes[i] !== byte)) return { rejected: 'not a snapshot file (bad magic)' };
  const reader = new Reader(bytes, MAGIC.length, HEADER_BYTES);
  const version = reader.readInt16();
  if (version !== VERSION) return { rejected: `unsupported snapshot version ${version}` };
  const crcAt = bytes.length - CRC_BYTES;
  let crc = 0;
  for (let at = 0; at < crcAt; at += CRC_BYTES_PER_TURN) {
    if (at > 0) await nextTurn();
    crc = crc32c(bytes, at, Math.min(crcAt, at + CRC_BYTES_PER_TURN), crc);
  }
  const stored = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(crcAt);
  if (crc !== stored) return { rejected: `CRC mismatch (stored ${stored}, computed ${crc}): the file is torn or damaged` };
  const changelogTopicId = reader.readUuid();
  const partition = reader.readInt32();
  if (changelogTopicId !== expected.changelogTopicId) return { rejected: `covers changelog topic id ${changelogTopicId}, the changelog's id is ${expected.changelogTopicId} (the topic was recreated)` };
  if (partition !== expected.partition) return { rejected: `covers changelog partition ${partition}, expected ${expected.partition}` };
  const changelogOffset = reader.readInt64();
  const entryCount = reader.readInt64();
  if (changelogOffset < 0n || changelogOffset > BigInt(Number.MAX_SAFE_INTEGER)) return { rejected: `bad changelog offset ${changelogOffset}` };
  if (entryCount < 0n || entryCount > BigInt(Math.floor((crcAt - HEADER_BYTES) / 8))) return { rejected: `entry count ${entryCount} cannot fit in ${bytes.length} bytes` };
  const decoded = await decodeEntries(bytes, HEADER_BYTES, crcAt, Number(entryCount));
  if (typeof decoded === 'string') return { rejected: decoded };
  return { snapshot: new LoadedSnapshot({ changelogTopicId, partition }, bytes.length, Number(changelogOffset), decoded.keys, decoded.values) };
}

/**
 * The entries between `start` and `end`, or why they are malformed. Buffer's latin1 decoding maps
 * each byte to one char natively: 2-5 times String.fromCharCode over a subarray (Node, Bun, Deno).
 */
async function decodeEntries(bytes: Uint8Array, start: number, end: number, count: number): Promise<{ keys: BinaryString[]; values: BinaryString[] } | string> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const keys: BinaryString[] = [];
  const values: BinaryString[] = [];
  let at = start;
  let previous: BinaryString | undefined;
  for (let i = 0; i < count; i++) {
    if (i > 0 && i % LOAD_ENTRIES_PER_TURN === 0) await nextTurn();
    if (end - at < 4) return `entry ${i} of ${count} is cut off at byte ${at}`;
    const keyLength = view.getUint32(at);
    if (end - at - 4 < keyLength + 4) return `entry ${i} of ${count}: its key of ${keyLength} bytes runs past the end`;
    const key = text.toString('latin1', at + 4, at + 4 + keyLength);
    at += 4 + keyLength;
    const valueLength = view.getUint32(at);
    if (end - at - 4 < valueLength) return `entry ${i} of ${count}: its value of ${valueLength} bytes runs past the end`;
    const value = text.toString('latin1', at + 4, at + 4 + valueLength);
    at += 4 + valueLength;
    if (previous !== undefined && key <= previous) return `entry ${i} of ${count}: keys are not in ascending order`;
    keys.push(key);
    values.push(value);
    previous = key;
  }
  if (at !== end) return `${end - at} bytes after the last of ${count} entries`;
  return { keys, values };
}
