import * as fs from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../../../../../broker/log/clock.ts';
import { CleanerPacer } from '../../../../../broker/log/cleaner/cleaner-io.ts';
import { cleanPartitionLog, type CleanPassResult } from '../../../../../broker/log/cleaner/cleaner-pass.ts';
import type { FileSystem } from '../../../../../broker/log/file-system.ts';
import { nodeFileSystem } from '../../../../../broker/log/file-system.ts';
import type { PartitionLog } from '../../../../../broker/log/partition-log.ts';
import { buildControlBatch, readRecordBatches, RecordBatchBuilder } from '../../../../../sdk/record/mod.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface KeyedRecord {
  key: string | null;
  /** null for a tombstone. */
  value: string | null;
  timestamp: number;
}

export interface BatchOptions {
  compression?: 'none' | 'gzip';
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  isTransactional?: boolean;
}

/** A RecordBatch v2 holding `records` with real keys and values, as a client sends it. */
export function keyedBatch(records: readonly KeyedRecord[], options: BatchOptions = {}): Uint8Array {
  const builder = new RecordBatchBuilder({
    compression: options.compression ?? 'none',
    producerId: options.producerId ?? -1,
    producerEpoch: options.producerEpoch ?? -1,
    baseSequence: options.baseSequence ?? -1,
    isTransactional: options.isTransactional ?? false,
  });
  for (const r of records) {
    builder.append({ key: r.key === null ? null : encoder.encode(r.key), value: r.value === null ? null : encoder.encode(r.value), timestamp: r.timestamp });
  }
  return builder.seal();
}

export function markerBatch(producerId: number, type: 'COMMIT' | 'ABORT', timestamp: number, producerEpoch = 0): Uint8Array {
  return buildControlBatch({ producerId, producerEpoch, type, coordinatorEpoch: 0, timestamp });
}

/** One record or marker as a reader of the log sees it. */
export interface ReadEntry {
  offset: number;
  key: string | null;
  value: string | null;
  timestamp: number;
  /** Set for a transaction marker (its key and value are then null). */
  marker?: 'COMMIT' | 'ABORT';
}

export interface ReadBatch {
  baseOffset: number;
  lastOffset: number;
  recordsCount: number;
  producerId: number;
  isControl: boolean;
  compression: number;
}

function entriesOf(records: Uint8Array, out: ReadEntry[], batches: ReadBatch[]): number {
  let next = -1;
  for (const batch of readRecordBatches(records)) {
    if (!batch.verifyCrc()) throw new Error(`batch at offset ${batch.baseOffset} fails its CRC`);
    const header = batch.header;
    batches.push({ baseOffset: batch.baseOffset, lastOffset: batch.lastOffset, recordsCount: header.recordsCount, producerId: header.producerId, isControl: batch.isControl, compression: batch.compression });
    for (const record of batch.records()) {
      if (batch.isControl) {
        const type = new DataView(record.key!.buffer, record.key!.byteOffset).getInt16(2) === 0 ? 'ABORT' : 'COMMIT';
        out.push({ offset: record.offset, key: null, value: null, timestamp: record.timestamp, marker: type });
      } else {
        out.push({ offset: record.offset, key: record.key === null ? null : decoder.decode(record.key), value: record.value === null ? null : decoder.decode(record.value), timestamp: record.timestamp });
      }
    }
    next = batch.lastOffset + 1;
  }
  return next;
}

/** Every record and marker from the log start to the high watermark (read_uncommitted), and the batches holding them. */
export function readEverything(log: PartitionLog, maxBytes = 2048): { entries: ReadEntry[]; batches: ReadBatch[] } {
  const entries: ReadEntry[] = [];
  const batches: ReadBatch[] = [];
  for (let offset = log.logStartOffset; offset < log.highWatermark; ) {
    const { records } = log.read(offset, maxBytes);
    if (records.length === 0) throw new Error(`empty read at ${offset} below the high watermark ${log.highWatermark}`);
    const next = entriesOf(records, entries, batches);
    if (next <= offset) throw new Error(`a read at ${offset} did not move past it`);
    offset = next;
  }
  return { entries, batches };
}

/** What a read_committed reader gets from the log start to the last stable offset, markers left out. */
export function readCommitted(log: PartitionLog, maxBytes = 2048): ReadEntry[] {
  const entries: ReadEntry[] = [];
  for (let offset = log.logStartOffset; offset < log.lastStableOffset; ) {
    const read = log.readCommitted(offset, maxBytes);
    if (read.records.length === 0) break;
    const next = entriesOf(read.records, entries, []);
    if (next <= offset) throw new Error(`a read_committed read at ${offset} did not move past it`);
    offset = next;
  }
  return entries.filter((e) => e.marker === undefined);
}

export interface PassSettings {
  fs?: FileSystem;
  dedupeBufferSizeBytes?: number;
  ioBufferSizeBytes?: number;
}

/** One cleaning pass over `log`, whatever its dirty ratio. */
export function cleanOnce(log: PartitionLog, clock: Clock, settings: PassSettings = {}): Promise<CleanPassResult> {
  return cleanPartitionLog(log, {
    fs: settings.fs ?? nodeFileSystem,
    clock,
    dedupeBufferSizeBytes: settings.dedupeBufferSizeBytes ?? 1024 * 1024,
    loadFactor: 0.9,
    ioBufferSizeBytes: settings.ioBufferSizeBytes ?? 4096,
    pacer: new CleanerPacer(Number.POSITIVE_INFINITY),
    firstBatchTimestampOf: () => -1,
  });
}

/** Deletes the producer-state snapshots, so the next open rebuilds producer state from the log alone. */
export function dropSnapshots(dir: string): void {
  for (const name of fs.readdirSync(dir)) if (name.endsWith('.snapshot')) fs.rmSync(join(dir, name));
}
