import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Acks } from '../../../../broker/log/acks.ts';
import { type FileSystem, nodeFileSystem } from '../../../../broker/log/file-system.ts';
import type { LogConfig } from '../../../../broker/log/log-config.ts';
import { LogSegment } from '../../../../broker/log/log-segment.ts';
import type { PartitionLog } from '../../../../broker/log/partition-log.ts';
import { readRecordBatches } from '../../../../sdk/record/record-batch-reader.ts';
import { concatBytes, makeBatch, withBaseOffset } from '../../../helpers/batch-fixture.ts';
import { openLog, tempDir } from './log-test-support.ts';

interface StoredBatch {
  baseOffset: number;
  lastOffset: number;
  bytes: Uint8Array;
}

interface BatchSpec {
  recordsCount: number;
  payloadBytes: number;
}

const RING_BATCHES = 32;
const WHOLE_LOG_BYTES = 1 << 24;

async function appendAll(log: PartitionLog, appends: readonly (readonly BatchSpec[])[]): Promise<StoredBatch[]> {
  const stored: StoredBatch[] = [];
  let seed = 0;
  for (const specs of appends) {
    const batches = specs.map((spec) => makeBatch({ ...spec, seed: seed++ }));
    const { baseOffset } = await log.append(concatBytes(batches), Acks.all);
    let next = baseOffset;
    for (const [i, batch] of batches.entries()) {
      const recordsCount = specs[i]!.recordsCount;
      stored.push({ baseOffset: next, lastOffset: next + recordsCount - 1, bytes: withBaseOffset(batch, next) });
      next += recordsCount;
    }
  }
  return stored;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function decode(records: Uint8Array): StoredBatch[] {
  return [...readRecordBatches(records, { strict: true })].map((view) => ({
    baseOffset: view.baseOffset,
    lastOffset: view.lastOffset,
    bytes: view.bytes,
  }));
}

/**
 * Reads from `offset` to the high watermark (one read per segment, as a read stops at its segment's
 * end); returns the bytes read and what is wrong with them: the batches must start at the one
 * holding `offset` and run contiguously, byte for byte as stored, to the high watermark.
 */
function tailRead(log: PartitionLog, stored: readonly StoredBatch[], offset: number): { bytes: Uint8Array; problems: string[] } {
  const problems: string[] = [];
  const reads: Uint8Array[] = [];
  const batches: StoredBatch[] = [];
  for (let next = offset; next < log.highWatermark; ) {
    const { records } = log.read(next, WHOLE_LOG_BYTES);
    const read = decode(records);
    if (read.length === 0) {
      problems.push(`read at ${offset}: nothing at ${next} below the high watermark ${log.highWatermark}`);
      break;
    }
    reads.push(records);
    batches.push(...read);
    next = read.at(-1)!.lastOffset + 1;
  }
  const first = stored.findIndex((b) => b.lastOffset >= offset);
  const head = batches[0];
  if (head && (head.baseOffset > offset || head.lastOffset < offset)) {
    problems.push(`read at ${offset}: first batch ${head.baseOffset}..${head.lastOffset} does not hold it`);
  }
  for (let i = 1; i < batches.length; i++) {
    if (batches[i]!.baseOffset !== batches[i - 1]!.lastOffset + 1) {
      problems.push(`read at ${offset}: batch ${batches[i]!.baseOffset} follows ${batches[i - 1]!.lastOffset}`);
    }
  }
  if (batches.at(-1)?.lastOffset !== log.highWatermark - 1) problems.push(`read at ${offset}: does not end at the high watermark`);
  if (batches.length !== stored.length - first) problems.push(`read at ${offset}: ${batches.length} batches, ${stored.length - first} stored`);
  for (const [i, batch] of batches.entries()) {
    const expected = stored[first + i];
    if (!expected || !sameBytes(batch.bytes, expected.bytes)) problems.push(`read at ${offset}: batch ${batch.baseOffset} differs from what was stored`);
  }
  return { bytes: concatBytes(reads), problems };
}

/** Problems with a read at `offset` with a tiny maxBytes, which must return exactly the batch holding it. */
function singleBatchReadProblems(log: PartitionLog, stored: readonly StoredBatch[], offset: number): string[] {
  const batches = decode(log.read(offset, 1).records);
  const holding = stored.find((b) => b.baseOffset <= offset && offset <= b.lastOffset)!;
  if (batches.length !== 1 || !sameBytes(batches[0]!.bytes, holding.bytes)) {
    return [`single-batch read at ${offset}: got ${batches.map((b) => b.baseOffset).join(',')}, expected ${holding.baseOffset}`];
  }
  return [];
}

function readEveryOffset(log: PartitionLog, stored: readonly StoredBatch[]): Uint8Array[] {
  const reads: Uint8Array[] = [];
  const problems: string[] = [];
  for (let offset = 0; offset < log.highWatermark; offset++) {
    const read = tailRead(log, stored, offset);
    reads.push(read.bytes);
    problems.push(...read.problems, ...singleBatchReadProblems(log, stored, offset));
  }
  expect(problems).toEqual([]);
  expect(log.read(log.highWatermark, WHOLE_LOG_BYTES).records.length).toBe(0);
  return reads;
}

async function expectSameReadsAfterReopen(dir: string, config: Partial<LogConfig>, appends: readonly (readonly BatchSpec[])[]): Promise<void> {
  const log = await openLog({ dir, config });
  const stored = await appendAll(log, appends);
  expect(log.highWatermark).toBe(stored.at(-1)!.lastOffset + 1);
  const before = readEveryOffset(log, stored);
  const recoveryPoint = await log.close();
  const reopened = await openLog({ dir, config, recoveryPoint });
  try {
    expect(reopened.highWatermark).toBe(log.highWatermark);
    const after = readEveryOffset(reopened, stored);
    expect(after.length).toBe(before.length);
    expect(after.flatMap((read, offset) => (sameBytes(read, before[offset]!) ? [] : [offset]))).toEqual([]);
  } finally {
    await reopened.close();
  }
}

function varyingBatches(count: number): BatchSpec[][] {
  return Array.from({ length: count }, (_, i) => [{ recordsCount: 1 + ((i * 7) % 9), payloadBytes: 20 + ((i * 53) % 300) }]);
}

describe('PartitionLog tail reads from the recent-batch ring', () => {
  it('returns the batch holding every offset, and everything after it, across 100 batches of varying record counts', async () => {
    await expectSameReadsAfterReopen(tempDir(), { indexIntervalBytes: 256 }, varyingBatches(100));
  });

  it('returns the same reads when several batches arrive in one append', async () => {
    const appends = Array.from({ length: 30 }, (_, i) =>
      Array.from({ length: 1 + (i % 4) }, (_, j) => ({ recordsCount: 1 + ((i + j) % 6), payloadBytes: 30 + ((i * 31 + j * 17) % 200) })),
    );
    await expectSameReadsAfterReopen(tempDir(), { indexIntervalBytes: 200 }, appends);
  });

  it('returns the same reads when the log rolls segments and the active one starts with an empty ring', async () => {
    await expectSameReadsAfterReopen(tempDir(), { indexIntervalBytes: 128, segmentBytes: 6000 }, varyingBatches(100));
  });

  it('reads only the last batch when reading at the last offset', async () => {
    const log = await openLog({ dir: tempDir(), config: { indexIntervalBytes: 256 } });
    try {
      const stored = await appendAll(log, varyingBatches(100));
      const last = stored.at(-1)!;
      const { records } = log.read(log.highWatermark - 1, WHOLE_LOG_BYTES);
      expect(sameBytes(records, last.bytes)).toBe(true);
      expect(decode(log.read(last.baseOffset, WHOLE_LOG_BYTES).records).map((b) => b.baseOffset)).toEqual([last.baseOffset]);
    } finally {
      await log.close();
    }
  });

  it('starts reading at the batch itself for offsets in the last 32 batches, before and after a reopen', async () => {
    const dir = tempDir();
    const readPositions: number[] = [];
    const fs: FileSystem = {
      ...nodeFileSystem,
      readSync(fd, into, position) {
        readPositions.push(position);
        return nodeFileSystem.readSync(fd, into, position);
      },
    };
    const config = { indexIntervalBytes: 1024 };
    const log = await openLog({ dir, fs, config });
    const stored = await appendAll(log, varyingBatches(100));
    const positions = stored.map((_, i) => stored.slice(0, i).reduce((n, b) => n + b.bytes.length, 0));
    const firstReadPosition = (reader: PartitionLog, offset: number): number => {
      readPositions.length = 0;
      reader.read(offset, 1);
      return readPositions[0]!;
    };
    const expectStartPositions = (reader: PartitionLog): void => {
      for (const [i, batch] of stored.entries()) {
        for (let offset = batch.baseOffset; offset <= batch.lastOffset; offset++) {
          const start = firstReadPosition(reader, offset);
          if (i >= stored.length - RING_BATCHES) expect(start, `read at ${offset}`).toBe(positions[i]);
          else expect(start, `read at ${offset}`).toBeLessThanOrEqual(positions[i]!);
        }
      }
    };
    expectStartPositions(log);
    expect(stored.some((batch, i) => i < stored.length - RING_BATCHES && firstReadPosition(log, batch.baseOffset) < positions[i]!)).toBe(true);
    const recoveryPoint = await log.close();
    const reopened = await openLog({ dir, fs, config, recoveryPoint });
    try {
      expectStartPositions(reopened);
    } finally {
      await reopened.close();
    }
  });

  it('agrees with reads after a reopen for random batch sizes and record counts', async () => {
    const spec = fc.record({ recordsCount: fc.integer({ min: 1, max: 12 }), payloadBytes: fc.integer({ min: 0, max: 700 }) });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(spec, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 64, max: 2048 }),
        async (appends, indexIntervalBytes) => {
          await expectSameReadsAfterReopen(tempDir(), { indexIntervalBytes }, appends);
        },
      ),
      { numRuns: 25 },
    );
  });
});

