import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Acks } from '../../../../../broker/log/acks.ts';
import type { PartitionLog } from '../../../../../broker/log/partition-log.ts';
import { AppendOrigin } from '../../../../../broker/producer-state/producer-state-manager.ts';
import { ManualClock, openLog, tempDir } from '../log-test-support.ts';
import { cleanOnce, dropSnapshots, keyedBatch, markerBatch, type ReadEntry, readCommitted, readEverything } from './cleaner-test-support.ts';

/**
 * The cleaner against a model of what Kafka's cleaner keeps. The model is written from the rules,
 * record by record, without an offset map or segments: after a pass that cleaned below offset E
 * (the pass reports E; the test checks E against the last stable offset and the active segment),
 *
 * - a data record below E stays iff it has a key, no later record of its key lies in the pass's
 *   dirty section [first dirty offset, E) of non-aborted data, and, for a tombstone, its batch's
 *   delete horizon has not passed; a batch keeping a tombstone gets horizon now + delete.retention.ms;
 * - data of an aborted transaction below E goes;
 * - a marker below E whose transaction had no batch left when the pass began gets a horizon, and
 *   goes once a pass finds its horizon passed;
 * - a batch the producer state remembers (a producer's last five) keeps its header, so the
 *   producer's retries are still answered as duplicates, also after a restart without snapshots;
 * - offsets and timestamps never change; read_committed sees committed and plain data below the LSO.
 */
const FULL = process.env['RILL_CLEANER_FULL'] === '1';
const DELETE_RETENTION_MS = 3000;
const SEGMENT_MS = 2000;
const config = { segmentBytes: 450, indexIntervalBytes: 128, segmentMs: SEGMENT_MS, compact: true, delete: false, deleteRetentionMs: DELETE_RETENTION_MS };
const RETAINED_BATCHES = 5;

interface MRecord {
  offset: number;
  key: string | null;
  value: string | null;
  timestamp: number;
}

interface MBatch {
  baseOffset: number;
  lastOffset: number;
  producerId: number;
  txn: MTxn | undefined;
  marker: 'COMMIT' | 'ABORT' | undefined;
  records: MRecord[];
  horizon: number | undefined;
  present: boolean;
}

interface MTxn {
  producerId: number;
  firstOffset: number;
  data: MBatch[];
  outcome: 'COMMIT' | 'ABORT' | undefined;
}

interface MProducer {
  producerId: number;
  transactional: boolean;
  nextSequence: number;
  /** Base offsets of its last five data batches, the ones the producer state remembers. */
  remembered: number[];
  last: { bytes: Uint8Array; baseOffset: number; lastOffset: number } | undefined;
  open: MTxn | undefined;
}

class Model {
  readonly batches: MBatch[] = [];
  readonly txns: MTxn[] = [];
  firstDirtyOffset = 0;
  logEndOffset = 0;

  get lastStableOffset(): number {
    const open = this.txns.filter((t) => t.outcome === undefined).map((t) => t.firstOffset);
    return Math.min(this.logEndOffset, ...open);
  }

  present(): MBatch[] {
    return this.batches.filter((b) => b.present);
  }

  entries(): ReadEntry[] {
    return this.present().flatMap((b) =>
      b.marker !== undefined
        ? [{ offset: b.baseOffset, key: null, value: null, timestamp: b.records[0]!.timestamp, marker: b.marker }]
        : b.records.map((r) => ({ offset: r.offset, key: r.key, value: r.value, timestamp: r.timestamp })),
    );
  }

  committed(): ReadEntry[] {
    const lso = this.lastStableOffset;
    return this.present()
      .filter((b) => b.marker === undefined && (b.txn === undefined || b.txn.outcome === 'COMMIT'))
      .flatMap((b) => b.records.filter((r) => r.offset < lso).map((r) => ({ offset: r.offset, key: r.key, value: r.value, timestamp: r.timestamp })));
  }

