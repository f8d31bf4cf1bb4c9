import { join } from 'node:path';
import { KafkaError } from '../../sdk/protocol/kafka-error.ts';
import { readFileIfExists, writeFileAtomic } from '../log/atomic-file.ts';
import type { FileSystem } from '../log/file-system.ts';

/**
 * The topic catalogue of a data directory, `topics.json`:
 *
 *   { "version": 1, "topics": [ { "name", "topicId", "createdMs", "partitions", "config": { "<kafka name>": "<value>" } } ] }
 *
 * Written whole and atomically (temp file, fsync, rename, fsync directory) on every topic change,
 * so a crash leaves either the old or the new catalogue, never a mix.
 */
export interface TopicRecord {
  name: string;
  topicId: string;
  createdMs: number;
  partitions: number;
  config: Record<string, string>;
}

const FILE = 'topics.json';
const FORMAT_VERSION = 1;

function corrupt(path: string, reason: string): KafkaError {
  return new KafkaError('KAFKA_STORAGE_ERROR', `topic metadata ${path} is unreadable: ${reason}`);
}

function parseRecord(path: string, value: unknown): TopicRecord {
  const r = value as Partial<TopicRecord> | null;
  const valid =
    r !== null &&
    typeof r === 'object' &&
    typeof r.name === 'string' &&
    typeof r.topicId === 'string' &&
    typeof r.createdMs === 'number' &&
    Number.isInteger(r.partitions) &&
    (r.partitions ?? 0) > 0 &&
    typeof r.config === 'object' &&
    r.config !== null &&
    Object.values(r.config).every((v) => typeof v === 'string');
  if (!valid) throw corrupt(path, `malformed topic entry ${JSON.stringify(value)}`);
  return r as TopicRecord;
}

/** The catalogue, or `undefined` when the data directory has none yet. */
export async function loadTopicMetadata(fs: FileSystem, dataDir: string): Promise<TopicRecord[] | undefined> {
  const path = join(dataDir, FILE);
  const bytes = await readFileIfExists(fs, path);
  if (bytes === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw corrupt(path, (error as Error).message);
  }
  const doc = parsed as { version?: unknown; topics?: unknown };
  if (doc.version !== FORMAT_VERSION) throw corrupt(path, `unsupported format version ${String(doc.version)}`);
  if (!Array.isArray(doc.topics)) throw corrupt(path, '"topics" is not an array');
  return doc.topics.map((t) => parseRecord(path, t));
}

export function saveTopicMetadata(fs: FileSystem, dataDir: string, topics: readonly TopicRecord[]): Promise<void> {
  const doc = { version: FORMAT_VERSION, topics };
  return writeFileAtomic(fs, join(dataDir, FILE), new TextEncoder().encode(`${JSON.stringify(doc, null, 2)}\n`));
}
