import { dirname } from 'node:path';
import type { FileSystem } from './file-system.ts';

/**
 * Replaces `path` with `bytes` so that a crash leaves either the old or the new content: write a
 * temp file, fsync it, rename it over the target, fsync the directory so the rename is durable.
 */
export async function writeFileAtomic(fs: FileSystem, path: string, bytes: Uint8Array): Promise<void> {
  const tempPath = `${path}.tmp`;
  await writeFileSynced(fs, tempPath, bytes);
  await fs.rename(tempPath, path);
  await fs.fsyncDir(dirname(path));
}

/** Writes `bytes` as the whole of `path` (created or truncated) and fsyncs it; no rename, so a crash may leave it torn. */
export async function writeFileSynced(fs: FileSystem, path: string, bytes: Uint8Array): Promise<void> {
  const fd = fs.openSync(path, 'create');
  try {
    fs.writeSync(fd, bytes, 0);
    await fs.fsync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** The whole content of `path`, or `undefined` if it does not exist. */
export async function readFileIfExists(fs: FileSystem, path: string): Promise<Uint8Array | undefined> {
  if (!(await fs.exists(path))) return undefined;
  const fd = fs.openSync(path, 'read');
  try {
    const bytes = new Uint8Array(fs.fileSizeSync(fd));
    const n = fs.readSync(fd, bytes, 0);
    return bytes.subarray(0, n);
  } finally {
    fs.closeSync(fd);
  }
}