  clean(endOffset: number, nowMs: number, producers: readonly MProducer[]): void {
    const atStart = new Set(this.present());
    const aborted = (b: MBatch): boolean => b.txn?.outcome === 'ABORT';
    const latest = new Map<string, number>();
    for (const b of atStart) {
      if (b.marker !== undefined || aborted(b)) continue;
      for (const r of b.records) if (r.key !== null && r.offset >= this.firstDirtyOffset && r.offset < endOffset) latest.set(r.key, r.offset);
    }
    const remembers = (b: MBatch): boolean => producers.some((p) => p.producerId === b.producerId && p.remembered.includes(b.baseOffset));
    for (const b of [...atStart].filter((x) => x.baseOffset < endOffset)) {
      if (b.marker !== undefined) {
        if (b.txn!.data.some((d) => atStart.has(d))) continue;
        if (b.horizon === undefined) b.horizon = nowMs + DELETE_RETENTION_MS;
        else if (b.horizon <= nowMs) b.present = false;
        continue;
      }
      const kept = aborted(b)
        ? []
        : b.records.filter(
            (r) =>
              r.offset >= endOffset ||
              (r.key !== null && (latest.get(r.key) ?? -1) <= r.offset && (r.value !== null || b.horizon === undefined || nowMs < b.horizon)),
          );
      b.records = kept;
      if (kept.length === 0) {
        if (!remembers(b)) b.present = false;
        continue;
      }
      if (b.horizon === undefined && kept.some((r) => r.value === null)) b.horizon = nowMs + DELETE_RETENTION_MS;
    }
    this.firstDirtyOffset = Math.max(this.firstDirtyOffset, endOffset);
  }
}

