import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Acks } from '../../../../../broker/log/acks.ts';
import { groupSegments } from '../../../../../broker/log/cleaner/cleaner-pass.ts';
import { FaultInjectingFileSystem, SimulatedCrashError } from '../../../../../broker/log/fault-injecting-file-system.ts';
import { nodeFileSystem } from '../../../../../broker/log/file-system.ts';
import type { PartitionLog } from '../../../../../broker/log/partition-log.ts';
import { AppendOrigin } from '../../../../../broker/producer-state/producer-state-manager.ts';
import { ManualClock, openLog, tempDir } from '../log-test-support.ts';
import { cleanOnce, keyedBatch, markerBatch, type ReadEntry, readCommitted, readEverything } from './cleaner-test-support.ts';

const FULL = process.env['RILL_CLEANER_FULL'] === '1';
const config = { segmentBytes: 900, indexIntervalBytes: 200, compact: true, delete: false, deleteRetentionMs: 1000 };

/** A compacted log of several segments: overwrites, tombstones, gzip, an idempotent producer, an aborted and a committed transaction. */
async function writeLog(log: PartitionLog, clock: ManualClock, batches: number): Promise<void> {
  let sequence = 0;
  for (let i = 0; i < batches; i++) {
    const records = [0, 1].map((j) => ({ key: `k${(i * 2 + j) % 7}`, value: i % 5 === 4 && j === 0 ? null : `v${i}-${j}`, timestamp: clock.now + i }));
    const idempotent = i % 3 === 0;
    await log.append(
      keyedBatch(records, { compression: i % 2 === 0 ? 'gzip' : 'none', producerId: idempotent ? 7 : -1, producerEpoch: idempotent ? 0 : -1, baseSequence: idempotent ? sequence : -1 }),
      Acks.all,
    );
    if (idempotent) sequence += records.length;
    if (i === 6 || i === 14) {
      const producerId = i === 6 ? 21 : 22;
      await log.append(keyedBatch([{ key: 'k1', value: `txn-${i}`, timestamp: clock.now }], { producerId, producerEpoch: 0, baseSequence: 0, isTransactional: true }), Acks.all);
      await log.append(markerBatch(producerId, i === 6 ? 'ABORT' : 'COMMIT', clock.now), Acks.all, AppendOrigin.coordinator);
    }
  }
}

function inRange(entries: readonly ReadEntry[], from: number, to: number): ReadEntry[] {
  return entries.filter((e) => e.offset >= from && e.offset < to);
}

