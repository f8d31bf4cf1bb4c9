import fc from 'fast-check';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isKafkaError } from '../../../../sdk/protocol/kafka-error.ts';
import { Acks } from '../../../../broker/log/acks.ts';
import { FaultInjectingFileSystem } from '../../../../broker/log/fault-injecting-file-system.ts';
import { nodeFileSystem } from '../../../../broker/log/file-system.ts';
import type { AppendResult } from '../../../../broker/log/partition-log.ts';
import { makeBatch, splitBatches } from '../../../helpers/batch-fixture.ts';
import { openLog, readAll, tempDir } from './log-test-support.ts';

interface Appended {
  bytes: Uint8Array;
  acks: 'all' | 'leader';
  settled: Promise<void>;
  result?: AppendResult;
  error?: unknown;
}

const storageError = (e: unknown): boolean => isKafkaError(e, 'KAFKA_STORAGE_ERROR');

describe('PartitionLog under injected faults', () => {
  it('covers many concurrent acks=all appends with far fewer fsyncs', async () => {
    const dir = tempDir();
    const fault = new FaultInjectingFileSystem(nodeFileSystem);
    const log = await openLog({ dir, fs: fault });
    const before = fault.fsyncCalls.length;
    const results = await Promise.all(Array.from({ length: 300 }, (_, i) => log.append(makeBatch({ seed: i }), Acks.all)));
    expect(results.map((r) => r.baseOffset)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    const fsyncs = fault.fsyncCalls.length - before;
    expect(fsyncs).toBeGreaterThanOrEqual(1);
    expect(fsyncs).toBeLessThanOrEqual(2);
    expect(log.highWatermark).toBe(300);
    expect(fault.unsyncedBytes(`${dir}/00000000000000000000.log`)).toBe(0);
    await log.close();
  });

  it('starts the next fsync as soon as the previous returns, one at a time', async () => {
    const fault = new FaultInjectingFileSystem(nodeFileSystem);
    const log = await openLog({ dir: tempDir(), fs: fault });
    const first = log.append(makeBatch(), Acks.all);
    expect(fault.unsyncedBytes(`${log.dir}/00000000000000000000.log`)).toBe(makeBatch().length);
    const second = log.append(makeBatch(), Acks.all);
    const third = log.append(makeBatch(), Acks.all);
    const calls = fault.fsyncCalls.length;
    await first;
    // The first fsync covered only the first append; one more covers the two that waited.
    expect(fault.fsyncCalls.length).toBe(calls + 1);
    expect(log.highWatermark).toBe(1);
    await Promise.all([second, third]);
    expect(log.highWatermark).toBe(3);
    await log.close();
  });

  it('takes the partition offline when an fsync fails: pending, later appends and reads reject', async () => {
    const dir = tempDir();
    const fault = new FaultInjectingFileSystem(nodeFileSystem);
    const log = await openLog({ dir, fs: fault });
    await log.append(makeBatch(), Acks.all);
    fault.failNextFsync((p) => p.endsWith('.log'));
    const pending = [log.append(makeBatch(), Acks.all), log.append(makeBatch(), Acks.all)].map((p) => p.catch((e: unknown) => e));
    const errors = await Promise.all(pending);
    for (const error of errors) {
      expect(storageError(error), String(error)).toBe(true);
      expect(String(error)).toContain(`orders-3 is offline: fsync of ${dir}/00000000000000000000.log failed: EIO`);
    }
    expect(log.isOffline).toBe(true);
    expect(log.highWatermark).toBe(1);
    expect(storageError(await log.append(makeBatch(), Acks.leader).catch((e: unknown) => e))).toBe(true);
    expect(() => log.read(0, 100)).toThrow(/is offline: fsync of/);
    expect(storageError(await log.flush().catch((e: unknown) => e))).toBe(true);
    await log.close();
  });

  it('takes the partition offline when the directory fsync after a roll fails', async () => {
    const dir = tempDir();
    const fault = new FaultInjectingFileSystem(nodeFileSystem);
    const log = await openLog({ dir, fs: fault, config: { segmentBytes: 100 } });
    await log.append(makeBatch({ payloadBytes: 60 }), Acks.all);
    fault.failNextFsync((p) => p === dir);
    const error = await log.append(makeBatch({ payloadBytes: 60 }), Acks.all).catch((e: unknown) => e);
    expect(String(error)).toContain(`orders-3 is offline: fsync of ${dir} failed`);
    expect(log.highWatermark).toBe(1);
    await log.close();
  });

  for (const torn of [false, true]) {
    it(`keeps every acknowledged acks=all append across a power loss${torn ? ' with a torn last write' : ''}`, async () => {
      const op = fc.oneof(
        fc.record({
          kind: fc.constant('append' as const),
          acks: fc.constantFrom('all' as const, 'leader' as const),
          recordsCount: fc.integer({ min: 1, max: 4 }),
          payloadBytes: fc.integer({ min: 0, max: 700 }),
        }),
        fc.record({ kind: fc.constant('await' as const), pick: fc.nat() }),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), fc.nat({ max: 800 }), async (ops, tearAt) => {
          const dir = tempDir();
          const fault = new FaultInjectingFileSystem(nodeFileSystem);
          const config = { segmentBytes: 2000, indexIntervalBytes: 256 };
          const log = await openLog({ dir, fs: fault, config });
          const appended: Appended[] = [];
          for (const [i, o] of ops.entries()) {
            if (o.kind === 'await') {
              if (appended.length > 0) await appended[o.pick % appended.length]!.settled;
              continue;
            }
            const bytes = makeBatch({ recordsCount: o.recordsCount, payloadBytes: o.payloadBytes, seed: i });
            const entry: Appended = { bytes, acks: o.acks, settled: Promise.resolve() };
            entry.settled = log.append(bytes, o.acks === 'all' ? Acks.all : Acks.leader).then(
              (result) => void (entry.result = result),
              (error: unknown) => void (entry.error = error),
            );
            appended.push(entry);
          }
          const recoveryPoint = log.recoveryPoint;
          fault.crash(torn ? { tearLastWriteAtByte: tearAt } : {});
          await Promise.all(appended.map((a) => a.settled));

          const reopened = await openLog({ dir, config, recoveryPoint });
          const survived = readAll(reopened, 0, 1000);
          expect(survived).toEqual(appended.slice(0, survived.length).map((a) => a.bytes));
          const acknowledged = appended.findLastIndex((a) => a.acks === 'all' && a.result !== undefined);
          expect(survived.length).toBeGreaterThanOrEqual(acknowledged + 1);
          const end = survived.length === 0 ? 0 : splitBatches(survived.at(-1)!)[0]!.lastOffset + 1;
          expect([reopened.logEndOffset, reopened.highWatermark]).toEqual([end, end]);
          expect(end).toBeGreaterThanOrEqual(recoveryPoint);
          expect((await reopened.append(makeBatch(), Acks.all)).baseOffset).toBe(end);
          await reopened.close();
        }),
        { seed: torn ? 4242 : 4241, numRuns: 60 },
      );
    });
  }
});

