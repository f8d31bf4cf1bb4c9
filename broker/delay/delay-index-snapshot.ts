import { join } from 'node:path';
import { readInt64, writeInt64 } from '../../sdk/record/batch-header.ts';
import { crc32c } from '../../sdk/record/crc32c.ts';
import { readFileIfExists, writeFileAtomic } from '../log/atomic-file.ts';
import type { FileSystem } from '../log/file-system.ts';
import type { DelayKey, IndexContents } from './delay-index.ts';

const SNAPSHOT_FILE = 'delayed-delivery-index';
const VERSION = 1;
/** version, log end, moved (flag and key), horizon (flag and key), beyond bound, key count. */
const HEADER_BYTES = 1 + 8 + 17 + 17 + 8 + 4;
const KEY_BYTES = 16;

/** The delay index as a clean close left it, and what it must still match to be installed. */
export interface DelayIndexSnapshot extends IndexContents {
  /** The delay log's end offset at the save: any record appended since would be missing. */
  delayLogEndOffset: number;
  /** The state's last move at the save (delay-state.ts). */
  moved: DelayKey | undefined;
}

/**
 * `<dataDir>/delayed-delivery-index`: the delay index a clean close saves, so the next open installs
 * it instead of reading every batch header of the delay log again (a third of an open with 100,000
 * pending records). A cache: an open trusts it only after the broker's clean-shutdown marker, with
 * the delay log ending where it ended and the state's last move the one saved, and rebuilds
 * otherwise; it is removed as it is read. Big-endian:
 *
 *   version int8 (1) | delay log end offset int64 |
 *   moved: present int8, dueMs int64, offset int64 | horizon: present int8, dueMs int64, offset int64 |
 *   smallest offset beyond the horizon float64 (Infinity: none) | key count int32 |
 *   per key: dueMs int64, offset int64 | crc32c uint32 of everything before it
 */
export async function saveDelayIndexSnapshot(fs: FileSystem, dataDir: string, snapshot: DelayIndexSnapshot): Promise<void> {
  const count = snapshot.keys.length / 2;
  const bytes = new Uint8Array(HEADER_BYTES + count * KEY_BYTES + 4);
  const dv = new DataView(bytes.buffer);
  dv.setInt8(0, VERSION);
  writeInt64(dv, 1, snapshot.delayLogEndOffset);
  writeKey(dv, 9, snapshot.moved);
  writeKey(dv, 26, snapshot.horizon);
  dv.setFloat64(43, snapshot.beyondMinOffset);
  dv.setInt32(51, count);
  for (let i = 0, at = HEADER_BYTES; i < snapshot.keys.length; i++, at += 8) writeInt64(dv, at, snapshot.keys[i]!);
  dv.setUint32(bytes.length - 4, crc32c(bytes, 0, bytes.length - 4));
  await writeFileAtomic(fs, join(dataDir, SNAPSHOT_FILE), bytes);
}

/** The saved snapshot, removed from disk; undefined when there is none or it does not parse. */
export async function takeDelayIndexSnapshot(fs: FileSystem, dataDir: string): Promise<DelayIndexSnapshot | undefined> {
  const path = join(dataDir, SNAPSHOT_FILE);
  const bytes = await readFileIfExists(fs, path);
  if (bytes === undefined) return undefined;
  await fs.unlink(path);
  if (bytes.length < HEADER_BYTES + 4) return undefined;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = dv.getInt32(51);
  if (dv.getInt8(0) !== VERSION || count < 0 || bytes.length !== HEADER_BYTES + count * KEY_BYTES + 4) return undefined;
  if (crc32c(bytes, 0, bytes.length - 4) !== dv.getUint32(bytes.length - 4)) return undefined;
  const keys = new Float64Array(count * 2);
  for (let i = 0, at = HEADER_BYTES; i < keys.length; i++, at += 8) keys[i] = readInt64(dv, at);
  return { delayLogEndOffset: readInt64(dv, 1), moved: readKey(dv, 9), horizon: readKey(dv, 26), beyondMinOffset: dv.getFloat64(43), keys };
}

function writeKey(dv: DataView, at: number, key: DelayKey | undefined): void {
  dv.setInt8(at, key === undefined ? 0 : 1);
  writeInt64(dv, at + 1, key?.dueMs ?? 0);
  writeInt64(dv, at + 9, key?.offset ?? 0);
}

function readKey(dv: DataView, at: number): DelayKey | undefined {
  return dv.getInt8(at) === 0 ? undefined : { dueMs: readInt64(dv, at + 1), offset: readInt64(dv, at + 9) };
}
