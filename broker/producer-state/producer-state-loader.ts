import { join } from 'node:path';
import { BATCH_HEADER_BYTES, BatchAttribute, BatchOffset, readInt64 } from '../../sdk/record/batch-header.ts';
import { readFileIfExists } from '../log/atomic-file.ts';
import { batchSizeAt } from '../log/batch-validation.ts';
import type { FileSystem } from '../log/file-system.ts';
import { type LogSegment, parseSegmentFileName, segmentFileName } from '../log/log-segment.ts';
import { decodeTxnIndex, encodeTxnIndex } from '../log/transaction-index.ts';
import { decodeSnapshot, SNAPSHOT_SUFFIX } from './producer-snapshot.ts';
import { AppendOrigin, type ProducerStateManager } from './producer-state-manager.ts';

const REPLAY_CHUNK_BYTES = 64 * 1024;

export interface ProducerStateLoadContext {
  fs: FileSystem;
  dir: string;
  /** Recovered segments, ascending; their `abortedTxns` are filled in here. */
  segments: readonly LogSegment[];
  logEndOffset: number;
  nowMs: number;
  state: ProducerStateManager;
}

export function snapshotPath(dir: string, offset: number): string {
  return join(dir, segmentFileName(offset, SNAPSHOT_SUFFIX));
}

/** Snapshot offsets present in `dir`, newest first. */
export async function listSnapshotOffsets(fs: FileSystem, dir: string): Promise<number[]> {
  const offsets: number[] = [];
  for (const name of await fs.readdir(dir)) {
    const offset = parseSegmentFileName(name, SNAPSHOT_SUFFIX);
    if (offset !== undefined) offsets.push(offset);
  }
  return offsets.sort((a, b) => b - a);
}

/**
 * Rebuilds producer state and the aborted-transaction indexes after recovery: loads the newest
 * intact snapshot at or below the log end (deleting newer or damaged ones, which a truncated tail
 * or a torn write left), takes each segment's `.txnindex` entries below that offset, then replays
 * batch headers from it to the log end. Sealed segments whose aborted transactions the replay
 * rebuilt get their `.txnindex` rewritten, so the next open can trust it.
 */
export async function loadProducerState(ctx: ProducerStateLoadContext): Promise<void> {
  const { fs, dir, segments, state } = ctx;
  const logStartOffset = segments[0]!.baseOffset;
  let snapshotOffset = -1;
  for (const offset of await listSnapshotOffsets(fs, dir)) {
    const path = snapshotPath(dir, offset);
    if (offset <= ctx.logEndOffset && snapshotOffset >= 0) continue;
    const decoded = offset <= ctx.logEndOffset ? decodeSnapshot((await readFileIfExists(fs, path)) ?? new Uint8Array(0)) : undefined;
    if (decoded !== undefined && decoded.offset === offset) {
      state.load(decoded.entries);
      snapshotOffset = offset;
    } else {
      await fs.unlink(path);
    }
  }
  const replayFrom = Math.max(snapshotOffset, logStartOffset);
  for (const segment of segments) {
    const bytes = await readFileIfExists(fs, segment.txnIndexPath);
    segment.abortedTxns = bytes === undefined ? [] : decodeTxnIndex(bytes).filter((t) => t.lastOffset < replayFrom);
  }
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment.nextOffset <= replayFrom || segment.isEmpty) continue;
    replaySegment(ctx, segment, replayFrom);
    if (i < segments.length - 1) {
      if (segment.abortedTxns.length > 0) await writeTxnIndexFile(fs, segment);
      else if (await fs.exists(segment.txnIndexPath)) await fs.unlink(segment.txnIndexPath);
    }
  }
}

/** Writes a segment's whole `.txnindex` and fsyncs it. */
export async function writeTxnIndexFile(fs: FileSystem, segment: LogSegment): Promise<void> {
  const fd = fs.openSync(segment.txnIndexPath, 'create');
  try {
    fs.writeSync(fd, encodeTxnIndex(segment.abortedTxns), 0);
    await fs.fsync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function replaySegment(ctx: ProducerStateLoadContext, segment: LogSegment, fromOffset: number): void {
  const { fs, state, nowMs } = ctx;
  const fd = fs.openSync(segment.logPath, 'read');
  try {
    const chunk = new Uint8Array(REPLAY_CHUNK_BYTES);
    const dv = new DataView(chunk.buffer);
    let chunkStart = 0;
    let chunkEnd = 0;
    for (let pos = 0; pos < segment.sizeBytes; ) {
      if (pos + BATCH_HEADER_BYTES > chunkEnd) {
        chunkStart = pos;
        chunkEnd = pos + fs.readSync(fd, chunk, pos);
        if (pos + BATCH_HEADER_BYTES > chunkEnd) throw new Error(`invariant broken: no batch header at byte ${pos} of ${segment.logPath}`);
      }
      const at = pos - chunkStart;
      const size = batchSizeAt(dv, at);
      const baseOffset = readInt64(dv, at);
      const producerId = readInt64(dv, at + BatchOffset.producerId);
      const isControl = (dv.getInt16(at + BatchOffset.attributes) & BatchAttribute.control) !== 0;
      if (baseOffset >= fromOffset && (producerId >= 0 || isControl)) {
        let bytes: Uint8Array;
        if (isControl) {
          bytes = new Uint8Array(size);
          fs.readSync(fd, bytes, pos);
        } else {
          bytes = chunk.slice(at, at + BATCH_HEADER_BYTES);
        }
        const prepared = state.prepare(bytes, baseOffset, AppendOrigin.replay, nowMs);
        if (prepared.kind !== 'append') throw new Error('invariant broken: replay found a duplicate');
        for (const txn of state.apply(prepared)) {
          if (txn.isAborted) segment.abortedTxns.push({ producerId: txn.producerId, firstOffset: txn.firstOffset, lastOffset: txn.lastOffset, lastStableOffset: txn.lastStableOffset });
        }
      }
      pos += size;
    }
  } finally {
    fs.closeSync(fd);
  }
}