describe('FaultInjectingFileSystem renames', () => {
  const text = (path: string): string | undefined => (existsSync(path) ? readFileSync(path, 'utf8') : undefined);
  async function writeSynced(fs: FaultInjectingFileSystem, path: string, content: string): Promise<void> {
    const fd = fs.openSync(path, 'create');
    fs.writeSync(fd, new TextEncoder().encode(content), 0);
    await fs.fsync(fd);
    fs.closeSync(fd);
  }

  it('keeps a file renamed over a durable one when the crash comes before the directory fsync', async () => {
    const dir = tempDir();
    const fs = new FaultInjectingFileSystem(nodeFileSystem);
    await writeSynced(fs, join(dir, 'state.json'), 'old');
    await fs.fsyncDir(dir);
    await writeSynced(fs, join(dir, 'state.json.tmp'), 'new');
    await fs.rename(join(dir, 'state.json.tmp'), join(dir, 'state.json'));
    fs.crash();
    await fs.crashSettled();
    expect([text(join(dir, 'state.json')), text(join(dir, 'state.json.tmp'))]).toEqual(['new', undefined]);
  });

  it('drops a new file renamed to a name its directory never made durable', async () => {
    const dir = tempDir();
    const fs = new FaultInjectingFileSystem(nodeFileSystem);
    await writeSynced(fs, join(dir, 'fresh.tmp'), 'data');
    await fs.rename(join(dir, 'fresh.tmp'), join(dir, 'fresh'));
    fs.crash();
    await fs.crashSettled();
    expect([text(join(dir, 'fresh')), text(join(dir, 'fresh.tmp'))]).toEqual([undefined, undefined]);
  });
});
