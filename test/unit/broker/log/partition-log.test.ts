import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isKafkaError } from '../../../../sdk/protocol/kafka-error.ts';
import { Acks } from '../../../../broker/log/acks.ts';
import { concatBytes, makeBatch, splitBatches, withBaseOffset } from '../../../helpers/batch-fixture.ts';
import { ManualClock, openLog, readAll, segmentFiles, tempDir } from './log-test-support.ts';

function expectKafkaError(fn: () => unknown, name: Parameters<typeof isKafkaError>[1]): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(isKafkaError(caught, name), String(caught)).toBe(true);
}

describe('PartitionLog append and read', () => {
  it('round-trips many batches with consecutive offsets', async () => {
    const log = await openLog({ dir: tempDir() });
    const sent: Uint8Array[] = [];
    for (let i = 0; i < 200; i++) {
      const batch = makeBatch({ recordsCount: 1 + (i % 5), payloadBytes: 10 + ((i * 37) % 900), seed: i });
      const result = await log.append(batch.slice(), Acks.all);
      expect(result.baseOffset).toBe(sent.reduce((n, b) => n + splitBatches(b)[0]!.lastOffset - splitBatches(b)[0]!.baseOffset + 1, 0));
      sent.push(withBaseOffset(batch, result.baseOffset));
    }
    expect(log.highWatermark).toBe(log.logEndOffset);
    expect(readAll(log)).toEqual(sent);
    await log.close();
  });

  it('assigns offsets to several batches in one append and returns the batch containing an inner offset', async () => {
    const log = await openLog({ dir: tempDir() });
    const a = makeBatch({ recordsCount: 3, seed: 1 });
    const b = makeBatch({ recordsCount: 4, seed: 2 });
    const result = await log.append(concatBytes([a, b]), Acks.all);
    expect(result).toMatchObject({ baseOffset: 0, lastOffset: 6, logAppendTimeMs: -1, logStartOffset: 0 });
    const fromInner = splitBatches(log.read(5, 1).records);
    expect(fromInner.map((x) => x.baseOffset)).toEqual([3]);
    expect(fromInner[0]!.bytes).toEqual(withBaseOffset(b, 3));
    expect(splitBatches(log.read(1, 1 << 20).records).map((x) => x.baseOffset)).toEqual([0, 3]);
    await log.close();
  });

  it('bounds reads by maxBytes but always returns the first batch whole', async () => {
    const log = await openLog({ dir: tempDir() });
    for (let i = 0; i < 10; i++) await log.append(makeBatch({ payloadBytes: 939, seed: i }), Acks.all);
    // Each batch is 1000 bytes.
    expect(log.read(0, 2999).records.length).toBe(2000);
    expect(log.read(0, 3000).records.length).toBe(3000);
    expect(log.read(4, 10).records.length).toBe(1000);
    expect(splitBatches(log.read(4, 10).records)[0]!.baseOffset).toBe(4);
    await log.close();
  });

  it('rejects offsets outside [logStartOffset, highWatermark] and returns nothing at the high watermark', async () => {
    const log = await openLog({ dir: tempDir() });
    await log.append(makeBatch({ recordsCount: 2 }), Acks.all);
    expect(log.read(2, 100).records.length).toBe(0);
    expectKafkaError(() => log.read(3, 100), 'OFFSET_OUT_OF_RANGE');
    expectKafkaError(() => log.read(-1, 100), 'OFFSET_OUT_OF_RANGE');
    await log.close();
  });

  it('serves only batches below an upper bound offset', async () => {
    const log = await openLog({ dir: tempDir() });
    for (let i = 0; i < 5; i++) await log.append(makeBatch({ recordsCount: 2, seed: i }), Acks.all);
    expect(splitBatches(log.read(0, 1 << 20, 6).records).map((x) => x.baseOffset)).toEqual([0, 2, 4]);
    expect(splitBatches(log.read(0, 1 << 20, 5).records).map((x) => x.baseOffset)).toEqual([0, 2]);
    expect(log.read(6, 1 << 20, 6).records.length).toBe(0);
    await log.close();
  });

  it('rolls segments by size and serves reads across them', async () => {
    const dir = tempDir();
    const log = await openLog({ dir, config: { segmentBytes: 2500 } });
    for (let i = 0; i < 10; i++) await log.append(makeBatch({ payloadBytes: 939, seed: i }), Acks.all);
    expect(segmentFiles(dir, '.log')).toEqual([0, 2, 4, 6, 8].map((o) => `${String(o).padStart(20, '0')}.log`));
    expect(fs.statSync(path.join(dir, '00000000000000000002.log')).size).toBe(2000);
    expect(segmentFiles(dir, '.timeindex').length).toBeGreaterThanOrEqual(4);
    expect(readAll(log, 0, 1500).length).toBe(10);
    expect(splitBatches(log.read(3, 1 << 20).records).map((x) => x.baseOffset)).toEqual([3]);
    await log.close();
  });

  it('rolls the active segment when it is older than segmentMs by the injected clock', async () => {
    const dir = tempDir();
    const clock = new ManualClock();
    const log = await openLog({ dir, clock, config: { segmentMs: 1000 } });
    await log.append(makeBatch(), Acks.all);
    clock.now += 1000;
    await log.append(makeBatch(), Acks.all);
    expect(segmentFiles(dir, '.log').length).toBe(1);
    clock.now += 1;
    await log.append(makeBatch(), Acks.all);
    expect(segmentFiles(dir, '.log')).toEqual(['00000000000000000000.log', '00000000000000000002.log']);
    await log.close();
  });

  it('writes sparse offset and time indexes on roll and uses them for reads and timestamp lookups', async () => {
    const dir = tempDir();
    const log = await openLog({ dir, config: { segmentBytes: 100_000, indexIntervalBytes: 1000 } });
    const t0 = 1_700_000_000_000;
    for (let i = 0; i < 300; i++) {
      await log.append(makeBatch({ payloadBytes: 439, seed: i, baseTimestamp: t0 + i * 10, maxTimestamp: t0 + i * 10 }), Acks.leader);
    }
    await log.flush();
    const index = fs.readFileSync(path.join(dir, '00000000000000000000.index'));
    // 500-byte batches, an entry each time more than 1000 bytes passed: every third batch.
    expect(index.length / 8).toBe(Math.floor(199 / 3));
    const dv = new DataView(index.buffer, index.byteOffset, index.byteLength);
    expect([dv.getInt32(0), dv.getInt32(4)]).toEqual([3, 1500]);
    const timeIndex = fs.readFileSync(path.join(dir, '00000000000000000000.timeindex'));
    expect(timeIndex.length % 12).toBe(0);
    const tdv = new DataView(timeIndex.buffer, timeIndex.byteOffset, timeIndex.byteLength);
    expect(Number(tdv.getBigInt64(timeIndex.length - 12))).toBe(t0 + 199 * 10);
    for (const offset of [0, 1, 2, 3, 4, 150, 199, 200, 201, 299]) {
      expect(splitBatches(log.read(offset, 1).records)[0]!.baseOffset).toBe(offset);
    }
    for (const [ts, expected] of [
      [t0 - 5, 0],
      [t0, 0],
      [t0 + 1, 1],
      [t0 + 1990, 199],
      [t0 + 1991, 200],
      [t0 + 2995, 300],
    ] as const) {
      expect(log.firstBatchAtOrAfterTimestamp(ts)?.baseOffset).toBe(expected === 300 ? undefined : expected);
    }
    await log.close();
  });

  it('restores logStartOffset, logEndOffset, high watermark and data on reopen', async () => {
    const dir = tempDir();
    const log = await openLog({ dir, config: { segmentBytes: 3000 } });
    for (let i = 0; i < 20; i++) await log.append(makeBatch({ recordsCount: 2, payloadBytes: 500, seed: i }), Acks.leader);
    const before = readAll(await flushed(log));
    const recoveryPoint = await log.close();
    expect(recoveryPoint).toBe(40);
    const reopened = await openLog({ dir, config: { segmentBytes: 3000 }, recoveryPoint });
    expect([reopened.logStartOffset, reopened.logEndOffset, reopened.highWatermark]).toEqual([0, 40, 40]);
    expect(readAll(reopened)).toEqual(before);
    expect((await reopened.append(makeBatch(), Acks.all)).baseOffset).toBe(40);
    await reopened.close();
  });

  it('fires onHighWatermark after the fsync with the new high watermark', async () => {
    const log = await openLog({ dir: tempDir() });
    const seen: number[] = [];
    const unsubscribe = log.onHighWatermark((hw) => seen.push(hw));
    const pending = log.append(makeBatch({ recordsCount: 3 }), Acks.leader);
    await pending;
    expect(log.highWatermark).toBe(0);
    await log.flush();
    expect(seen).toEqual([3]);
    unsubscribe();
    await log.append(makeBatch(), Acks.all);
    expect(seen).toEqual([3]);
    await log.close();
  });
});

async function flushed<T extends { flush(): Promise<void> }>(log: T): Promise<T> {
  await log.flush();
  return log;
}
