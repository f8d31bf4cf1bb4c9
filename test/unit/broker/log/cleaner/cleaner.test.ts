import * as fs from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isKafkaError } from '../../../../../sdk/protocol/kafka-error.ts';
import { BatchAttribute, CompressionType } from '../../../../../sdk/record/batch-header.ts';
import { Acks } from '../../../../../broker/log/acks.ts';
import { CLEANER_CHECKPOINT_FILE, readCleanerCheckpoint } from '../../../../../broker/log/cleaner/cleaner-checkpoint.ts';
import { murmur3x128 } from '../../../../../broker/log/cleaner/key-hash.ts';
import { OffsetMap } from '../../../../../broker/log/cleaner/offset-map.ts';
import { FaultInjectingFileSystem } from '../../../../../broker/log/fault-injecting-file-system.ts';
import { nodeFileSystem } from '../../../../../broker/log/file-system.ts';
import type { PartitionLog } from '../../../../../broker/log/partition-log.ts';
import { AppendOrigin } from '../../../../../broker/producer-state/producer-state-manager.ts';
import { readRecordBatches } from '../../../../../sdk/record/record-batch-reader.ts';
import { ManualClock, openLog, segmentFiles, tempDir } from '../log-test-support.ts';
import { cleanOnce, dropSnapshots, keyedBatch, markerBatch, readCommitted, readEverything } from './cleaner-test-support.ts';

const compact = { compact: true, delete: false, segmentBytes: 600, segmentMs: 1, indexIntervalBytes: 100, deleteRetentionMs: 1000 };

/** Seals the active segment (the clock only moves when a test moves it, so appends never roll by age). */
function roll(log: PartitionLog, clock: ManualClock): void {
  clock.now += 2;
  expect(log.rollIfAged()).toBe(true);
}
const encoder = new TextEncoder();

/** `count` batches of two records over keys k0..k(keys-1), values v<i>-<j>. */
async function overwrite(log: PartitionLog, clock: ManualClock, count: number, keys: number, from = 0): Promise<void> {
  for (let i = from; i < from + count; i++) {
    const records = [0, 1].map((j) => ({ key: `k${(2 * i + j) % keys}`, value: `v${i}-${j}`, timestamp: clock.now + i }));
    await log.append(keyedBatch(records, { compression: i % 2 === 0 ? 'gzip' : 'none' }), Acks.all);
  }
}

function latestPerKey(entries: readonly { key: string | null; value: string | null }[]): Map<string | null, string | null> {
  return new Map(entries.map((e) => [e.key, e.value]));
}

describe('offset map', () => {
  it('hashes with MurmurHash3 x86_128', () => {
    const out = new Int32Array(4);
    const key = encoder.encode('The quick brown fox jumps over the lazy dog');
    murmur3x128(key, 0, key.length, out);
    expect([...out].map((w) => (w >>> 0).toString(16).padStart(8, '0')).join('')).toBe('2f1583c3ecee2c675d7bf66ce5e91d2c');
  });

  it('keeps the latest offset per key, never more keys than its bound, within its buffer', () => {
    const map = new OffsetMap(24 * 10, 0.9, 1_000_000);
    expect(map.slots).toBe(10);
    expect(map.maxEntries).toBe(9);
    const key = (i: number): Uint8Array => encoder.encode(`key-${i}`);
    for (let i = 0; i < 9; i++) expect(map.put(key(i), 0, key(i).length, i)).toBe(true);
    expect(map.put(key(9), 0, key(9).length, 9)).toBe(false);
    expect(map.put(key(3), 0, key(3).length, 42)).toBe(true);
    expect([map.get(key(3), 0, key(3).length), map.get(key(0), 0, key(0).length), map.get(key(9), 0, key(9).length)]).toEqual([42, 0, -1]);
    expect(new OffsetMap(1 << 30, 0.9, 100).slots).toBeLessThan(200);
  });
});

