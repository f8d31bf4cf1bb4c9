import { join } from 'node:path';
import { KafkaError } from '../../sdk/protocol/kafka-error.ts';
import { readFileIfExists, writeFileAtomic } from '../log/atomic-file.ts';
import type { FileSystem } from '../log/file-system.ts';
import type { DelayKey } from './delay-index.ts';

export const DELAY_STATE_FILE = 'delayed-delivery-state.json';

/**
 * The scheduler's durable state, `<dataDir>/delayed-delivery-state.json`, replaced atomically
 * before every move (JSON):
 * `{ "version": 1, "producerId": n, "moved": {dueMs, offset} | null, "nextSequence": [[topic, partition, seq], ...],
 *    "moving": {dueMs, offset} | null, "placedBelow": offset | null }`.
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

export async function loadDelayState(fs: FileSystem, dataDir: string): Promise<DelayState | undefined> {
  const path = join(dataDir, DELAY_STATE_FILE);
  const bytes = await readFileIfExists(fs, path);
  if (bytes === undefined) return undefined;
  try {
    const json = JSON.parse(new TextDecoder().decode(bytes)) as { [key: string]: unknown };
    if (json['version'] !== 1 || typeof json['producerId'] !== 'number' || !Array.isArray(json['nextSequence'])) throw new Error('missing fields');
    const nextSequence = new Map<string, number>();
    for (const entry of json['nextSequence'] as unknown[]) {
      const [topic, partition, seq] = entry as [unknown, unknown, unknown];
      if (typeof topic !== 'string' || typeof partition !== 'number' || typeof seq !== 'number') throw new Error('bad sequence entry');
      nextSequence.set(partitionKey(topic, partition), seq);
    }
    const placedBelow = json['placedBelow'];
    if (placedBelow !== undefined && placedBelow !== null && typeof placedBelow !== 'number') throw new Error('bad placedBelow');
    return { producerId: json['producerId'], moved: parseKey(json['moved']), nextSequence, moving: parseKey(json['moving']), placedBelow: placedBelow ?? undefined };
  } catch (error) {
    throw new KafkaError('KAFKA_STORAGE_ERROR', `${path} is unreadable (${error instanceof Error ? error.message : String(error)}); refusing to guess which delayed records were delivered`);
  }
}

export function saveDelayState(fs: FileSystem, dataDir: string, state: DelayState): Promise<void> {
  const nextSequence = [...state.nextSequence].map(([key, seq]) => {
    const colon = key.indexOf(':');
    return [key.slice(colon + 1), Number(key.slice(0, colon)), seq];
  });
  const json = { version: 1, producerId: state.producerId, moved: state.moved ?? null, nextSequence, moving: state.moving ?? null, placedBelow: state.placedBelow ?? null };
  return writeFileAtomic(fs, join(dataDir, DELAY_STATE_FILE), new TextEncoder().encode(JSON.stringify(json)));
}
