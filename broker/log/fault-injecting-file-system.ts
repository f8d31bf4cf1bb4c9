import { dirname } from 'node:path';
import type { FileStat, FileSystem, OpenMode } from './file-system.ts';

/** How to undo one unsynced change to a file: restore its old size and the bytes it overwrote. */
interface UndoRecord {
  seq: number;
  oldSizeBytes: number;
  position: number;
  oldBytes: Uint8Array;
  /** Bytes a write put down (0 for a truncate). */
  writtenBytes: number;
}

interface OpenFile {
  path: string;
  innerFd: number;
}

interface LastWrite {
  seq: number;
  path: string;
  position: number;
  bytes: Uint8Array;
}

export interface CrashOptions {
  /** Keep this many leading bytes of the most recent unsynced write (a torn write); default none. */
  tearLastWriteAtByte?: number;
}

/**
 * A FileSystem wrapper for tests that models what survives a power loss. Every write and truncate
 * since a file's last completed fsync is recorded with the bytes it replaced; `crash()` rolls them
 * all back (optionally keeping a prefix of the very last write), removes files created since their
 * directory's last fsyncDir, and invalidates every descriptor, as if the process died. Renames and
 * unlinks are treated as immediately durable. Fsync does not reach the disk (the model is the
 * durability) and completes on a later macrotask, so appends interleave with it as with a real one.
 */
export class FaultInjectingFileSystem implements FileSystem {
  private readonly files = new Map<number, OpenFile>();
  private readonly undo = new Map<string, UndoRecord[]>();
  /** Paths created since their directory's last fsyncDir. */
  private readonly unsyncedCreations = new Set<string>();
  private readonly fsyncFailures: Array<(path: string) => boolean> = [];
  private lastWrite: LastWrite | undefined;
  private seq = 0;
  private nextFd = 1000;
  private epoch = 0;
  /** Every fsync and fsyncDir call, by path, in order. */
  readonly fsyncCalls: string[] = [];

  constructor(private readonly inner: FileSystem) {}

  /** Makes the next fsync (or fsyncDir) of a path matching `pathPredicate` fail with EIO. */
  failNextFsync(pathPredicate: (path: string) => boolean = () => true): void {
    this.fsyncFailures.push(pathPredicate);
  }

  /** Bytes written to `path` that a crash would lose. */
  unsyncedBytes(path: string): number {
    let total = 0;
    for (const record of this.undo.get(path) ?? []) total += record.writtenBytes;
    return total;
  }

  /** Simulates power loss: drops every unsynced change and closes every descriptor. */
  crash(options: CrashOptions = {}): void {
    const torn = options.tearLastWriteAtByte !== undefined ? this.lastWrite : undefined;
    const tornStillUnsynced = torn !== undefined && (this.undo.get(torn.path) ?? []).some((r) => r.seq === torn.seq);
    for (const file of this.files.values()) this.inner.closeSync(file.innerFd);
    this.files.clear();
    this.epoch++;
    for (const [path, records] of this.undo) {
      const fd = this.inner.openSync(path, 'readWrite');
      try {
        for (const record of records.reverse()) {
          this.inner.truncateSync(fd, record.oldSizeBytes);
          if (record.oldBytes.length > 0) this.inner.writeSync(fd, record.oldBytes, record.position);
        }
        if (tornStillUnsynced && torn.path === path) {
          this.inner.writeSync(fd, torn.bytes.subarray(0, Math.min(options.tearLastWriteAtByte!, torn.bytes.length)), torn.position);
        }
      } finally {
        this.inner.closeSync(fd);
      }
    }
    this.undo.clear();
    this.lastWrite = undefined;
    for (const path of this.unsyncedCreations) void this.inner.unlink(path).catch(() => undefined);
    this.unsyncedCreations.clear();
  }

  openSync(path: string, mode: OpenMode): number {
    let innerFd: number;
    if (mode === 'create') {
      try {
        innerFd = this.inner.openSync(path, 'readWrite');
        const fd = this.register(path, innerFd);
        this.truncateSync(fd, 0);
        return fd;
      } catch (error) {
        if ((error as { code?: string }).code !== 'ENOENT') throw error;
      }
      innerFd = this.inner.openSync(path, 'create');
      this.unsyncedCreations.add(path);
    } else {
      innerFd = this.inner.openSync(path, mode);
    }
    return this.register(path, innerFd);
  }

  private register(path: string, innerFd: number): number {
    const fd = this.nextFd++;
    this.files.set(fd, { path, innerFd });
    return fd;
  }

  private file(fd: number): OpenFile {
    const file = this.files.get(fd);
    if (!file) throw Object.assign(new Error(`EBADF: descriptor ${fd} is closed`), { code: 'EBADF' });
    return file;
  }