describe('log cleaner passes', () => {
  it('cleans a log too large for its offset map in several passes, the checkpoint surviving restarts', async () => {
    const dir = tempDir();
    const clock = new ManualClock();
    let log = await openLog({ dir, clock, config: compact });
    await overwrite(log, clock, 40, 30);
    await log.append(keyedBatch([{ key: 'k0', value: 'last', timestamp: clock.now }]), Acks.all);
    roll(log, clock);
    const expected = latestPerKey(readEverything(log).entries);
    const dirty = log.activeSegmentBaseOffset;
    const ends: number[] = [];
    for (let pass = 0; pass < 20; pass++) {
      const result = await cleanOnce(log, clock, { dedupeBufferSizeBytes: 24 * 12 });
      ends.push(result.endOffset);
      expect((await readCleanerCheckpoint(nodeFileSystem, dir)).firstDirtyOffset).toBe(result.endOffset);
      const recoveryPoint = await log.close();
      log = await openLog({ dir, clock, config: compact, recoveryPoint });
      if (result.endOffset === result.range.firstUncleanableOffset) break;
    }
    expect(ends.length).toBeGreaterThan(3);
    for (let i = 1; i < ends.length; i++) expect(ends[i]).toBeGreaterThan(ends[i - 1]!);
    const { entries } = readEverything(log);
    expect(latestPerKey(entries)).toEqual(expected);
    expect(entries.filter((e) => e.offset < dirty).map((e) => e.key).sort()).toEqual([...new Set(entries.filter((e) => e.offset < dirty).map((e) => e.key))].sort());
    await log.close();
  });

  it('keeps offsets, timestamps and each batch\'s codec, producer fields and offset span', async () => {
    const dir = tempDir();
    const clock = new ManualClock();
    const log = await openLog({ dir, clock, config: compact });
    const records = [
      { key: 'a', value: '1', timestamp: 100 },
      { key: 'b', value: '2', timestamp: 150 },
      { key: 'a', value: null, timestamp: 120 },
    ];
    await log.append(keyedBatch(records, { compression: 'gzip', producerId: 9, producerEpoch: 3, baseSequence: 0 }), Acks.all);
    await log.append(keyedBatch([{ key: 'b', value: '3', timestamp: 90 }]), Acks.all);
    roll(log, clock);
    await log.append(keyedBatch([{ key: 'c', value: '4', timestamp: 95 }]), Acks.all);
    await cleanOnce(log, clock);
    const [first] = [...readRecordBatches(log.read(0, 10_000).records)];
    expect(first!.compression).toBe(CompressionType.gzip);
    expect(first!.verifyCrc()).toBe(true);
    expect(first!.header).toMatchObject({ baseOffset: 0, lastOffsetDelta: 2, producerId: 9, producerEpoch: 3, baseSequence: 0, recordsCount: 1, maxTimestamp: 120 });
    expect((first!.attributes & BatchAttribute.deleteHorizon) !== 0).toBe(true);
    expect(first!.header.baseTimestamp).toBe(clock.now + compact.deleteRetentionMs);
    expect(readEverything(log).entries).toEqual([
      { offset: 2, key: 'a', value: null, timestamp: 120 },
      { offset: 3, key: 'b', value: '3', timestamp: 90 },
      { offset: 4, key: 'c', value: '4', timestamp: 95 },
    ]);
    await log.close();
  });

  it('still answers a retried batch as a duplicate after its records were cleaned away and the broker restarted without snapshots', async () => {
    const dir = tempDir();
    const clock = new ManualClock();
    let log = await openLog({ dir, clock, config: compact });
    const sent: Uint8Array[] = [];
    for (let i = 0; i < 8; i++) {
      const bytes = keyedBatch([{ key: 'only', value: `v${i}`, timestamp: clock.now }], { producerId: 5, producerEpoch: 0, baseSequence: i });
      sent.push(bytes.slice());
      await log.append(bytes, Acks.all);
    }
    roll(log, clock);
    await log.append(keyedBatch([{ key: 'only', value: 'plain', timestamp: clock.now }]), Acks.all);
    roll(log, clock);
    await cleanOnce(log, clock);
    expect(readEverything(log).entries.map((e) => e.value)).toEqual(['plain']);
    await log.close();
    dropSnapshots(dir);
    log = await openLog({ dir, clock, config: compact, recoveryPoint: 0 });
    for (const i of [3, 7]) expect(await log.append(sent[i]!.slice(), Acks.all)).toMatchObject({ baseOffset: i, lastOffset: i });
    expect(log.logEndOffset).toBe(9);
    const outOfOrder = keyedBatch([{ key: 'only', value: 'gap', timestamp: clock.now }], { producerId: 5, producerEpoch: 0, baseSequence: 10 });
    expect(isKafkaError(await log.append(outOfOrder, Acks.all).catch((e: unknown) => e), 'OUT_OF_ORDER_SEQUENCE_NUMBER')).toBe(true);
    const next = keyedBatch([{ key: 'only', value: 'next', timestamp: clock.now }], { producerId: 5, producerEpoch: 0, baseSequence: 8 });
    expect((await log.append(next, Acks.all)).baseOffset).toBe(9);
    await log.close();
  });

  it('drops aborted data, keeps markers until their transaction is gone and delete.retention.ms has passed, and never cleans past an open transaction', async () => {
    const dir = tempDir();
    const clock = new ManualClock();
    const log = await openLog({ dir, clock, config: compact });
    const txn = (producerId: number, key: string, value: string, sequence = 0): Uint8Array =>
      keyedBatch([{ key, value, timestamp: clock.now }], { producerId, producerEpoch: 0, baseSequence: sequence, isTransactional: true });
    await log.append(txn(1, 'x', 'aborted'), Acks.all);
    await log.append(txn(2, 'y', 'committed'), Acks.all);
    await log.append(markerBatch(1, 'ABORT', clock.now), Acks.all, AppendOrigin.coordinator);
    await log.append(markerBatch(2, 'COMMIT', clock.now), Acks.all, AppendOrigin.coordinator);
    await log.append(txn(3, 'z', 'open'), Acks.all);
    for (let i = 0; i < 8; i++) await log.append(keyedBatch([{ key: 'y', value: `plain${i}`, timestamp: clock.now }]), Acks.all);
    expect(log.lastStableOffset).toBe(4);
    roll(log, clock);
    const bounded = await cleanOnce(log, clock);
    expect(bounded.endOffset).toBe(0);
    expect(readEverything(log).entries.length).toBe(13);

    await log.append(markerBatch(3, 'COMMIT', clock.now), Acks.all, AppendOrigin.coordinator);
    roll(log, clock);
    await cleanOnce(log, clock);
    const markers = (): string[] => readEverything(log).entries.filter((e) => e.marker !== undefined).map((e) => `${e.offset}:${e.marker}`);
    expect(readEverything(log).entries.filter((e) => e.marker === undefined).map((e) => e.value)).toEqual(['open', 'plain7']);
    expect(markers()).toEqual(['2:ABORT', '3:COMMIT', '13:COMMIT']);
    expect(readCommitted(log).map((e) => e.value)).toEqual(['open', 'plain7']);
    // Producers 1 and 2 are still remembered, so their data batches keep an empty header and their
    // transactions are not gone: the markers stay whatever the time.
    clock.now += 10 * compact.deleteRetentionMs;
    await cleanOnce(log, clock);
    expect(markers()).toEqual(['2:ABORT', '3:COMMIT', '13:COMMIT']);
    // Once the producers expire, a pass drops the headers (keeping the markers, as it met the
    // batches), the next starts the markers' delete horizon, and one after it drops them.
    expect(log.expireProducers(0)).toBe(3);
    await cleanOnce(log, clock);
    expect(markers()).toEqual(['2:ABORT', '3:COMMIT', '13:COMMIT']);
    await cleanOnce(log, clock);
    clock.now += compact.deleteRetentionMs - 1;
    await cleanOnce(log, clock);
    expect(markers()).toEqual(['2:ABORT', '3:COMMIT', '13:COMMIT']);
    clock.now += 1;
    await cleanOnce(log, clock);
    expect(markers()).toEqual(['13:COMMIT']);
    expect(readCommitted(log).map((e) => e.value)).toEqual(['open', 'plain7']);
    await log.close();
  });
});

