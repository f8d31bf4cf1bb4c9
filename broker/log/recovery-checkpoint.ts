import { KafkaError } from '../../sdk/protocol/kafka-error.ts';
import { readFileIfExists, writeFileAtomic } from './atomic-file.ts';
import type { FileSystem } from './file-system.ts';

/**
 * Kafka's offset checkpoint file (`recovery-point-offset-checkpoint`), text:
 *
 *   0                      format version
 *   <count>                number of entries
 *   <topic> <partition> <offset>   one line per partition
 *
 * Keys in memory are partition directory names (`<topic>-<partition>`); topic names never contain
 * spaces, and the partition is the part after the last '-'.
 */
const VERSION = 0;

function malformed(path: string, reason: string): KafkaError {
  return new KafkaError('KAFKA_STORAGE_ERROR', `checkpoint ${path} is malformed: ${reason}`);
}

function isNonNegativeInteger(text: string): boolean {
  return /^\d+$/.test(text) && Number.isSafeInteger(Number(text));
}

/** The entries of the checkpoint at `path`; empty if the file does not exist. */
export async function readCheckpoint(fs: FileSystem, path: string): Promise<Map<string, number>> {
  const entries = new Map<string, number>();
  const bytes = await readFileIfExists(fs, path);
  if (bytes === undefined) return entries;
  const lines = new TextDecoder().decode(bytes).split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines[0] !== String(VERSION)) throw malformed(path, `unsupported version ${JSON.stringify(lines[0])}`);
  const countText = lines[1] ?? '';
  if (!isNonNegativeInteger(countText)) throw malformed(path, `bad entry count ${JSON.stringify(countText)}`);
  const count = Number(countText);
  if (lines.length !== count + 2) throw malformed(path, `expected ${count} entries, found ${lines.length - 2}`);
  for (const line of lines.slice(2)) {
    const fields = line.split(' ');
    const [topic, partition, offset] = fields;
    if (fields.length !== 3 || !topic || !isNonNegativeInteger(partition ?? '') || !isNonNegativeInteger(offset ?? '')) {
      throw malformed(path, `bad entry ${JSON.stringify(line)}`);
    }
    entries.set(`${topic}-${partition}`, Number(offset));
  }
  return entries;
}

/** Replaces the checkpoint at `path` atomically (temp file, fsync, rename, fsync directory). */
export async function writeCheckpoint(fs: FileSystem, path: string, entries: Map<string, number>): Promise<void> {
  let text = `${VERSION}\n${entries.size}\n`;
  for (const [dirName, offset] of entries) {
    const dash = dirName.lastIndexOf('-');
    if (dash <= 0 || !isNonNegativeInteger(dirName.slice(dash + 1))) {
      throw new Error(`checkpoint key ${JSON.stringify(dirName)} is not a <topic>-<partition> directory name`);
    }
    text += `${dirName.slice(0, dash)} ${dirName.slice(dash + 1)} ${offset}\n`;
  }
  return writeFileAtomic(fs, path, new TextEncoder().encode(text));
}
