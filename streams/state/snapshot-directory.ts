import { mkdir, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { type LoadedSnapshot, readSnapshotFile, type SnapshotIdentity, type SnapshotWriteOptions, writeSnapshotFile } from './snapshot-file.ts';
import type { StoreSnapshot } from './task-store.ts';

const SUFFIX = '.snapshot';
const TEMP_SUFFIX = '.tmp';
/** The newest snapshots kept: the last one written, and one to fall back on if it is damaged. */
const DEFAULT_KEEP = 2;

/** A snapshot file that could not be used, and why; loading deletes it. */
export interface RejectedSnapshot {
  readonly file: string;
  readonly reason: string;
}

export interface WrittenSnapshot {
  readonly file: string;
  readonly changelogOffset: number;
  readonly entryCount: number;
  readonly sizeBytes: number;
}

/**
 * One store's snapshots on one changelog partition: a directory of files named by the changelog
 * offset they cover (`00000000000000001234.snapshot`), so the newest is the one with the highest
 * offset. Writes run one at a time in the background; after each, only the newest `keep` stay.
 */
export class SnapshotDirectory {
  private writing = false;

  constructor(
    readonly path: string,
    readonly identity: SnapshotIdentity,
    private readonly options: SnapshotWriteOptions & { keep?: number } = {},
  ) {}

  /**
   * Writes `snapshot` and prunes older files. Resolves undefined without writing when a write is
   * already running: snapshots are periodic, and the next one will cover this one's state.
   */
  async write(snapshot: StoreSnapshot): Promise<WrittenSnapshot | undefined> {
    if (this.writing) return undefined;
    this.writing = true;
    try {
      await mkdir(this.path, { recursive: true });
      const file = fileName(snapshot.changelogOffset);
      const sizeBytes = await writeSnapshotFile(join(this.path, file), this.identity, snapshot, this.options);
      const keep = this.options.keep ?? DEFAULT_KEEP;
      for (const old of (await this.snapshotFiles()).slice(keep)) await unlink(join(this.path, old.file));
      return { file, changelogOffset: snapshot.changelogOffset, entryCount: snapshot.entryCount, sizeBytes };
    } finally {
      this.writing = false;
    }
  }

  /**
   * The newest snapshot that passes every check, trying older ones when the newest fails; undefined
   * when none does (restore then replays the whole changelog). Files that failed are deleted, and so
   * are temporary files a crash left, so a damaged file is never tried again nor outlives good ones.
   */
  async loadNewest(): Promise<{ snapshot: LoadedSnapshot | undefined; rejected: RejectedSnapshot[] }> {
    if (this.writing) throw new Error(`invariant: snapshots of ${this.path} loaded while one is being written`);
    const rejected: RejectedSnapshot[] = [];
    let names: string[];
    try {
      names = await readdir(this.path);
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') return { snapshot: undefined, rejected };
      throw error;
    }
    for (const name of names) if (name.endsWith(TEMP_SUFFIX)) await unlink(join(this.path, name));
    for (const { file } of await this.snapshotFiles()) {
      const read = await readSnapshotFile(join(this.path, file), this.identity);
      if (read.snapshot !== undefined) return { snapshot: read.snapshot, rejected };
      rejected.push({ file, reason: read.rejected });
      await unlink(join(this.path, file));
    }
    return { snapshot: undefined, rejected };
  }

  /** Snapshot files, newest (highest offset) first. */
  private async snapshotFiles(): Promise<{ file: string; offset: number }[]> {
    const files: { file: string; offset: number }[] = [];
    for (const file of await readdir(this.path)) {
      const offset = offsetOf(file);
      if (offset !== undefined) files.push({ file, offset });
    }
    return files.sort((a, b) => b.offset - a.offset);
  }
}

function fileName(changelogOffset: number): string {
  return `${String(changelogOffset).padStart(20, '0')}${SUFFIX}`;
}

function offsetOf(file: string): number | undefined {
  if (!file.endsWith(SUFFIX)) return undefined;
  const digits = file.slice(0, -SUFFIX.length);
  return /^\d{20}$/.test(digits) ? Number(digits) : undefined;
}