describe('recovery of cleaned logs', () => {
  it('accepts offset gaps in cleaned segments after a full rescan, and their indexes serve every offset', async () => {
    const dir = tempDir();
    const clock = new ManualClock();
    let log = await openLog({ dir, clock, config: compact });
    await overwrite(log, clock, 30, 4);
    roll(log, clock);
    await cleanOnce(log, clock);
    const cleaned = readEverything(log);
    const end = log.logEndOffset;
    await log.close();
    for (const name of segmentFiles(dir, '.index')) fs.rmSync(join(dir, name));
    log = await openLog({ dir, clock, config: compact, recoveryPoint: 0 });
    expect(log.logEndOffset).toBe(end);
    expect(readEverything(log, 1)).toEqual(cleaned);
    for (let offset = 0; offset < end; offset++) {
      const expected = cleaned.entries.find((e) => e.offset >= offset)!;
      const [batch] = [...readRecordBatches(log.read(offset, 1).records)];
      expect(batch!.lastOffset).toBeGreaterThanOrEqual(expected.offset);
      expect(batch!.baseOffset).toBeLessThanOrEqual(expected.offset);
    }
    await log.close();
  });

  it('treats a gap in a segment the cleaner never rewrote as corruption', async () => {
    const dir = tempDir();
    const clock = new ManualClock();
    const log = await openLog({ dir, clock, config: compact });
    await overwrite(log, clock, 30, 4);
    const end = log.logEndOffset;
    await log.close();
    const segment = join(dir, segmentFiles(dir, '.log')[0]!);
    fs.rmSync(join(dir, segmentFiles(dir, '.index')[0]!));
    const bytes = fs.readFileSync(segment);
    const dv = new DataView(bytes.buffer, bytes.byteOffset);
    const second = dv.getInt32(8) + 12;
    dv.setBigInt64(second, dv.getBigInt64(second) + 1n);
    fs.writeFileSync(segment, bytes);
    const error = await openLog({ dir, clock, config: compact, recoveryPoint: end }).catch((e: unknown) => e);
    expect(isKafkaError(error, 'KAFKA_STORAGE_ERROR'), String(error)).toBe(true);
    expect(String(error)).toContain(`${segment} at byte ${second}: baseOffset 3, expected 2`);
    expect(fs.existsSync(join(dir, CLEANER_CHECKPOINT_FILE))).toBe(false);
  });

  it('treats a batch of a cleaned segment reaching into the next segment as corruption', async () => {
    const dir = tempDir();
    const clock = new ManualClock();
    const log = await openLog({ dir, clock, config: compact });
    await overwrite(log, clock, 30, 4);
    roll(log, clock);
    await cleanOnce(log, clock);
    const end = log.logEndOffset;
    const segments = log.segmentsSnapshot();
    const victim = segments.findLast((s, i) => i < segments.length - 1 && !s.isEmpty)!;
    const next = segments[segments.indexOf(victim) + 1]!.baseOffset;
    await log.close();
    const segment = victim.logPath;
    fs.rmSync(victim.indexPath);
    const bytes = fs.readFileSync(segment);
    const dv = new DataView(bytes.buffer, bytes.byteOffset);
    let last = 0;
    for (let at = 0; at < bytes.length; at += dv.getInt32(at + 8) + 12) last = at;
    dv.setBigInt64(last, BigInt(next));
    fs.writeFileSync(segment, bytes);
    const error = await openLog({ dir, clock, config: compact, recoveryPoint: end }).catch((e: unknown) => e);
    expect(isKafkaError(error, 'KAFKA_STORAGE_ERROR'), String(error)).toBe(true);
    expect(String(error)).toContain(`starts at ${next}`);
  });
});

