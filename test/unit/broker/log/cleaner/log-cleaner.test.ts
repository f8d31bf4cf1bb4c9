import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Acks } from '../../../../../broker/log/acks.ts';
import { LogCleaner } from '../../../../../broker/log/cleaner/log-cleaner.ts';
import { nodeFileSystem } from '../../../../../broker/log/file-system.ts';
import type { LogConfig } from '../../../../../broker/log/log-config.ts';
import type { PartitionLog } from '../../../../../broker/log/partition-log.ts';
import { ManualClock, openLog, tempDir } from '../log-test-support.ts';
import { keyedBatch, readEverything } from './cleaner-test-support.ts';

const compact: Partial<LogConfig> = { compact: true, delete: false, segmentBytes: 500, segmentMs: 60_000, deleteRetentionMs: 1000, minCleanableDirtyRatio: 0.5 };

function cleanerFor(log: PartitionLog, clock: ManualClock, ioMaxBytesPerSecond = Number.POSITIVE_INFINITY): LogCleaner {
  return new LogCleaner({
    fs: nodeFileSystem,
    clock,
    settings: { dedupeBufferSizeBytes: 1 << 20, ioBufferLoadFactor: 0.9, ioBufferSizeBytes: 1024, ioMaxBytesPerSecond, backoffMs: 60_000 },
    partitions: () => [{ topic: 't', partition: 0, log }],
  });
}

async function put(log: PartitionLog, clock: ManualClock, key: string, value: string | null, count = 1): Promise<void> {
  for (let i = 0; i < count; i++) await log.append(keyedBatch([{ key, value, timestamp: clock.now }]), Acks.all);
}

