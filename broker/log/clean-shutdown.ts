import { join } from 'node:path';
import { writeFileSynced } from './atomic-file.ts';
import type { FileSystem } from './file-system.ts';

/**
 * The clean-shutdown marker (Kafka's `.kafka_cleanshutdown`): an empty file a broker writes in its
 * data directory as the last step of a close that flushed every partition and wrote the recovery
 * checkpoint. An open takes it away, durably, before it opens a log, so the marker's presence means
 * nothing was written since that close.
 */
const CLEAN_SHUTDOWN_FILE = '.kafka_cleanshutdown';

export async function markCleanShutdown(fs: FileSystem, dataDir: string): Promise<void> {
  await writeFileSynced(fs, join(dataDir, CLEAN_SHUTDOWN_FILE), new Uint8Array(0));
  await fs.fsyncDir(dataDir);
}

/** Whether the previous run closed `dataDir` cleanly; removes the marker (durably) if so. */
export async function takeCleanShutdownMarker(fs: FileSystem, dataDir: string): Promise<boolean> {
  const path = join(dataDir, CLEAN_SHUTDOWN_FILE);
  if (!(await fs.exists(path))) return false;
  await fs.unlink(path);
  await fs.fsyncDir(dataDir);
  return true;
}