const recordSpec = fc.record({ key: fc.option(fc.integer({ min: 0, max: 5 }), { freq: 12 }), tombstone: fc.boolean() });
const records = fc.array(recordSpec, { minLength: 1, maxLength: 4 });
const op = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('append' as const), producer: fc.integer({ min: -1, max: 1 }), records, gzip: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('txn' as const), producer: fc.integer({ min: 0, max: 1 }), records, gzip: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('end' as const), producer: fc.integer({ min: 0, max: 1 }), commit: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('clean' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.oneof(fc.integer({ min: 0, max: 4000 }), fc.constant(DELETE_RETENTION_MS)) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('roll' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reopen' as const), dropSnapshots: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('retry' as const), producer: fc.integer({ min: 0, max: 3 }) }) },
);

/** The first segment base the cleaner may not reach, as Kafka computes it. */
function firstUncleanableOffset(log: PartitionLog): number {
  const bound = Math.min(log.lastStableOffset, log.activeSegmentBaseOffset);
  let base = log.logStartOffset;
  for (const segment of log.segmentsSnapshot()) if (segment.baseOffset <= bound) base = segment.baseOffset;
  return base;
}

describe('log cleaner against a model', () => {
  it('keeps what Kafka keeps over random appends, transactions, passes, clock advances and restarts', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 30, maxLength: FULL ? 150 : 50 }), fc.constantFrom(96, 384, 1 << 20), async (ops, mapBytes) => {
        const dir = tempDir();
        const clock = new ManualClock(1_000_000);
        let log = await openLog({ dir, clock, config });
        const model = new Model();
        const producers: MProducer[] = [
          { producerId: 100, transactional: false, nextSequence: 0, remembered: [], last: undefined, open: undefined },
          { producerId: 101, transactional: false, nextSequence: 0, remembered: [], last: undefined, open: undefined },
          { producerId: 200, transactional: true, nextSequence: 0, remembered: [], last: undefined, open: undefined },
          { producerId: 201, transactional: true, nextSequence: 0, remembered: [], last: undefined, open: undefined },
        ];
        let value = 0;
        const appendData = async (producer: MProducer | undefined, specs: { key: number | null; tombstone: boolean }[], gzip: boolean): Promise<void> => {
          const recs = specs.map((s, i) => ({ key: s.key === null ? null : `k${s.key}`, value: s.tombstone && s.key !== null ? null : `v${value++}`, timestamp: clock.now + i }));
          const bytes = keyedBatch(recs, {
            compression: gzip ? 'gzip' : 'none',
            producerId: producer?.producerId ?? -1,
            producerEpoch: producer === undefined ? -1 : 0,
            baseSequence: producer?.nextSequence ?? -1,
            isTransactional: producer?.transactional ?? false,
          });
          const original = bytes.slice();
          const result = await log.append(bytes, Acks.all);
          expect(result.baseOffset).toBe(model.logEndOffset);
          const batch: MBatch = {
            baseOffset: result.baseOffset,
            lastOffset: result.lastOffset,
            producerId: producer?.producerId ?? -1,
            txn: undefined,
            marker: undefined,
            records: recs.map((r, i) => ({ ...r, offset: result.baseOffset + i })),
            horizon: undefined,
            present: true,
          };
          model.batches.push(batch);
          model.logEndOffset = result.lastOffset + 1;
          if (producer === undefined) return;
          producer.nextSequence += recs.length;
          producer.remembered = [...producer.remembered, result.baseOffset].slice(-RETAINED_BATCHES);
          producer.last = { bytes: original, baseOffset: result.baseOffset, lastOffset: result.lastOffset };
          if (producer.transactional) {
            if (producer.open === undefined) {
              producer.open = { producerId: producer.producerId, firstOffset: result.baseOffset, data: [], outcome: undefined };
              model.txns.push(producer.open);
            }
            producer.open.data.push(batch);
            batch.txn = producer.open;
          }
        };
        const check = (): void => {
          expect([log.logStartOffset, log.logEndOffset, log.highWatermark, log.lastStableOffset]).toEqual([0, model.logEndOffset, model.logEndOffset, model.lastStableOffset]);
          const read = readEverything(log).entries;
          expect(read).toEqual(model.entries());
          for (let i = 1; i < read.length; i++) expect(read[i]!.offset).toBeGreaterThan(read[i - 1]!.offset);
          expect(readCommitted(log)).toEqual(model.committed());
        };
        const end = async (producer: MProducer, type: 'COMMIT' | 'ABORT'): Promise<void> => {
          const txn = producer.open;
          if (txn === undefined) return;
          const result = await log.append(markerBatch(producer.producerId, type, clock.now), Acks.all, AppendOrigin.coordinator);
          txn.outcome = type;
          producer.open = undefined;
          model.batches.push({ baseOffset: result.baseOffset, lastOffset: result.lastOffset, producerId: producer.producerId, txn, marker: type, records: [{ offset: result.baseOffset, key: null, value: null, timestamp: clock.now }], horizon: undefined, present: true });
          model.logEndOffset = result.lastOffset + 1;
        };
        const clean = async (): Promise<void> => {
          const bound = firstUncleanableOffset(log);
          const lso = log.lastStableOffset;
          const result = await cleanOnce(log, clock, { dedupeBufferSizeBytes: mapBytes, ioBufferSizeBytes: 256 });
          expect(result.endOffset).toBeLessThanOrEqual(bound);
          expect(result.endOffset).toBeLessThanOrEqual(lso);
          if (mapBytes > 4096) expect(result.endOffset).toBe(bound);
          model.clean(result.endOffset, clock.now, producers);
        };
        try {
          for (const o of ops) {
            if (o.kind === 'append') {
              await appendData(o.producer < 0 ? undefined : producers[o.producer], o.records, o.gzip);
            } else if (o.kind === 'txn') {
              await appendData(producers[2 + o.producer], o.records, o.gzip);
            } else if (o.kind === 'end') {
              await end(producers[2 + o.producer]!, o.commit ? 'COMMIT' : 'ABORT');
            } else if (o.kind === 'clean') {
              await clean();
            } else if (o.kind === 'advance') {
              clock.now += o.ms;
            } else if (o.kind === 'roll') {
              clock.now += SEGMENT_MS + 1;
              log.rollIfAged();
              await log.flush();
            } else if (o.kind === 'reopen') {
              const recoveryPoint = await log.close();
              if (o.dropSnapshots) dropSnapshots(dir);
              log = await openLog({ dir, clock, config, recoveryPoint });
            } else {
              const producer = producers[o.producer]!;
              if (producer.last === undefined || (producer.transactional && producer.open === undefined)) continue;
              const result = await log.append(producer.last.bytes.slice(), Acks.all);
              expect([result.baseOffset, result.lastOffset]).toEqual([producer.last.baseOffset, producer.last.lastOffset]);
            }
            check();
          }
          // Transactions end and time passes: passes drop emptied transactions' markers and expired tombstones.
          for (const producer of producers) await end(producer, 'ABORT');
          // Six more transactions per transactional producer, each overwriting one key, so the older
          // transactions leave the producer state's last five batches and can be emptied entirely.
          for (let i = 0; i < 6; i++) {
            for (const producer of producers.filter((p) => p.transactional)) {
              await appendData(producer, [{ key: 0, tombstone: false }], false);
              await end(producer, i % 2 === 0 ? 'COMMIT' : 'ABORT');
            }
          }
          for (let round = 0; round < 6; round++) {
            clock.now += DELETE_RETENTION_MS + SEGMENT_MS + 1;
            log.rollIfAged();
            await log.flush();
            await clean();
            check();
          }
          // Restart from the log alone, then the retries of every producer's last batch are still duplicates.
          await log.close();
          dropSnapshots(dir);
          log = await openLog({ dir, clock, config, recoveryPoint: 0 });
          check();
          for (const producer of producers) {
            if (producer.last === undefined) continue;
            const result = await log.append(producer.last.bytes.slice(), Acks.all);
            expect([result.baseOffset, result.lastOffset]).toEqual([producer.last.baseOffset, producer.last.lastOffset]);
          }
          expect(log.logEndOffset).toBe(model.logEndOffset);
        } finally {
          await log.close();
        }
      }),
      { numRuns: FULL ? 300 : 5 },
    );
  }, FULL ? 600_000 : 55_000);
});
