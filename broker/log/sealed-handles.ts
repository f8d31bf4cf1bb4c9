import type { FileSystem } from './file-system.ts';
import type { LogSegment } from './log-segment.ts';

interface Handles {
  logFd: number;
  indexFd: number | undefined;
  timeIndexFd: number | undefined;
}

/**
 * Read descriptors of sealed segments. Catch-up readers move through segments in order, so the
 * descriptors of the one sealed segment last read are cached and replaced by the next one's.
 *
 * A segment can be pinned: its descriptors are opened at once (from `<path><suffix>`) and held
 * until it is unpinned, so it stays readable while a swap renames its files on disk (descriptors
 * survive renames and unlinks).
 */
export class SealedHandles {
  private current: (Handles & { segment: LogSegment }) | undefined;
  private readonly pinned = new Map<LogSegment, Handles>();

  constructor(private readonly fs: FileSystem) {}

  get(segment: LogSegment): Handles {
    const pinned = this.pinned.get(segment);
    if (pinned !== undefined) return pinned;
    if (this.current?.segment === segment) return this.current;
    this.forget();
    const logFd = this.fs.openSync(segment.logPath, 'read');
    const indexFd = segment.indexFileEntries > 0 ? this.fs.openSync(segment.indexPath, 'read') : undefined;
    this.current = { segment, logFd, indexFd, timeIndexFd: undefined };
    return this.current;
  }

  /** The segment's time index descriptor; undefined when its time index is empty. */
  timeIndexFd(segment: LogSegment): number | undefined {
    if (segment.timeIndexFileEntries === 0) return undefined;
    const handles = this.get(segment);
    handles.timeIndexFd ??= this.fs.openSync(segment.timeIndexPath, 'read');
    return handles.timeIndexFd;
  }

  pin(segment: LogSegment, pathSuffix = ''): void {
    if (this.pinned.has(segment)) return;
    const opened: number[] = [];
    const open = (path: string): number => {
      const fd = this.fs.openSync(path + pathSuffix, 'read');
      opened.push(fd);
      return fd;
    };
    try {
      this.pinned.set(segment, {
        logFd: open(segment.logPath),
        indexFd: segment.indexFileEntries > 0 ? open(segment.indexPath) : undefined,
        timeIndexFd: segment.timeIndexFileEntries > 0 ? open(segment.timeIndexPath) : undefined,
      });
    } catch (error) {
      for (const fd of opened) this.fs.closeSync(fd);
      throw error;
    }
  }

  unpin(segment: LogSegment): void {
    const handles = this.pinned.get(segment);
    this.pinned.delete(segment);
    if (handles !== undefined) this.close(handles);
  }

  /** Closes the cached descriptors (of `segment` only, when given). */
  forget(segment?: LogSegment): void {
    const current = this.current;
    if (current === undefined || (segment !== undefined && current.segment !== segment)) return;
    this.current = undefined;
    this.close(current);
  }

  closeAll(): void {
    this.forget();
    for (const segment of [...this.pinned.keys()]) this.unpin(segment);
  }

  private close(handles: Handles): void {
    for (const fd of [handles.logFd, handles.indexFd, handles.timeIndexFd]) if (fd !== undefined) this.fs.closeSync(fd);
  }
}
