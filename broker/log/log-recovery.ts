import { join } from 'node:path';
import { KafkaError } from '../../sdk/protocol/kafka-error.ts';
import type { Clock } from './clock.ts';
import { writeFileSynced } from './atomic-file.ts';
import type { FileSystem } from './file-system.ts';
import type { LogConfig } from './log-config.ts';
import { INDEX_SUFFIX, LOG_SUFFIX, LogSegment, parseSegmentFileName, TIME_INDEX_SUFFIX } from './log-segment.ts';
import { checkOffsetIndexFile, OFFSET_INDEX_ENTRY_BYTES } from './offset-index.ts';
import { readCleanerCheckpoint } from './cleaner/cleaner-checkpoint.ts';
import { recoverInterruptedSwap } from './cleaner/segment-swap.ts';
import { type ScanBounds, SCAN_CHUNK_BYTES, scanSegment } from './segment-scan.ts';
import { checkTimeIndexFile, TIME_INDEX_ENTRY_BYTES } from './time-index.ts';
import { TXN_INDEX_SUFFIX } from './transaction-index.ts';

export interface RecoveredLog {
  /** Ascending by base offset; the last one is active, with its indexes in memory. */
  segments: LogSegment[];
  /** Open read-write descriptor of the active segment's log file. */
  activeFd: number;
}

interface RecoveryContext {
  dir: string;
  topicPartition: string;
  fs: FileSystem;
  clock: Clock;
  config: LogConfig;
  recoveryPoint: number;
  cleanShutdown?: boolean;
}

function corrupt(ctx: RecoveryContext, path: string, position: number, reason: string): KafkaError {
  return new KafkaError(
    'KAFKA_STORAGE_ERROR',
    `${ctx.topicPartition}: acknowledged data below the recovery point ${ctx.recoveryPoint} is corrupt: ` +
      `${path} at byte ${position}: ${reason}`,
  );
}

/** Writes a segment's in-memory indexes to its index files, fsyncs them, and seals it. */
export async function writeSegmentIndexes(fs: FileSystem, segment: LogSegment): Promise<void> {
  segment.completeTimeIndex();
  for (const [path, bytes] of [
    [segment.indexPath, segment.offsetIndex?.encode()],
    [segment.timeIndexPath, segment.timeIndex?.encode()],
  ] as const) {
    if (!bytes) throw new Error(`segment ${segment.logPath} has no in-memory indexes to write`);
    await writeFileSynced(fs, path, bytes);
  }
  segment.seal();
}

/** Checks a sealed segment's index files and seals the segment on them; false when they must be rebuilt. */
async function loadSealedIndexes(ctx: RecoveryContext, segment: LogSegment, offsetSpan: number): Promise<boolean> {
  const { fs } = ctx;
  if (!(await fs.exists(segment.indexPath)) || !(await fs.exists(segment.timeIndexPath))) return false;
  const indexFd = fs.openSync(segment.indexPath, 'read');
  const timeFd = fs.openSync(segment.timeIndexPath, 'read');
  try {
    if (checkOffsetIndexFile(fs, indexFd, segment.sizeBytes, offsetSpan) !== undefined) return false;
    const time = checkTimeIndexFile(fs, timeFd, offsetSpan);
    if ('reason' in time) return false;
    segment.seal();
    segment.indexFileEntries = fs.fileSizeSync(indexFd) / OFFSET_INDEX_ENTRY_BYTES;
    segment.timeIndexFileEntries = fs.fileSizeSync(timeFd) / TIME_INDEX_ENTRY_BYTES;
    segment.maxTimestamp = time.lastTimestamp;
    segment.nextOffset = segment.baseOffset + offsetSpan;
    return true;
  } finally {
    fs.closeSync(indexFd);
    fs.closeSync(timeFd);
  }
}

/**
 * Kafka-style recovery of one partition directory. A swap of cleaned segments that a crash
 * interrupted is finished or rolled back first. Segments below the one holding the recovery point
 * are trusted if their indexes are sane (else rescanned); from that segment on every batch is
 * verified, except that after a clean shutdown (`cleanShutdown`, see clean-shutdown.ts) batches
 * below the recovery point have their headers checked but not their CRCs. The first invalid batch
 * at or past the recovery point is a torn tail and is cut off with everything after it; an invalid
 * batch below it is acknowledged data gone bad and fails the open.
 *
 * Offsets: the CRC does not cover baseOffset, so a batch's offsets are checked against its
 * neighbours. A segment the cleaner never rewrote must be contiguous: each batch starts where the
 * previous one ended (so any change to a baseOffset breaks the chain or the segment's range), and
 * a sealed segment ends exactly where the next one starts. A rewritten segment has legitimate gaps,
 * so there offsets need only increase strictly and stay inside [base offset, next base offset).
 * Which segments may be rewritten comes from the cleaner checkpoint's `cleanedBelowOffset`, which
 * is durable before any rewritten segment is, so a gap is never mistaken for corruption (and cut
 * as a torn tail), while every segment of a log that was never compacted keeps the strict check.
 * The active segment is never rewritten (the cleaner stays below it), so a torn tail is always
 * found by the strict check.
 */
