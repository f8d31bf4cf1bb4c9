import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isKafkaError } from '../../../../sdk/protocol/kafka-error.ts';
import { Acks } from '../../../../broker/log/acks.ts';
import { defaultLogConfig } from '../../../../broker/log/log-config.ts';
import { makeBatch, splitBatches } from '../../../helpers/batch-fixture.ts';
import { ManualClock, openLog, readAll, segmentFiles, tempDir } from './log-test-support.ts';

// 1000-byte batches, two per 2500-byte segment.
const config = { segmentBytes: 2500, retentionMs: -1, retentionBytes: -1 };
const batch = (seed: number, timestampMs = 1_700_000_000_000): Uint8Array =>
  makeBatch({ payloadBytes: 939, seed, baseTimestamp: timestampMs, maxTimestamp: timestampMs });

describe('PartitionLog retention', () => {
  it('deletes the oldest segments while the log exceeds retentionBytes, never the active one', async () => {
    const dir = tempDir();
    const log = await openLog({ dir, config });
    for (let i = 0; i < 9; i++) await log.append(batch(i), Acks.all);
    expect(segmentFiles(dir, '.log').length).toBe(5);
    expect(await log.applyRetention()).toBe(0);
    // 9000 bytes in segments of 2000, 2000, 2000, 2000, 1000: two can go while 4000 remain.
    log.updateConfig({ ...defaultLogConfig, ...config, retentionBytes: 4000 });
    expect(await log.applyRetention()).toBe(2);
    expect(segmentFiles(dir, '.log')).toEqual(['00000000000000000004.log', '00000000000000000006.log', '00000000000000000008.log']);
    expect(segmentFiles(dir, '.index')).toEqual(['00000000000000000004.index', '00000000000000000006.index']);
    expect([log.logStartOffset, log.sizeBytes]).toEqual([4, 5000]);
    let caught: unknown;
    try {
      log.read(3, 100);
    } catch (error) {
      caught = error;
    }
    expect(isKafkaError(caught, 'OFFSET_OUT_OF_RANGE')).toBe(true);
    log.updateConfig({ ...defaultLogConfig, ...config, retentionBytes: 0 });
    expect(await log.applyRetention()).toBe(2);
    expect(segmentFiles(dir, '.log')).toEqual(['00000000000000000008.log']);
    const recoveryPoint = await log.close();

    const reopened = await openLog({ dir, config, recoveryPoint });
    expect([reopened.logStartOffset, reopened.logEndOffset, reopened.highWatermark]).toEqual([8, 9, 9]);
    expect(readAll(reopened).map((b) => splitBatches(b)[0]!.baseOffset)).toEqual([8]);
    await reopened.close();
  });

  it('deletes segments whose newest timestamp is older than retentionMs', async () => {
    const dir = tempDir();
    const clock = new ManualClock(2_000_000);
    const log = await openLog({ dir, clock, config: { ...config, retentionMs: 10_000 } });
    const timestamps = [1_000_000, 1_005_000, 1_990_000, 1_995_000, 1_999_000, 2_000_000];
    for (const [i, ts] of timestamps.entries()) await log.append(batch(i, ts), Acks.all);
    expect(segmentFiles(dir, '.log').length).toBe(3);
    // Segment 0 holds 1_000_000 and 1_005_000; segment 2 holds 1_990_000 and 1_995_000.
    expect(await log.applyRetention()).toBe(1);
    expect(log.logStartOffset).toBe(2);
    clock.now = 2_005_001;
    expect(await log.applyRetention()).toBe(1);
    expect(log.logStartOffset).toBe(4);
    clock.now = 9_000_000;
    expect(await log.applyRetention()).toBe(0);
    expect(segmentFiles(dir, '.log')).toEqual(['00000000000000000004.log']);
    const recoveryPoint = await log.close();
    const reopened = await openLog({ dir, clock, config, recoveryPoint });
    expect([reopened.logStartOffset, reopened.logEndOffset]).toEqual([4, 6]);
    await reopened.close();
  });

  it('keeps segments above the high watermark', async () => {
    const dir = tempDir();
    const log = await openLog({ dir, config: { ...config, retentionBytes: 0 } });
    await log.append(batch(0), Acks.all);
    await log.append(batch(1), Acks.all);
    void log.append(batch(2), Acks.leader);
    void log.append(batch(3), Acks.leader);
    void log.append(batch(4), Acks.leader);
    // Offsets 2..4 are written but not yet fsynced: segment 2 is not below the high watermark.
    expect(log.highWatermark).toBe(2);
    expect(await log.applyRetention()).toBe(1);
    expect(log.logStartOffset).toBe(2);
    expect(segmentFiles(dir, '.log')).toEqual(['00000000000000000002.log', '00000000000000000004.log']);
    await log.flush();
    expect(await log.applyRetention()).toBe(1);
    expect(segmentFiles(dir, '.log')).toEqual(['00000000000000000004.log']);
    await log.close();
  });

  it('delete() removes the partition directory', async () => {
    const dir = tempDir();
    const log = await openLog({ dir, config });
    for (let i = 0; i < 3; i++) await log.append(batch(i), Acks.leader);
    await log.delete();
    expect(fs.existsSync(dir)).toBe(false);
  });
});
