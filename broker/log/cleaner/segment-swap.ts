import { join } from 'node:path';
import type { FileSystem } from '../file-system.ts';
import type { LogSegment } from '../log-segment.ts';

/** Suffix of the files of a segment the cleaner is writing, beside the segment it will replace. */
export const CLEANED_SUFFIX = '.cleaned';
/** Suffix of a replaced segment's files between the swap's start and its end. */
export const DELETED_SUFFIX = '.deleted';
const CLEANED_LOG_SUFFIX = `.log${CLEANED_SUFFIX}`;

/**
 * The swap protocol that replaces sealed segments with one cleaned segment, crash-safe at every
 * step. Kafka renames `.cleaned` to `.swap` and then needs the swap segment's offset range to
 * know which old segments it replaces; here the old segments are set aside instead, so recovery
 * needs no range and decides on file names alone:
 *
 *   1. the rewriter writes `<base>.log.cleaned` first, then `.index.cleaned`, `.timeindex.cleaned`
 *      and `.txnindex.cleaned`, and fsyncs each; `commitSwap` fsyncs the directory, so every
 *      `.cleaned` file is durable before anything else changes;
 *   2. every file of every replaced segment is renamed to `<name>.deleted`; directory fsync;
 *   3. `<base>.log.cleaned` is renamed to `<base>.log`: the commit point;
 *   4. the cleaned index files are renamed to their final names; directory fsync;
 *   5. (after the partition log switched to the new segment) `finishSwap` unlinks the `.deleted`
 *      files; directory fsync, so no `.deleted` file outlives its swap into the next one.
 *
 * Recovery (`recoverInterruptedSwap`): a `.log.cleaned` file means the commit point was not
 * reached, so `.deleted` files are renamed back and `.cleaned` files removed (the `.log.cleaned`
 * last, so an interrupted rollback is resumed as one); `.deleted` files without a `.log.cleaned`
 * mean it was reached, so the remaining `.cleaned` index files take their final names and the
 * `.deleted` files go; stray `.cleaned` index files alone are leftovers of step 1 and go.
 */

/**
 * A swap that failed: `committed` tells whether the new segment is the one on disk; when it is not,
 * `rolledBack` whether the old segments' files have their names back (else recovery restores them).
 */
export class SwapError extends Error {
  constructor(
    message: string,
    readonly committed: boolean,
    readonly rolledBack: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SwapError';
  }
}

export function segmentFilePaths(segment: LogSegment): string[] {
  return [segment.txnIndexPath, segment.timeIndexPath, segment.indexPath, segment.logPath];
}

async function existing(fs: FileSystem, paths: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  for (const path of paths) if (await fs.exists(path)) found.push(path);
  return found;
}

/**
 * Steps 1 (the directory fsync) to 4. Throws a SwapError; before the commit point it has rolled
 * the directory back when it could (`committed` false), after it the new segment stands.
 */
export async function commitSwap(fs: FileSystem, dir: string, replaced: readonly LogSegment[], cleaned: LogSegment): Promise<void> {
  const cleanedIndexes = await existing(fs, [cleaned.indexPath, cleaned.timeIndexPath, cleaned.txnIndexPath].map((p) => p + CLEANED_SUFFIX));
  const setAside: string[] = [];
  let committed = false;
  try {
    await fs.fsyncDir(dir);
    for (const segment of replaced) {
      for (const path of await existing(fs, segmentFilePaths(segment))) {
        await fs.rename(path, path + DELETED_SUFFIX);
        setAside.push(path);
      }
    }
    await fs.fsyncDir(dir);
    await fs.rename(cleaned.logPath + CLEANED_SUFFIX, cleaned.logPath);
    committed = true;
    for (const path of cleanedIndexes) await fs.rename(path, path.slice(0, -CLEANED_SUFFIX.length));
    await fs.fsyncDir(dir);
  } catch (error) {
    const rolledBack = !committed && (await rollBack(fs, dir, setAside, cleaned).then(() => true, () => false));
    const when = committed ? ' after its commit point' : rolledBack ? '' : ', and so did rolling it back';
    throw new SwapError(`swapping in ${cleaned.logPath} failed${when}: ${(error as Error).message}`, committed, rolledBack, { cause: error });
  }
}

async function rollBack(fs: FileSystem, dir: string, setAside: readonly string[], cleaned: LogSegment): Promise<void> {
  for (const path of setAside) await fs.rename(path + DELETED_SUFFIX, path);
  await fs.fsyncDir(dir);
  await removeCleaned(fs, cleaned);
}

/** Removes a cleaned segment's `.cleaned` files, the `.log.cleaned` last. */
export async function removeCleaned(fs: FileSystem, cleaned: LogSegment): Promise<void> {
  for (const path of await existing(fs, segmentFilePaths(cleaned).map((p) => p + CLEANED_SUFFIX))) await fs.unlink(path);
}

/** Step 5: the replaced segments' files go for good. */
export async function finishSwap(fs: FileSystem, dir: string, replaced: readonly LogSegment[]): Promise<void> {
  for (const segment of replaced) {
    for (const path of await existing(fs, segmentFilePaths(segment).map((p) => p + DELETED_SUFFIX))) await fs.unlink(path);
  }
  await fs.fsyncDir(dir);
}

/** Finishes or rolls back a swap a crash interrupted (see the protocol above); run before the segments are listed. */
export async function recoverInterruptedSwap(fs: FileSystem, dir: string): Promise<void> {
  const names = await fs.readdir(dir);
  const cleanedLogs = names.filter((n) => n.endsWith(CLEANED_LOG_SUFFIX));
  const cleanedOthers = names.filter((n) => n.endsWith(CLEANED_SUFFIX) && !n.endsWith(CLEANED_LOG_SUFFIX));
  const deleted = names.filter((n) => n.endsWith(DELETED_SUFFIX));
  const path = (name: string): string => join(dir, name);
  const strip = (name: string, suffix: string): string => path(name.slice(0, -suffix.length));
  if (cleanedLogs.length > 0) {
    for (const name of deleted) await fs.rename(path(name), strip(name, DELETED_SUFFIX));
    await fs.fsyncDir(dir);
    for (const name of [...cleanedOthers, ...cleanedLogs]) await fs.unlink(path(name));
  } else if (deleted.length > 0) {
    for (const name of cleanedOthers) await fs.rename(path(name), strip(name, CLEANED_SUFFIX));
    await fs.fsyncDir(dir);
    for (const name of deleted) await fs.unlink(path(name));
  } else {
    for (const name of cleanedOthers) await fs.unlink(path(name));
  }
  if (cleanedLogs.length + cleanedOthers.length + deleted.length > 0) await fs.fsyncDir(dir);
}