export async function recoverLog(ctx: RecoveryContext): Promise<RecoveredLog> {
  const { fs, dir } = ctx;
  await fs.mkdir(dir);
  await recoverInterruptedSwap(fs, dir);
  const { cleanedBelowOffset } = await readCleanerCheckpoint(fs, dir);
  const names = await fs.readdir(dir);
  const present = new Set(names);
  const bases: number[] = [];
  for (const name of names) {
    const base = parseSegmentFileName(name, LOG_SUFFIX);
    if (base !== undefined) bases.push(base);
    for (const suffix of [INDEX_SUFFIX, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX]) {
      const indexBase = parseSegmentFileName(name, suffix);
      if (indexBase !== undefined && !present.has(name.slice(0, -suffix.length) + LOG_SUFFIX)) {
        await fs.unlink(join(dir, name));
      }
    }
  }
  bases.sort((a, b) => a - b);
  if (bases.length === 0) {
    const segment = new LogSegment(dir, 0);
    const activeFd = fs.openSync(segment.logPath, 'create');
    await fs.fsyncDir(dir);
    return { segments: [segment], activeFd };
  }

  const segments = bases.map((base) => new LogSegment(dir, base));
  for (const segment of segments) segment.sizeBytes = (await fs.stat(segment.logPath)).sizeBytes;
  let start = 0;
  for (let i = 0; i < segments.length; i++) if (segments[i]!.baseOffset <= ctx.recoveryPoint) start = i;
  const chunk = new Uint8Array(SCAN_CHUNK_BYTES);
  const boundsOf = (i: number, last: number, trustedBelow = 0): ScanBounds => ({
    cleaned: segments[i]!.baseOffset < cleanedBelowOffset,
    endOffset: i < last ? segments[i + 1]!.baseOffset : undefined,
    trustedBelowOffset: trustedBelow,
  });
  // After a clean shutdown the data below the recovery point was fsynced and nothing was torn
  // since: there the scan walks batch headers only, to rebuild the active segment's in-memory
  // indexes (the CRCs were an open's largest cost).
  const trustedBelow = ctx.cleanShutdown === true ? ctx.recoveryPoint : 0;

  for (let i = 0; i < start; i++) {
    const segment = segments[i]!;
    const next = segments[i + 1]!.baseOffset;
    if (await loadSealedIndexes(ctx, segment, next - segment.baseOffset)) continue;
    const fd = fs.openSync(segment.logPath, 'read');
    try {
      const bounds = boundsOf(i, segments.length - 1);
      const { defect } = scanSegment(fs, fd, segment, ctx.config.indexIntervalBytes, chunk, bounds);
      if (defect) throw corrupt(ctx, segment.logPath, defect.position, defect.reason);
      if (!bounds.cleaned && segment.nextOffset !== next) {
        throw corrupt(ctx, segment.logPath, segment.sizeBytes, `segment ends at offset ${segment.nextOffset}, the next one starts at ${next}`);
      }
    } finally {
      fs.closeSync(fd);
    }
    segment.nextOffset = next;
    await writeSegmentIndexes(fs, segment);
  }

  let kept = segments.length;
  for (let i = start; i < kept; i++) {
    const segment = segments[i]!;
    const fd = fs.openSync(segment.logPath, 'readWrite');
    let closeFd = true;
    try {
      const bounds = boundsOf(i, kept - 1, trustedBelow);
      const scanned = scanSegment(fs, fd, segment, ctx.config.indexIntervalBytes, chunk, bounds);
      const following = segments[i + 1];
      if (scanned.defect) {
        if (segment.nextOffset < ctx.recoveryPoint) {
          throw corrupt(ctx, segment.logPath, scanned.defect.position, scanned.defect.reason);
        }
        fs.truncateSync(fd, scanned.defect.position);
        await fs.fsync(fd);
        kept = i + 1;
      } else if (i + 1 < kept && following && !bounds.cleaned && following.baseOffset !== segment.nextOffset) {
        if (segment.nextOffset < ctx.recoveryPoint) {
          throw corrupt(ctx, following.logPath, 0, `segment starts at offset ${following.baseOffset}, the previous one ends at ${segment.nextOffset}`);
        }
        kept = i + 1;
      }
      if (i === kept - 1) {
        if (segment.nextOffset < ctx.recoveryPoint) {
          throw corrupt(ctx, segment.logPath, segment.sizeBytes, `the log ends at offset ${segment.nextOffset}`);
        }
        for (const dropped of segments.slice(kept)) {
          for (const path of [dropped.logPath, dropped.indexPath, dropped.timeIndexPath, dropped.txnIndexPath]) {
            if (await fs.exists(path)) await fs.unlink(path);
          }
        }
        segments.length = kept;
        if (!segment.isEmpty) {
          segment.firstAppendMs = scanned.firstBatchMaxTimestamp >= 0 ? scanned.firstBatchMaxTimestamp : ctx.clock.nowMs();
        }
        await fs.fsync(fd);
        await fs.fsyncDir(dir);
        closeFd = false;
        return { segments, activeFd: fd };
      }
    } finally {
      if (closeFd) fs.closeSync(fd);
    }
    segment.nextOffset = segments[i + 1]!.baseOffset;
    await writeSegmentIndexes(fs, segment);
  }
  throw new Error('recovery ended without an active segment');
}