describe('LogCleaner scheduling', () => {
  it('cleans a partition once its dirty ratio passes min.cleanable.dirty.ratio, and reports the pass', async () => {
    const clock = new ManualClock();
    const log = await openLog({ dir: tempDir(), clock, config: compact });
    const cleaner = cleanerFor(log, clock);
    for (let i = 0; i < 40; i++) await put(log, clock, `k${i}`, 'x', 2);
    expect((await cleaner.runRound())?.topic).toBe('t');
    const first = cleaner.status(log);
    expect(first).toMatchObject({ state: 'idle', passes: 1, errors: 0, lastError: null });
    expect(first.lastPass).toMatchObject({ dirtyRatio: 1, recordsRemoved: expect.any(Number) as number });
    expect(first.lastPass!.recordsRemoved).toBeGreaterThan(30);
    expect(first.lastPass!.bytesWritten).toBeLessThan(first.lastPass!.bytesRead);
    expect(first.firstDirtyOffset).toBe(first.lastPass!.endOffset);
    // A little more data: the clean part outweighs it.
    for (let i = 0; i < 12; i++) await put(log, clock, `k${i}`, 'y');
    expect(await cleaner.runRound()).toBeUndefined();
    expect(cleaner.status(log).dirtyRatio).toBeGreaterThan(0);
    expect(cleaner.status(log).dirtyRatio).toBeLessThanOrEqual(0.5);
    for (let i = 0; i < 40; i++) await put(log, clock, `k${i}`, 'z');
    expect(await cleaner.runRound()).toBeDefined();
    expect(cleaner.status(log).passes).toBe(2);
    await log.close();
  });

  it('holds back segments younger than min.compaction.lag.ms', async () => {
    const clock = new ManualClock();
    const log = await openLog({ dir: tempDir(), clock, config: { ...compact, minCompactionLagMs: 5000 } });
    const cleaner = cleanerFor(log, clock);
    await put(log, clock, 'a', 'x', 20);
    expect(await cleaner.runRound()).toBeUndefined();
    expect(cleaner.status(log).cleanableBytes).toBe(0);
    clock.now += 5001;
    expect(await cleaner.runRound()).toBeDefined();
    await log.close();
  });

  it('cleans a log past max.compaction.lag.ms whatever its dirty ratio, rolling the idle active segment for it', async () => {
    const clock = new ManualClock();
    const log = await openLog({ dir: tempDir(), clock, config: { ...compact, segmentBytes: 1 << 20, minCleanableDirtyRatio: 1, maxCompactionLagMs: 10_000 } });
    const cleaner = cleanerFor(log, clock);
    await put(log, clock, 'a', 'x', 5);
    expect(await cleaner.runRound()).toBeUndefined();
    expect(log.segmentsSnapshot()).toHaveLength(1);
    clock.now += 10_001;
    // The round rolls the active segment (older than max.compaction.lag.ms although segment.ms is
    // far off) and cleans it, its first record being overdue, although min.cleanable.dirty.ratio is 1.
    expect(await cleaner.runRound()).toBeDefined();
    expect(log.segmentsSnapshot()).toHaveLength(2);
    expect(cleaner.status(log).passes).toBe(1);
    expect(readEverything(log).entries.map((e) => e.offset)).toEqual([4]);
    await log.close();
  });

  it('rolls an idle active segment after segment.ms, so its records get compacted without another append', async () => {
    const clock = new ManualClock();
    const log = await openLog({ dir: tempDir(), clock, config: { ...compact, segmentBytes: 1 << 20 } });
    const cleaner = cleanerFor(log, clock);
    await put(log, clock, 'a', 'x', 10);
    expect(await cleaner.runRound()).toBeUndefined();
    clock.now += 60_001;
    expect(await cleaner.runRound()).toBeDefined();
    expect(readEverything(log).entries.map((e) => e.offset)).toEqual([9]);
    expect(log.logEndOffset).toBe(10);
    await log.close();
  });

  it('comes back for tombstones once their delete horizon passes, though the log is not dirty', async () => {
    const clock = new ManualClock();
    const log = await openLog({ dir: tempDir(), clock, config: compact });
    const cleaner = cleanerFor(log, clock);
    await put(log, clock, 'a', 'x', 20);
    await log.append(keyedBatch([{ key: 'a', value: null, timestamp: clock.now }, { key: 'c', value: 'kept', timestamp: clock.now }]), Acks.all);
    await put(log, clock, 'b', 'y', 20);
    expect(await cleaner.runRound()).toBeDefined();
    expect(readEverything(log).entries.some((e) => e.key === 'a' && e.value === null)).toBe(true);
    expect(await cleaner.runRound()).toBeUndefined();
    clock.now += 1000;
    expect(await cleaner.runRound()).toBeDefined();
    expect(readEverything(log).entries.some((e) => e.key === 'a')).toBe(false);
    // The batch keeps its (passed) horizon with the record of c, but nothing in it is due any more.
    clock.now += 1000;
    expect(await cleaner.runRound()).toBeUndefined();
    expect(cleaner.status(log).passes).toBe(2);
    await log.close();
  });

  it('marks a partition whose pass fails as failed, leaves it readable and writable, and skips it afterwards', async () => {
    const clock = new ManualClock();
    const dir = tempDir();
    const log = await openLog({ dir, clock, config: compact });
    const cleaner = cleanerFor(log, clock);
    await put(log, clock, 'a', 'x', 30);
    const victim = log.segmentsSnapshot()[1]!;
    const bytes = fs.readFileSync(victim.logPath);
    bytes[bytes.length - 2]! ^= 0xff;
    fs.writeFileSync(victim.logPath, bytes);
    const before = log.read(0, 100).records;
    await cleaner.runRound();
    const status = cleaner.status(log);
    expect(status).toMatchObject({ state: 'failed', errors: 1, passes: 0 });
    expect(status.lastError).toContain('CRC-32C mismatch');
    expect(log.read(0, 100).records).toEqual(before);
    expect((await log.append(keyedBatch([{ key: 'a', value: 'z', timestamp: clock.now }]), Acks.all)).baseOffset).toBe(30);
    expect(fs.readdirSync(dir).filter((n) => n.endsWith('.cleaned'))).toEqual([]);
    expect(await cleaner.runRound()).toBeUndefined();
    await log.close();
  });

  it('stops a pass in progress and leaves the partition as it was', async () => {
    const clock = new ManualClock();
    const dir = tempDir();
    const log = await openLog({ dir, clock, config: compact });
    await put(log, clock, 'a', 'x', 60);
    const before = readEverything(log);
    // 2 KB/s: the pass takes seconds, so it is still running when stop() comes.
    const cleaner = cleanerFor(log, clock, 2048);
    const round = cleaner.runRound();
    await new Promise<void>((resolve) => {
      const poll = (): void => (cleaner.status(log).state === 'cleaning' ? resolve() : void setTimeout(poll, 1));
      poll();
    });
    await cleaner.stop();
    await round;
    expect(cleaner.status(log)).toMatchObject({ state: 'idle', passes: 0, errors: 0 });
    expect(readEverything(log)).toEqual(before);
    expect(fs.readdirSync(dir).filter((n) => n.endsWith('.cleaned') || n.endsWith('.deleted'))).toEqual([]);
    await log.close();
  });
});
