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
  /**
   * A process kill (SIGKILL) rather than a power loss: the OS keeps every write and every created
   * file, only the process and its descriptors are gone.
   */
  keepUnsyncedWrites?: boolean;
}

/** Thrown by the operation a planned crash stopped, and by every call after it: the process is gone. */
export class SimulatedCrashError extends Error {
  constructor(operation: string) {
    super(`simulated crash at ${operation}`);
    this.name = 'SimulatedCrashError';
  }
}

/**
 * A FileSystem wrapper for tests that models what survives a power loss. Every write and truncate
 * since a file's last completed fsync is recorded with the bytes it replaced; `crash()` rolls them
 * all back (optionally keeping a prefix of the very last write), removes files created since their
 * directory's last fsyncDir, and invalidates every descriptor, as if the process died. Renames and
 * unlinks are treated as immediately durable. Fsync does not reach the disk (the model is the
 * durability) and completes on a later macrotask, so appends interleave with it as with a real one.
 *
 * `crashAtOperation(n)` crashes just before the n-th operation that changes something (create,
 * write, truncate, fsync, fsyncDir, rename, unlink, mkdir, removeDirectory) and halts the
 * filesystem: that call and every later one throw SimulatedCrashError. Run once without it and
 * read `operations` to learn how many steps (and which) a procedure takes, then crash at each.
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
  /** Every operation that changed something, described (`rename a -> b`), in order. */
  readonly operations: string[] = [];
  private crashCountdown: { remaining: number; options: CrashOptions } | undefined;
  private readonly operationFailures: Array<(operation: string) => boolean> = [];
  private halted: string | undefined;
  private crashCleanup: Promise<void> = Promise.resolve();

  constructor(private readonly inner: FileSystem) {}

  /** Crashes (see `crash`) just before the `n`-th changing operation from now, counting from 1. */
  crashAtOperation(n: number, options: CrashOptions = {}): void {
    if (!Number.isInteger(n) || n < 1) throw new Error(`crashAtOperation needs an operation number from 1, got ${n}`);
    this.crashCountdown = { remaining: n, options };
  }

  /**
   * Makes the next changing operation whose description (as in `operations`) matches fail with
   * EIO without any effect, while the process goes on (an I/O error, not a crash).
   */
  failNextOperation(matches: (operation: string) => boolean): void {
    this.operationFailures.push(matches);
  }

  /** Whether a planned crash has happened (every call now throws). */
  get hasCrashed(): boolean {
    return this.halted !== undefined;
  }

  private assertAlive(): void {
    if (this.halted !== undefined) throw new SimulatedCrashError(`${this.halted} (the process is gone)`);
  }

  private change(operation: string): void {
    this.assertAlive();
    const countdown = this.crashCountdown;
    if (countdown !== undefined && --countdown.remaining === 0) {
      this.crashCountdown = undefined;
      this.crash(countdown.options);
      this.halted = operation;
      throw new SimulatedCrashError(operation);
    }
    const failure = this.operationFailures.findIndex((matches) => matches(operation));
    if (failure >= 0) {
      this.operationFailures.splice(failure, 1);
      throw Object.assign(new Error(`EIO: i/o error, ${operation}`), { code: 'EIO' });
    }
    this.operations.push(operation);
  }

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

  /** Simulates power loss: drops every unsynced change and closes every descriptor (see `keepUnsyncedWrites` for a process kill). */
  crash(options: CrashOptions = {}): void {
    if (options.keepUnsyncedWrites === true) {
      for (const file of this.files.values()) this.inner.closeSync(file.innerFd);
      this.files.clear();
      this.epoch++;
      this.undo.clear();
      this.lastWrite = undefined;
      this.unsyncedCreations.clear();
      return;
    }
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
    this.crashCleanup = Promise.all([...this.unsyncedCreations].map((path) => this.inner.unlink(path).catch(() => undefined))).then(() => undefined);
    this.unsyncedCreations.clear();
  }

  /** Resolves once the last crash's lost files are gone from the real directory. */
  crashSettled(): Promise<void> {
    return this.crashCleanup;
  }

  openSync(path: string, mode: OpenMode): number {
    if (mode === 'create') this.change(`create ${path}`);
    else this.assertAlive();
    let innerFd: number;
    if (mode === 'create') {
      try {
        innerFd = this.inner.openSync(path, 'readWrite');
        const fd = this.register(path, innerFd);
        this.truncateFile(fd, 0);
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
    this.assertAlive();
    this.inner.closeSync(this.file(fd).innerFd);
    this.files.delete(fd);
  }

  writeSync(fd: number, bytes: Uint8Array, position: number): void {
    const file = this.file(fd);
    this.change(`write ${bytes.length} bytes at ${position} of ${file.path}`);
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
    this.assertAlive();
    return this.inner.readSync(this.file(fd).innerFd, into, position);
  }

  fileSizeSync(fd: number): number {
    this.assertAlive();
    return this.inner.fileSizeSync(this.file(fd).innerFd);
  }

  truncateSync(fd: number, lengthBytes: number): void {
    this.change(`truncate ${this.file(fd).path} to ${lengthBytes}`);
    this.truncateFile(fd, lengthBytes);
  }

  private truncateFile(fd: number, lengthBytes: number): void {
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
    this.change(`fsync ${path}`);
    const coveredSeq = this.seq;
    return this.completeFsync(path, () => {
      const remaining = (this.undo.get(path) ?? []).filter((record) => record.seq > coveredSeq);
      if (remaining.length > 0) this.undo.set(path, remaining);
      else this.undo.delete(path);
    });
  }

  fsyncDir(path: string): Promise<void> {
    this.change(`fsyncDir ${path}`);
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

  async mkdir(path: string): Promise<void> {
    this.change(`mkdir ${path}`);
    return this.inner.mkdir(path);
  }

  async readdir(path: string): Promise<string[]> {
    this.assertAlive();
    return this.inner.readdir(path);
  }

  async exists(path: string): Promise<boolean> {
    this.assertAlive();
    return this.inner.exists(path);
  }

  async isDirectory(path: string): Promise<boolean> {
    this.assertAlive();
    return this.inner.isDirectory(path);
  }

  async stat(path: string): Promise<FileStat> {
    this.assertAlive();
    return this.inner.stat(path);
  }

  /**
   * A rename is durable at once (see the class comment). A file created since its directory's last
   * fsyncDir and renamed over an existing name replaces that name's durable entry, so a crash keeps
   * it; renamed to a new name it still vanishes in a crash until the directory is fsynced. (Dropping
   * both, as an earlier model did, is what no real filesystem does after a replace.)
   */
  async rename(fromPath: string, toPath: string): Promise<void> {
    this.change(`rename ${fromPath} -> ${toPath}`);
    const replacesDurableEntry = !this.unsyncedCreations.has(toPath) && (await this.inner.exists(toPath));
    await this.inner.rename(fromPath, toPath);
    const records = this.undo.get(fromPath);
    this.undo.delete(fromPath);
    this.undo.delete(toPath);
    if (records) this.undo.set(toPath, records);
    this.unsyncedCreations.delete(toPath);
    if (this.unsyncedCreations.delete(fromPath) && !replacesDurableEntry) this.unsyncedCreations.add(toPath);
  }

  async unlink(path: string): Promise<void> {
    this.change(`unlink ${path}`);
    await this.inner.unlink(path);
    this.undo.delete(path);
    this.unsyncedCreations.delete(path);
  }

  async removeDirectory(path: string): Promise<void> {
    this.change(`removeDirectory ${path}`);
    await this.inner.removeDirectory(path);
    for (const p of [...this.undo.keys()]) if (p.startsWith(`${path}/`)) this.undo.delete(p);
    for (const p of [...this.unsyncedCreations]) if (p.startsWith(`${path}/`)) this.unsyncedCreations.delete(p);
  }
}
