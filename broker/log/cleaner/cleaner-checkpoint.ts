import { join } from 'node:path';
import { readFileIfExists, writeFileAtomic } from '../atomic-file.ts';
import type { FileSystem } from '../file-system.ts';

export const CLEANER_CHECKPOINT_FILE = 'cleaner-checkpoint';
const VERSION = 0;

/**
 * What the cleaner has done to one partition, `<partition dir>/cleaner-checkpoint`, text:
 *
 *   0                     format version
 *   <firstDirtyOffset>
 *   <cleanedBelowOffset>
 *
 * Replaced atomically (temp file, fsync, rename, fsync directory). It lives in the partition
 * directory so it goes with the partition when its topic is deleted.
 */
export interface CleanerCheckpoint {
  /**
   * Where the next pass's dirty section starts (Kafka's `cleaner-offset-checkpoint` entry). Written
   * after a pass's swaps, so a crash can only leave it behind the truth, which costs a re-clean.
   */
  firstDirtyOffset: number;
  /**
   * Segments whose base offset lies below it may have been rewritten by the cleaner, so recovery
   * accepts offset gaps in them and nowhere else. Written before a pass swaps anything in, so it is
   * never behind the segments on disk; it only grows.
   */
  cleanedBelowOffset: number;
}

export const NEVER_CLEANED: Readonly<CleanerCheckpoint> = Object.freeze({ firstDirtyOffset: 0, cleanedBelowOffset: 0 });

/**
 * A damaged checkpoint (it is written atomically, so only a damaged disk or a hand edit makes one)
 * says nothing: a full re-clean, and gaps accepted in every segment rather than cut as corruption.
 */
const UNKNOWN: Readonly<CleanerCheckpoint> = Object.freeze({ firstDirtyOffset: 0, cleanedBelowOffset: Number.MAX_SAFE_INTEGER });

function offsetLine(line: string | undefined): number | undefined {
  return line !== undefined && /^\d+$/.test(line) && Number.isSafeInteger(Number(line)) ? Number(line) : undefined;
}

export async function readCleanerCheckpoint(fs: FileSystem, dir: string): Promise<CleanerCheckpoint> {
  const bytes = await readFileIfExists(fs, join(dir, CLEANER_CHECKPOINT_FILE));
  if (bytes === undefined) return NEVER_CLEANED;
  const lines = new TextDecoder().decode(bytes).split('\n');
  const firstDirtyOffset = offsetLine(lines[1]);
  const cleanedBelowOffset = offsetLine(lines[2]);
  if (lines[0] !== String(VERSION) || firstDirtyOffset === undefined || cleanedBelowOffset === undefined) return UNKNOWN;
  return { firstDirtyOffset, cleanedBelowOffset };
}

export function writeCleanerCheckpoint(fs: FileSystem, dir: string, checkpoint: CleanerCheckpoint): Promise<void> {
  if (!Number.isSafeInteger(checkpoint.firstDirtyOffset) || !Number.isSafeInteger(checkpoint.cleanedBelowOffset)) {
    throw new Error(`invariant broken: cleaner checkpoint offsets must be integers, got ${JSON.stringify(checkpoint)}`);
  }
  const text = `${VERSION}\n${checkpoint.firstDirtyOffset}\n${checkpoint.cleanedBelowOffset}\n`;
  return writeFileAtomic(fs, join(dir, CLEANER_CHECKPOINT_FILE), new TextEncoder().encode(text));
}
