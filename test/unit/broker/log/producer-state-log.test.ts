import * as fs from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Acks } from '../../../../broker/log/acks.ts';
import { decodeTxnIndex } from '../../../../broker/log/transaction-index.ts';
import { AppendOrigin } from '../../../../broker/producer-state/producer-state-manager.ts';
import { buildControlBatch, readRecordBatches, RecordBatchBuilder } from '../../../../sdk/record/mod.ts';
import { openLog, segmentFiles, tempDir } from './log-test-support.ts';

function batch(producerId: number, baseSequence: number, records: number, isTransactional = false, producerEpoch = 0): Uint8Array {
  const builder = new RecordBatchBuilder({ producerId, producerEpoch, baseSequence, isTransactional });
  for (let i = 0; i < records; i++) builder.append({ value: new TextEncoder().encode(`p${producerId}-s${baseSequence + i}`), timestamp: 1 });
  return builder.seal();
}

function marker(producerId: number, type: 'COMMIT' | 'ABORT', producerEpoch = 0): Uint8Array {
  return buildControlBatch({ producerId, producerEpoch, type, coordinatorEpoch: 0, timestamp: 1 });
}

function values(records: Uint8Array): string[] {
  const out: string[] = [];
  for (const b of readRecordBatches(records)) if (!b.isControl) for (const r of b.records()) out.push(new TextDecoder().decode(r.value!));
  return out;
}

describe('PartitionLog with idempotent producers', () => {
  it('answers a retried batch with its original offsets without writing it again', async () => {
    const log = await openLog({ dir: tempDir() });
    expect((await log.append(batch(5, 0, 3), Acks.all)).baseOffset).toBe(0);
    expect((await log.append(batch(5, 3, 2), Acks.all)).baseOffset).toBe(3);
    expect(await log.append(batch(5, 0, 3), Acks.all)).toMatchObject({ baseOffset: 0, lastOffset: 2 });
    await expect(log.append(batch(5, 9, 1), Acks.all)).rejects.toMatchObject({ errorName: 'OUT_OF_ORDER_SEQUENCE_NUMBER' });
    expect(log.logEndOffset).toBe(5);
    await log.close();
  });

  it('keeps duplicate detection across a clean close (snapshot) and across a crash (replay of the log)', async () => {
    const dir = tempDir();
    const log = await openLog({ dir });
    await log.append(batch(5, 0, 3), Acks.all);
    await log.append(batch(6, 0, 1, true), Acks.all);
    await log.close();
    expect(segmentFiles(dir, '.snapshot')).toEqual(['00000000000000000004.snapshot']);

    const reopened = await openLog({ dir, recoveryPoint: 4 });
    expect(await reopened.append(batch(5, 0, 3), Acks.all)).toMatchObject({ baseOffset: 0 });
    expect(reopened.lastStableOffset).toBe(3);
    await reopened.append(batch(5, 3, 1), Acks.all);
    // No close: the state after the snapshot comes back from replaying batch headers.
    const crashed = await openLog({ dir, recoveryPoint: 4 });
    expect(await crashed.append(batch(5, 3, 1), Acks.all)).toMatchObject({ baseOffset: 4 });
    await expect(crashed.append(batch(5, 7, 1), Acks.all)).rejects.toMatchObject({ errorName: 'OUT_OF_ORDER_SEQUENCE_NUMBER' });
    expect(crashed.lastStableOffset).toBe(3);
    await crashed.close();
    await reopened.close();
  });

  it('serves read_committed below the LSO, omits aborted data, lists aborted transactions and writes .txnindex at roll', async () => {
    const dir = tempDir();
    const log = await openLog({ dir, config: { segmentBytes: 400 } });
    await log.append(batch(1, 0, 1), Acks.all); // 0 plain idempotent
    await log.append(batch(2, 0, 2, true), Acks.all); // 1-2 txn of 2, to abort
    await log.append(batch(3, 0, 1, true), Acks.all); // 3 txn of 3, to commit
    expect(log.lastStableOffset).toBe(1);
    expect(values(log.readCommitted(0, 1 << 20).records)).toEqual(['p1-s0']);
    await log.append(marker(2, 'ABORT'), Acks.all, AppendOrigin.coordinator); // 4
    expect(log.lastStableOffset).toBe(3);
    await log.append(marker(3, 'COMMIT'), Acks.all, AppendOrigin.coordinator); // 5
    expect(log.lastStableOffset).toBe(6);
    const read = log.readCommitted(0, 1 << 20);
    expect(values(read.records)).toEqual(['p1-s0', 'p3-s0']);
    expect(values(log.read(0, 1 << 20).records)).toContain('p2-s0');
    await log.append(batch(1, 1, 30), Acks.all); // rolls
    const txnIndexes = segmentFiles(dir, '.txnindex');
    expect(txnIndexes.length).toBe(1);
    expect(decodeTxnIndex(fs.readFileSync(join(dir, txnIndexes[0]!)))).toEqual([{ producerId: 2, firstOffset: 1, lastOffset: 4, lastStableOffset: 3 }]);
    // Starting the read inside the aborted range: nothing aborted comes back, the reader still advances.
    const fromInside = log.readCommitted(2, 1 << 20);
    expect(values(fromInside.records)[0]).toBe('p3-s0');
    expect(fromInside.abortedTransactions).toEqual([{ producerId: 2, firstOffset: 1 }]);
    await log.close();

    const reopened = await openLog({ dir });
    expect(values(reopened.readCommitted(0, 1 << 20).records)).toEqual(['p1-s0', 'p3-s0']);
    await reopened.close();
  });

  it('rebuilds the aborted-transaction index from the log when no snapshot covers it', async () => {
    const dir = tempDir();
    const log = await openLog({ dir });
    await log.append(batch(2, 0, 2, true), Acks.all);
    await log.append(marker(2, 'ABORT'), Acks.all, AppendOrigin.coordinator);
    await log.append(batch(4, 0, 1), Acks.all);
    // Crash: no close, so no snapshot and no .txnindex for the active segment.
    const reopened = await openLog({ dir });
    expect(values(reopened.readCommitted(0, 1 << 20).records)).toEqual(['p4-s0']);
    expect(reopened.lastStableOffset).toBe(4);
    await reopened.close();
    await log.close();
  });
});
