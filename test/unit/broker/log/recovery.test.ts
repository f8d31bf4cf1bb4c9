import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isKafkaError } from '../../../../sdk/protocol/kafka-error.ts';
import { Acks } from '../../../../broker/log/acks.ts';
import { makeBatch, splitBatches } from '../../../helpers/batch-fixture.ts';
import { openLog, readAll, tempDir } from './log-test-support.ts';

const SEGMENT = '00000000000000000000.log';

/** Writes `count` batches of 1..3 records and varying sizes; returns the stored batches. */
async function writeBatches(dir: string, count: number, config = {}): Promise<Uint8Array[]> {
  const log = await openLog({ dir, config });
  for (let i = 0; i < count; i++) {
    await log.append(makeBatch({ recordsCount: 1 + (i % 3), payloadBytes: 40 + ((i * 53) % 300), seed: i }), Acks.leader);
  }
  await log.flush();
  const stored = readAll(log);
  await log.close();
  return stored;
}

function lastOffsetOf(batch: Uint8Array): number {
  return splitBatches(batch)[0]!.lastOffset;
}

describe('PartitionLog recovery', () => {
  it('cuts a torn tail at every byte position of the last batch and continues from the right offset', async () => {
    const dir = tempDir();
    const stored = await writeBatches(dir, 6);
    const previous = stored.slice(0, -1);
    const last = stored.at(-1)!;
    const tailStart = previous.reduce((n, b) => n + b.length, 0);
    const endOfPrevious = lastOffsetOf(previous.at(-1)!) + 1;
    const logFile = path.join(dir, SEGMENT);
    const original = fs.readFileSync(logFile);
    for (let cut = 0; cut < last.length; cut++) {
      fs.writeFileSync(logFile, original.subarray(0, tailStart + cut));
      const log = await openLog({ dir, recoveryPoint: endOfPrevious - 1 });
      expect([log.logEndOffset, log.highWatermark]).toEqual([endOfPrevious, endOfPrevious]);
      expect(fs.statSync(logFile).size).toBe(tailStart);
      expect(readAll(log)).toEqual(previous);
      expect((await log.append(makeBatch({ recordsCount: 2 }), Acks.all)).baseOffset).toBe(endOfPrevious);
      await log.close();
    }
  });

  it('truncates at a corrupt batch past the recovery point but refuses to open when it lies below', async () => {
    const dir = tempDir();
    const stored = await writeBatches(dir, 8);
    const logFile = path.join(dir, SEGMENT);
    const original = fs.readFileSync(logFile);
    const victim = 4;
    const position = stored.slice(0, victim).reduce((n, b) => n + b.length, 0);
    const victimBase = splitBatches(stored[victim]!)[0]!.baseOffset;
    const corrupted = Buffer.from(original);
    corrupted[position + 70]! ^= 0x40;
    fs.writeFileSync(logFile, corrupted);

    const error = await openLog({ dir, recoveryPoint: victimBase + 1 }).catch((e: unknown) => e);
    expect(isKafkaError(error, 'KAFKA_STORAGE_ERROR'), String(error)).toBe(true);
    expect(String(error)).toContain(logFile);
    expect(String(error)).toContain(`byte ${position}`);
    expect(fs.readFileSync(logFile)).toEqual(corrupted);

    const log = await openLog({ dir, recoveryPoint: victimBase });
    expect(log.logEndOffset).toBe(victimBase);
    expect(readAll(log)).toEqual(stored.slice(0, victim));
    await log.close();
  });

  it('fails when a sealed segment below the recovery point is corrupt and its index must be rebuilt', async () => {
    const dir = tempDir();
    const stored = await writeBatches(dir, 12, { segmentBytes: 1200 });
    const log = await openLog({ dir, config: { segmentBytes: 1200 } });
    const end = log.logEndOffset;
    await log.close();
    fs.rmSync(path.join(dir, '00000000000000000000.index'));
    const logFile = path.join(dir, SEGMENT);
    const bytes = fs.readFileSync(logFile);
    bytes[stored[0]!.length + 65]! ^= 0xff;
    fs.writeFileSync(logFile, bytes);
    const error = await openLog({ dir, recoveryPoint: end }).catch((e: unknown) => e);
    expect(isKafkaError(error, 'KAFKA_STORAGE_ERROR'), String(error)).toBe(true);
    expect(String(error)).toContain(`${logFile} at byte ${stored[0]!.length}`);
  });

  it('rebuilds missing and corrupt index files of sealed segments', async () => {
    const dir = tempDir();
    const config = { segmentBytes: 1500, indexIntervalBytes: 100 };
    const stored = await writeBatches(dir, 30, config);
    const indexes = fs.readdirSync(dir).filter((n) => n.endsWith('.index'));
    expect(indexes.length).toBeGreaterThan(3);
    const log0 = await openLog({ dir, config });
    const end = log0.logEndOffset;
    await log0.close();
    fs.rmSync(path.join(dir, indexes[0]!));
    fs.writeFileSync(path.join(dir, indexes[1]!), Buffer.from([0, 0, 0, 9, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2]));
    fs.appendFileSync(path.join(dir, indexes[2]!.replace('.index', '.timeindex')), Buffer.from([1, 2, 3]));
    const log = await openLog({ dir, config, recoveryPoint: end });
    expect(readAll(log, 0, 1)).toEqual(stored);
    for (const batch of stored) {
      const { baseOffset, lastOffset } = splitBatches(batch)[0]!;
      expect(log.read(lastOffset, 1).records).toEqual(batch);
      expect(log.read(baseOffset, 1).records).toEqual(batch);
    }
    await log.close();
    expect(fs.readFileSync(path.join(dir, indexes[1]!)).length % 8).toBe(0);
  });

  it('opens an empty directory as an empty log at offset 0', async () => {
    const dir = path.join(tempDir(), 'orders-3');
    const log = await openLog({ dir, recoveryPoint: 17 });
    expect([log.logStartOffset, log.logEndOffset, log.highWatermark]).toEqual([0, 0, 0]);
    expect(log.read(0, 100).records.length).toBe(0);
    await log.close();
  });
});
