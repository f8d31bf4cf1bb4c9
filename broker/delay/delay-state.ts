import { join } from 'node:path';
import { KafkaError } from '../../sdk/protocol/kafka-error.ts';
import { readFileIfExists } from '../log/atomic-file.ts';
import { crc32c } from '../../sdk/record/crc32c.ts';
import type { FileSystem } from '../log/file-system.ts';
import type { DelayKey } from './delay-index.ts';

/** The two slot files the state alternates between: `<dataDir>/delayed-delivery-state.0` and `.1`. */
export const DELAY_STATE_FILES = ['delayed-delivery-state.0', 'delayed-delivery-state.1'] as const;
const SLOT_HEADER_BYTES = 8;

/**
 * The scheduler's durable state, written before every move into one of two slot files in turn,
 * in place (no truncate, no rename: one fsync a move). A slot is `[uint32 length][uint32 crc32c of
 * the JSON][JSON]` followed by whatever a longer earlier write left; the newest slot whose length
 * and checksum hold wins, so a write torn by a crash leaves the other, the state before it. JSON:
 * `{ "version": 1, "writes": n, "producerId": n, "moved": {dueMs, offset} | null,
 *    "nextSequence": [[topic, partition, seq], ...], "moving": {dueMs, offset} | null,
 *    "placedBelow": offset | null }`; `writes` counts the saves (slot = writes % 2).
 * `moved`: every delay log record at or below this key is in its partition. `moving`: the move
 * in progress, the records in (moved, moving], written with the scheduler's idempotent producer
 * id at the sequences `nextSequence` gives; after a crash it is written again, and the partitions
 * answer what already arrived as duplicates. `placedBelow`: every delay log record below this
 * offset has its placeholder fsynced in its partition; a restart checks the placeholders of the
 * records from here on (null: of every record in the delay log).
 */
export interface DelayState {
  producerId: number;
  moved: DelayKey | undefined;
  nextSequence: Map<string, number>;
  moving: DelayKey | undefined;
  placedBelow: number | undefined;
  /** Saves so far; the next goes to slot `writes % 2`. */
  writes: number;
}

/** The key `nextSequence` uses for a partition. */
export function partitionKey(topic: string, partition: number): string {
  return `${partition}:${topic}`;
}

function parseKey(value: unknown): DelayKey | undefined {
  if (value === null || value === undefined) return undefined;
  const key = value as { dueMs?: unknown; offset?: unknown };
  if (typeof key.dueMs !== 'number' || typeof key.offset !== 'number') throw new Error('not a key');
  return { dueMs: key.dueMs, offset: key.offset };
}

function parseState(bytes: Uint8Array): DelayState {
  if (bytes.length < SLOT_HEADER_BYTES) throw new Error('shorter than its header');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = dv.getUint32(0);
  if (SLOT_HEADER_BYTES + length > bytes.length) throw new Error('shorter than its length');
  if (crc32c(bytes, SLOT_HEADER_BYTES, SLOT_HEADER_BYTES + length) !== dv.getUint32(4)) throw new Error('checksum mismatch');
  const json = JSON.parse(new TextDecoder().decode(bytes.subarray(SLOT_HEADER_BYTES, SLOT_HEADER_BYTES + length))) as { [key: string]: unknown };
  if (json['version'] !== 1 || typeof json['producerId'] !== 'number' || typeof json['writes'] !== 'number' || !Array.isArray(json['nextSequence'])) {
    throw new Error('missing fields');
  }
  const nextSequence = new Map<string, number>();
  for (const entry of json['nextSequence'] as unknown[]) {
    const [topic, partition, seq] = entry as [unknown, unknown, unknown];
    if (typeof topic !== 'string' || typeof partition !== 'number' || typeof seq !== 'number') throw new Error('bad sequence entry');
    nextSequence.set(partitionKey(topic, partition), seq);
  }
  const placedBelow = json['placedBelow'];
  if (placedBelow !== null && typeof placedBelow !== 'number') throw new Error('bad placedBelow');
  return {
    producerId: json['producerId'],
    moved: parseKey(json['moved']),
    nextSequence,
    moving: parseKey(json['moving']),
    placedBelow: placedBelow ?? undefined,
    writes: json['writes'],
  };
}

/** The newest valid slot's state; undefined when neither slot file exists. */
export async function loadDelayState(fs: FileSystem, dataDir: string): Promise<DelayState | undefined> {
  let newest: DelayState | undefined;
  const problems: string[] = [];
  for (const name of DELAY_STATE_FILES) {
    const bytes = await readFileIfExists(fs, join(dataDir, name));
    if (bytes === undefined) continue;
    try {
      const state = parseState(bytes);
      if (newest === undefined || state.writes > newest.writes) newest = state;
    } catch (error) {
      problems.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (newest === undefined && problems.length > 0) {
    throw new KafkaError('KAFKA_STORAGE_ERROR', `delayed delivery state in ${dataDir} is unreadable (${problems.join('; ')}); refusing to guess which delayed records were delivered`);
  }
  return newest;
}

/** Writes `state` as save number `state.writes + 1` into its slot and fsyncs it; answers that number. */
export async function saveDelayState(fs: FileSystem, dataDir: string, state: DelayState): Promise<number> {
  const writes = state.writes + 1;
  const nextSequence = [...state.nextSequence].map(([key, seq]) => {
    const colon = key.indexOf(':');
    return [key.slice(colon + 1), Number(key.slice(0, colon)), seq];
  });
  const json = { version: 1, writes, producerId: state.producerId, moved: state.moved ?? null, nextSequence, moving: state.moving ?? null, placedBelow: state.placedBelow ?? null };
  const body = new TextEncoder().encode(JSON.stringify(json));
  const bytes = new Uint8Array(SLOT_HEADER_BYTES + body.length);
  const dv = new DataView(bytes.buffer);
  dv.setUint32(0, body.length);
  dv.setUint32(4, crc32c(body));
  bytes.set(body, SLOT_HEADER_BYTES);
  const path = join(dataDir, DELAY_STATE_FILES[writes % 2]!);
  const created = !(await fs.exists(path));
  const fd = fs.openSync(path, created ? 'create' : 'readWrite');
  try {
    fs.writeSync(fd, bytes, 0);
    await fs.fsync(fd);
  } finally {
    fs.closeSync(fd);
  }
  if (created) await fs.fsyncDir(dataDir);
  return writes;
}
