import * as nodeFs from 'node:fs';
import { join } from 'node:path';

/**
 * How a file is opened: `read` and `readWrite` need an existing file; `create` creates it, or
 * truncates an existing one, for reading and writing.
 */
export type OpenMode = 'read' | 'readWrite' | 'create';

export interface FileStat {
  sizeBytes: number;
  modifiedMs: number;
  isDirectory: boolean;
}

/**
 * The filesystem the log and the broker see, injected so tests can lose unsynced writes.
 *
 * Descriptor I/O is synchronous: the produce and fetch paths run one write or one read per request
 * and an awaited promise per batch would cost more than the system call. Durability (`fsync`,
 * `fsyncDir`) is asynchronous so a group commit overlaps the appends that arrive meanwhile.
 * Metadata operations run off the hot path and are asynchronous.
 */
export interface FileSystem {
  openSync(path: string, mode: OpenMode): number;
  closeSync(fd: number): void;
  /** Writes all of `bytes` at `position` (pwrite); throws on any error, including a short write. */
  writeSync(fd: number, bytes: Uint8Array, position: number): void;
  /** Reads into `into` from `position` (pread) until it is full or the file ends; returns the count. */
  readSync(fd: number, into: Uint8Array, position: number): number;
  fileSizeSync(fd: number): number;
  truncateSync(fd: number, lengthBytes: number): void;
  fsync(fd: number): Promise<void>;
  /** Makes creations, renames and deletions of entries in directory `path` durable. */
  fsyncDir(path: string): Promise<void>;
  /** Creates the directory and any missing parents; no error if it exists. */
  mkdir(path: string): Promise<void>;
  readdir(path: string): Promise<string[]>;
  exists(path: string): Promise<boolean>;
  isDirectory(path: string): Promise<boolean>;
  stat(path: string): Promise<FileStat>;
  rename(fromPath: string, toPath: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** Removes a directory and everything under it; no error if it does not exist. */
  removeDirectory(path: string): Promise<void>;
}

const openFlags: Record<OpenMode, number> = {
  read: nodeFs.constants.O_RDONLY,
  readWrite: nodeFs.constants.O_RDWR,
  create: nodeFs.constants.O_RDWR | nodeFs.constants.O_CREAT | nodeFs.constants.O_TRUNC,
};

function isMissing(error: unknown): boolean {
  return (error as { code?: string }).code === 'ENOENT';
}

export const nodeFileSystem: FileSystem = {
  openSync: (path, mode) => nodeFs.openSync(path, openFlags[mode], 0o644),
  closeSync: (fd) => nodeFs.closeSync(fd),
  writeSync(fd, bytes, position) {
    let done = 0;
    while (done < bytes.length) {
      const n = nodeFs.writeSync(fd, bytes, done, bytes.length - done, position + done);
      if (n <= 0) throw new Error(`short write: ${done} of ${bytes.length} bytes`);
      done += n;
    }
  },
  readSync(fd, into, position) {
    let done = 0;
    while (done < into.length) {
      const n = nodeFs.readSync(fd, into, done, into.length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  },
  fileSizeSync: (fd) => nodeFs.fstatSync(fd).size,
  truncateSync: (fd, lengthBytes) => nodeFs.ftruncateSync(fd, lengthBytes),
  fsync: (fd) =>
    new Promise((resolve, reject) => {
      nodeFs.fsync(fd, (error) => (error ? reject(error) : resolve()));
    }),
  async fsyncDir(path) {
    const fd = nodeFs.openSync(path, nodeFs.constants.O_RDONLY);
    try {
      await nodeFileSystem.fsync(fd);
    } finally {
      nodeFs.closeSync(fd);
    }
  },
  async mkdir(path) {
    nodeFs.mkdirSync(path, { recursive: true });
  },
  async readdir(path) {
    return nodeFs.readdirSync(path);
  },
  async exists(path) {
    return nodeFs.existsSync(path);
  },
  async isDirectory(path) {
    try {
      return nodeFs.statSync(path).isDirectory();
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
  },
  async stat(path) {
    const s = nodeFs.statSync(path);
    return { sizeBytes: s.size, modifiedMs: s.mtimeMs, isDirectory: s.isDirectory() };
  },
  async rename(fromPath, toPath) {
    nodeFs.renameSync(fromPath, toPath);
  },
  async unlink(path) {
    nodeFs.unlinkSync(path);
  },
  async removeDirectory(path) {
    if (!nodeFs.existsSync(path)) return;
    for (const entry of nodeFs.readdirSync(path)) {
      const child = join(path, entry);
      if (nodeFs.statSync(child).isDirectory()) await nodeFileSystem.removeDirectory(child);
      else nodeFs.unlinkSync(child);
    }
    nodeFs.rmdirSync(path);
  },
};
