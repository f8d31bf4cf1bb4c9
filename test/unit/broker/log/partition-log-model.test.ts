import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isKafkaError } from '../../../../sdk/protocol/kafka-error.ts';
import { Acks } from '../../../../broker/log/acks.ts';
import type { PartitionLog } from '../../../../broker/log/partition-log.ts';
import { concatBytes, makeBatch, splitBatches, withBaseOffset } from '../../../helpers/batch-fixture.ts';
import { ManualClock, openLog, tempDir } from './log-test-support.ts';

interface ModelBatch {
  baseOffset: number;
  lastOffset: number;
  bytes: Uint8Array;
}

const batchSpec = fc.record({ recordsCount: fc.integer({ min: 1, max: 5 }), payloadBytes: fc.integer({ min: 0, max: 900 }) });
const op = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('append' as const), batches: fc.array(batchSpec, { minLength: 1, maxLength: 3 }) }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('read' as const), pick: fc.nat(), maxBytes: fc.integer({ min: 1, max: 4000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('age' as const), ms: fc.integer({ min: 0, max: 2000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reopen' as const) }) },
);

function expectRead(log: PartitionLog, model: ModelBatch[], offset: number, maxBytes: number): void {
  const end = model.at(-1)?.lastOffset ?? -1;
  if (offset < 0 || offset > end + 1) {
    let caught: unknown;
    try {
      log.read(offset, maxBytes);
    } catch (error) {
      caught = error;
    }
    expect(isKafkaError(caught, 'OFFSET_OUT_OF_RANGE'), String(caught)).toBe(true);
    return;
  }
  const { records, highWatermark } = log.read(offset, maxBytes);
  expect(highWatermark).toBe(end + 1);
  if (offset === end + 1) {
    expect(records.length).toBe(0);
    return;
  }
  const first = model.findIndex((b) => b.lastOffset >= offset);
  const got = splitBatches(records);
  expect(got.length).toBeGreaterThanOrEqual(1);
  expect(got.map((b) => b.bytes)).toEqual(model.slice(first, first + got.length).map((b) => b.bytes));
  if (got.length > 1) expect(records.length).toBeLessThanOrEqual(maxBytes);
}

describe('PartitionLog against an in-memory model', () => {
  it('agrees on offsets and bytes over random appends, rolls, reads and reopens', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 60 }), async (ops) => {
        const dir = tempDir();
        const clock = new ManualClock();
        const config = { segmentBytes: 3000, segmentMs: 1500, indexIntervalBytes: 512 };
        let log = await openLog({ dir, clock, config });
        const model: ModelBatch[] = [];
        let seed = 0;
        try {
          for (const o of ops) {
            if (o.kind === 'append') {
              const batches = o.batches.map((spec) => makeBatch({ ...spec, seed: seed++ }));
              const result = await log.append(concatBytes(batches), Acks.all);
              let next = (model.at(-1)?.lastOffset ?? -1) + 1;
              expect(result.baseOffset).toBe(next);
              for (const [i, batch] of batches.entries()) {
                const recordsCount = o.batches[i]!.recordsCount;
                model.push({ baseOffset: next, lastOffset: next + recordsCount - 1, bytes: withBaseOffset(batch, next) });
                next += recordsCount;
              }
              expect(result.lastOffset).toBe(next - 1);
            } else if (o.kind === 'read') {
              const end = (model.at(-1)?.lastOffset ?? -1) + 1;
              expectRead(log, model, (o.pick % (end + 3)) - 1, o.maxBytes);
            } else if (o.kind === 'age') {
              clock.now += o.ms;
            } else {
              const recoveryPoint = await log.close();
              log = await openLog({ dir, clock, config, recoveryPoint });
            }
            expect(log.logEndOffset).toBe((model.at(-1)?.lastOffset ?? -1) + 1);
          }
          for (const b of model) {
            expect(log.read(b.baseOffset, 1).records).toEqual(b.bytes);
            expect(log.read(b.lastOffset, 1).records).toEqual(b.bytes);
          }
        } finally {
          await log.close();
        }
      }),
      { seed: 20261121, numRuns: 80 },
    );
  });
});