describe('failed swaps', () => {
  for (const failing of ['the commit rename', 'an index rename after the commit point'] as const) {
    it(`keeps the partition serving when ${failing} fails, and the next open finishes the job`, async () => {
      const dir = tempDir();
      const clock = new ManualClock();
      const fault = new FaultInjectingFileSystem(nodeFileSystem);
      let log = await openLog({ dir, clock, config: compact, fs: fault });
      await overwrite(log, clock, 20, 3);
      roll(log, clock);
      await log.flush();
      const before = readEverything(log).entries;
      fault.failNextOperation((op) => (failing === 'the commit rename' ? op.includes('.log.cleaned ->') : op.includes('.timeindex.cleaned ->')));
      const error = await cleanOnce(log, clock, { fs: fault }).catch((e: unknown) => e);
      expect(String(error)).toContain('EIO');
      const during = readEverything(log).entries;
      if (failing === 'the commit rename') expect(during).toEqual(before);
      else expect(during.length).toBeLessThan(before.length);
      expect(latestPerKey(during)).toEqual(latestPerKey(before));
      expect((await log.append(keyedBatch([{ key: 'k0', value: 'more', timestamp: clock.now }]), Acks.all)).baseOffset).toBe(40);
      const recoveryPoint = await log.close();
      log = await openLog({ dir, clock, config: compact, recoveryPoint });
      expect(readEverything(log).entries.slice(0, -1)).toEqual(during);
      expect(fs.readdirSync(dir).filter((n) => n.endsWith('.cleaned') || n.endsWith('.deleted'))).toEqual([]);
      await cleanOnce(log, clock);
      expect(latestPerKey(readEverything(log).entries)).toEqual(new Map([...latestPerKey(before), ['k0', 'more']]));
      await log.close();
    });
  }
});

describe('reads over cleaned logs', () => {
  it('reads past headers kept only for producer state, unless nothing else is left below the bound', async () => {
    const dir = tempDir();
    const clock = new ManualClock();
    const log = await openLog({ dir, clock, config: compact });
    for (let i = 0; i < 3; i++) await log.append(keyedBatch([{ key: 'k', value: `v${i}`, timestamp: clock.now }], { producerId: 4, producerEpoch: 0, baseSequence: i }), Acks.all);
    await log.append(keyedBatch([{ key: 'j', value: 'keep', timestamp: clock.now }]), Acks.all);
    await log.append(keyedBatch([{ key: 'k', value: 'last', timestamp: clock.now }]), Acks.all);
    roll(log, clock);
    await cleanOnce(log, clock);
    const first = [...readRecordBatches(log.read(0, 1).records)];
    expect(first.map((b) => [b.baseOffset, b.recordsCount])).toEqual([[3, 1]]);
    await log.close();
  });
});