interface RecordedBatch {
  baseOffset: number;
  lastOffset: number;
  position: number;
}

function segmentWith(baseOffset: number, recordCounts: readonly number[]): { segment: LogSegment; batches: RecordedBatch[] } {
  const segment = new LogSegment(tempDir(), baseOffset);
  const batches: RecordedBatch[] = [];
  let offset = baseOffset;
  let position = 0;
  for (const [i, recordsCount] of recordCounts.entries()) {
    const sizeBytes = 61 + ((i * 29) % 97);
    const lastOffset = offset + recordsCount - 1;
    segment.recordBatch(offset, lastOffset, position, sizeBytes, 1_700_000_000_000 + i, 256);
    batches.push({ baseOffset: offset, lastOffset, position });
    offset = lastOffset + 1;
    position += sizeBytes;
  }
  return { segment, batches };
}

function expectRingHolds(segment: LogSegment, batches: readonly RecordedBatch[]): void {
  for (const batch of batches) {
    for (let offset = batch.baseOffset; offset <= batch.lastOffset; offset++) {
      expect(segment.recentBatchPosition(offset), `offset ${offset}`).toBe(batch.position);
    }
  }
}

describe('LogSegment.recentBatchPosition', () => {
  it('is -1 for an empty segment', () => {
    const segment = new LogSegment(tempDir(), 500);
    expect(segment.recentBatchPosition(500)).toBe(-1);
    expect(segment.recentBatchPosition(0)).toBe(-1);
  });

  it('gives the position of the batch holding every offset while fewer batches than the ring holds were recorded', () => {
    const { segment, batches } = segmentWith(1000, [3, 1, 5, 2, 1, 4]);
    expectRingHolds(segment, batches);
    expect(segment.recentBatchPosition(999)).toBe(-1);
    expect(segment.recentBatchPosition(segment.nextOffset)).toBe(-1);
    expect(segment.recentBatchPosition(segment.nextOffset + 10)).toBe(-1);
  });

  it('gives exact positions for the last 32 batches and -1 for older offsets once the ring wraps', () => {
    for (const count of [RING_BATCHES, RING_BATCHES + 1, 2 * RING_BATCHES + 5, 100]) {
      const { segment, batches } = segmentWith(7, Array.from({ length: count }, (_, i) => 1 + ((i * 5) % 7)));
      const inRing = batches.slice(-RING_BATCHES);
      expectRingHolds(segment, inRing);
      const oldestInRing = inRing[0]!.baseOffset;
      for (let offset = 0; offset < oldestInRing; offset++) expect(segment.recentBatchPosition(offset), `offset ${offset} of ${count} batches`).toBe(-1);
      expect(segment.recentBatchPosition(segment.nextOffset)).toBe(-1);
      expect(segment.recentBatchPosition(segment.nextOffset + 1)).toBe(-1);
    }
  });

  it('tracks the newest batch after every single record', () => {
    const segment = new LogSegment(tempDir(), 0);
    let position = 0;
    for (let i = 0; i < 3 * RING_BATCHES; i++) {
      segment.recordBatch(i, i, position, 100, 1_700_000_000_000, 4096);
      expect(segment.recentBatchPosition(i)).toBe(position);
      expect(segment.recentBatchPosition(i + 1)).toBe(-1);
      const oldest = Math.max(0, i - RING_BATCHES + 1);
      expect(segment.recentBatchPosition(oldest)).toBe(oldest * 100);
      if (oldest > 0) expect(segment.recentBatchPosition(oldest - 1)).toBe(-1);
      position += 100;
    }
  });
});