  closeSync(fd: number): void {
    this.inner.closeSync(this.file(fd).innerFd);
    this.files.delete(fd);
  }

  writeSync(fd: number, bytes: Uint8Array, position: number): void {
    const file = this.file(fd);
    const oldSizeBytes = this.inner.fileSizeSync(file.innerFd);
    const overlap = Math.max(0, Math.min(position + bytes.length, oldSizeBytes) - position);
    const oldBytes = new Uint8Array(overlap);
    if (overlap > 0) this.inner.readSync(file.innerFd, oldBytes, position);
    const seq = ++this.seq;
    this.record(file.path, { seq, oldSizeBytes, position, oldBytes, writtenBytes: bytes.length });
    this.lastWrite = { seq, path: file.path, position, bytes: bytes.slice() };
    this.inner.writeSync(file.innerFd, bytes, position);
  }

  readSync(fd: number, into: Uint8Array, position: number): number {
    return this.inner.readSync(this.file(fd).innerFd, into, position);
  }

  fileSizeSync(fd: number): number {
    return this.inner.fileSizeSync(this.file(fd).innerFd);
  }

  truncateSync(fd: number, lengthBytes: number): void {
    const file = this.file(fd);
    const oldSizeBytes = this.inner.fileSizeSync(file.innerFd);
    const oldBytes = new Uint8Array(Math.max(0, oldSizeBytes - lengthBytes));
    if (oldBytes.length > 0) this.inner.readSync(file.innerFd, oldBytes, lengthBytes);
    this.record(file.path, { seq: ++this.seq, oldSizeBytes, position: lengthBytes, oldBytes, writtenBytes: 0 });
    this.inner.truncateSync(file.innerFd, lengthBytes);
  }

  private record(path: string, record: UndoRecord): void {
    const records = this.undo.get(path);
    if (records) records.push(record);
    else this.undo.set(path, [record]);
  }

  fsync(fd: number): Promise<void> {
    const { path } = this.file(fd);
    const coveredSeq = this.seq;
    return this.completeFsync(path, () => {
      const remaining = (this.undo.get(path) ?? []).filter((record) => record.seq > coveredSeq);
      if (remaining.length > 0) this.undo.set(path, remaining);
      else this.undo.delete(path);
    });
  }

  fsyncDir(path: string): Promise<void> {
    const created = [...this.unsyncedCreations].filter((p) => dirname(p) === path);
    return this.completeFsync(path, () => {
      for (const p of created) this.unsyncedCreations.delete(p);
    });
  }

  private completeFsync(path: string, onDurable: () => void): Promise<void> {
    this.fsyncCalls.push(path);
    const failure = this.fsyncFailures.findIndex((matches) => matches(path));
    if (failure >= 0) this.fsyncFailures.splice(failure, 1);
    const epoch = this.epoch;
    return new Promise((resolve, reject) => {
      setTimeout(() => {
        if (failure >= 0) reject(Object.assign(new Error(`EIO: i/o error, fsync '${path}'`), { code: 'EIO' }));
        else if (epoch !== this.epoch) reject(new Error(`fsync of ${path} interrupted by a simulated crash`));
        else {
          onDurable();
          resolve();
        }
      }, 0);
    });
  }

  mkdir(path: string): Promise<void> {
    return this.inner.mkdir(path);
  }

  readdir(path: string): Promise<string[]> {
    return this.inner.readdir(path);
  }

  exists(path: string): Promise<boolean> {
    return this.inner.exists(path);
  }

  isDirectory(path: string): Promise<boolean> {
    return this.inner.isDirectory(path);
  }

  stat(path: string): Promise<FileStat> {
    return this.inner.stat(path);
  }

  async rename(fromPath: string, toPath: string): Promise<void> {
    await this.inner.rename(fromPath, toPath);
    const records = this.undo.get(fromPath);
    this.undo.delete(fromPath);
    this.undo.delete(toPath);
    if (records) this.undo.set(toPath, records);
    if (this.unsyncedCreations.delete(fromPath)) this.unsyncedCreations.add(toPath);
  }

  async unlink(path: string): Promise<void> {
    await this.inner.unlink(path);
    this.undo.delete(path);
    this.unsyncedCreations.delete(path);
  }

  async removeDirectory(path: string): Promise<void> {
    await this.inner.removeDirectory(path);
    for (const p of [...this.undo.keys()]) if (p.startsWith(`${path}/`)) this.undo.delete(p);
    for (const p of [...this.unsyncedCreations]) if (p.startsWith(`${path}/`)) this.unsyncedCreations.delete(p);
  }
}