describe('log cleaner crash safety', () => {
  it('recovers from a crash before any filesystem operation of a pass with each swapped group cleaned or not, and the next pass finishes the job', async () => {
    const pristine = tempDir();
    const clock = new ManualClock(5_000_000);
    const original = await openLog({ dir: pristine, clock, config });
    await writeLog(original, clock, FULL ? 40 : 18);
    const sealed = original.segmentsSnapshot().slice(0, -1);
    const groups = groupSegments(sealed, original.logConfig).map((g) => ({ from: g[0]!.baseOffset, to: g.at(-1)!.nextOffset }));
    expect(groups.length).toBe(FULL ? 4 : 2);
    const before = readEverything(original).entries;
    const beforeCommitted = readCommitted(original);
    const end = original.logEndOffset;
    const recoveryPoint = await original.close();

    const copy = (): string => {
      const dir = tempDir();
      fs.cpSync(pristine, dir, { recursive: true });
      return dir;
    };
    const dryDir = copy();
    const dryFs = new FaultInjectingFileSystem(nodeFileSystem);
    const dry = await openLog({ dir: dryDir, clock, config, fs: dryFs, recoveryPoint });
    const opsBefore = dryFs.operations.length;
    const cleaned = await cleanOnce(dry, clock, { fs: dryFs, ioBufferSizeBytes: 64 * 1024 });
    const steps = dryFs.operations.slice(opsBefore);
    expect(cleaned.recordsRemoved).toBeGreaterThan(0);
    expect(steps.some((s) => s.startsWith('rename'))).toBe(true);
    const after = readEverything(dry).entries;
    const afterCommitted = readCommitted(dry);
    await dry.close();
    expect(after.length).toBeLessThan(before.length);

    for (let step = 1; step <= steps.length; step++) {
      const dir = copy();
      const fault = new FaultInjectingFileSystem(nodeFileSystem);
      const log = await openLog({ dir, clock, config, fs: fault, recoveryPoint });
      fault.crashAtOperation(step);
      const error = await cleanOnce(log, clock, { fs: fault, ioBufferSizeBytes: 64 * 1024 }).then(() => undefined, (e: unknown) => e);
      expect(fault.hasCrashed, `step ${step} (${steps[step - 1]}) did not crash the pass: ${String(error)}`).toBe(true);
      expect(error instanceof SimulatedCrashError || (error as { cause?: unknown })?.cause instanceof SimulatedCrashError, String(error)).toBe(true);

      const recovered = await openLog({ dir, clock, config, recoveryPoint });
      const context = `crash before step ${step}: ${steps[step - 1]}`;
      expect([recovered.logStartOffset, recovered.logEndOffset, recovered.highWatermark], context).toEqual([0, end, end]);
      const entries = readEverything(recovered).entries;
      for (let i = 1; i < entries.length; i++) expect(entries[i]!.offset, context).toBeGreaterThan(entries[i - 1]!.offset);
      for (const group of groups) {
        const got = inRange(entries, group.from, group.to);
        const oneOf = [inRange(before, group.from, group.to), inRange(after, group.from, group.to)];
        expect(oneOf, `${context}: offsets ${group.from}..${group.to - 1}`).toContainEqual(got);
      }
      expect(inRange(entries, groups.at(-1)!.to, end), context).toEqual(inRange(before, groups.at(-1)!.to, end));
      const committed = readCommitted(recovered);
      for (const group of groups) {
        const oneOf = [inRange(beforeCommitted, group.from, group.to), inRange(afterCommitted, group.from, group.to)];
        expect(oneOf, `${context}: read_committed offsets ${group.from}..${group.to - 1}`).toContainEqual(inRange(committed, group.from, group.to));
      }
      await cleanOnce(recovered, clock);
      expect(readEverything(recovered).entries, context).toEqual(after);
      expect(readCommitted(recovered), context).toEqual(afterCommitted);
      expect(fs.readdirSync(dir).filter((n) => n.endsWith('.cleaned') || n.endsWith('.deleted')), context).toEqual([]);
      expect((await recovered.append(keyedBatch([{ key: 'k0', value: 'after', timestamp: clock.now }]), Acks.all)).baseOffset, context).toBe(end);
      await recovered.close();
    }
  }, FULL ? 600_000 : 55_000);

  it('recovers again when a crash interrupts the recovery of an interrupted swap, on either side of its commit point', async () => {
    const pristine = tempDir();
    const clock = new ManualClock(5_000_000);
    const original = await openLog({ dir: pristine, clock, config });
    await writeLog(original, clock, 18);
    const before = readEverything(original).entries;
    const recoveryPoint = await original.close();
    const copy = (from: string): string => {
      const dir = tempDir();
      fs.cpSync(from, dir, { recursive: true });
      return dir;
    };
    const dryFs = new FaultInjectingFileSystem(nodeFileSystem);
    const dry = await openLog({ dir: copy(pristine), clock, config, fs: dryFs, recoveryPoint });
    const opsBefore = dryFs.operations.length;
    await cleanOnce(dry, clock, { fs: dryFs, ioBufferSizeBytes: 64 * 1024 });
    const steps = dryFs.operations.slice(opsBefore);
    const after = readEverything(dry).entries;
    await dry.close();
    const commit = steps.findIndex((s) => /\.log\.cleaned -> /.test(s)) + 1;
    for (const step of [commit, commit + 1]) {
      // The state a crash at `step` leaves behind.
      const crashed = copy(pristine);
      const fault = new FaultInjectingFileSystem(nodeFileSystem);
      const log = await openLog({ dir: crashed, clock, config, fs: fault, recoveryPoint });
      fault.crashAtOperation(step);
      await cleanOnce(log, clock, { fs: fault, ioBufferSizeBytes: 64 * 1024 }).catch(() => undefined);
      expect(fault.hasCrashed).toBe(true);
      // How many operations recovering from it takes; then a crash at each of them, and a clean recovery after.
      const dryRecovery = new FaultInjectingFileSystem(nodeFileSystem);
      const probe = copy(crashed);
      await (await openLog({ dir: probe, clock, config, fs: dryRecovery, recoveryPoint })).close();
      const recoverySteps = dryRecovery.operations.length;
      // Renames back or forward, removals and directory fsyncs at least.
      expect(dryRecovery.operations.filter((o) => o.startsWith('rename') || o.startsWith('unlink')).length).toBeGreaterThanOrEqual(4);
      for (let crashAt = 1; crashAt <= recoverySteps; crashAt++) {
        const dir = copy(crashed);
        const again = new FaultInjectingFileSystem(nodeFileSystem);
        again.crashAtOperation(crashAt);
        await openLog({ dir, clock, config, fs: again, recoveryPoint }).then((l) => l.close()).catch(() => undefined);
        const recovered = await openLog({ dir, clock, config, recoveryPoint });
        const entries = readEverything(recovered).entries;
        const context = `crash at step ${step} of the pass (${steps[step - 1]}), then at step ${crashAt} of its recovery (${dryRecovery.operations[crashAt - 1]})`;
        const firstGroupEnd = recovered.segmentsSnapshot()[1]!.baseOffset;
        const inFirst = inRange(entries, 0, firstGroupEnd);
        expect([inRange(before, 0, firstGroupEnd), inRange(after, 0, firstGroupEnd)], context).toContainEqual(inFirst);
        await cleanOnce(recovered, clock);
        expect(readEverything(recovered).entries, context).toEqual(after);
        expect(fs.readdirSync(dir).filter((n) => n.endsWith('.cleaned') || n.endsWith('.deleted')), context).toEqual([]);
        await recovered.close();
      }
    }
  }, FULL ? 600_000 : 55_000);
});
