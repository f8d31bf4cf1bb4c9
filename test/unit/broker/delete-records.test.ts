import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Broker } from '../../../broker/mod.ts';
import { KafkaError, RecordBatchBuilder, readRecordBatches } from '../../../sdk/mod.ts';

const dirs: string[] = [];
const open: Broker[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rill-delete-records-'));
  dirs.push(dir);
  return dir;
}

async function openBroker(dataDir: string): Promise<Broker> {
  const broker = await Broker.open({ config: { dataDir } });
  open.push(broker);
  return broker;
}

afterEach(async () => {
  for (const broker of open.splice(0)) await broker.close().catch(() => undefined);
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const encoder = new TextEncoder();

/** Appends `count` single-record batches of ~300 bytes, so 1 KiB segments roll every few records. */
async function fill(broker: Broker, topic: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const builder = new RecordBatchBuilder({});
    builder.append({ key: null, value: encoder.encode(`v${i}-${'x'.repeat(280)}`), headers: [], timestamp: 1_000 + i });
    await broker.append(topic, 0, builder.seal());
  }
}

async function readFrom(broker: Broker, topic: string, offset: number): Promise<number[]> {
  const offsets: number[] = [];
  for (let at = offset; ; ) {
    const [result] = await broker.fetch({ partitions: [{ topic, partition: 0, fetchOffset: at, partitionMaxBytes: 1 << 20 }], maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20 });
    if (result!.error !== undefined) throw result!.error;
    const batches = [...readRecordBatches(result!.records)];
    if (batches.length === 0) return offsets;
    for (const b of batches) for (const r of b.records()) if (r.offset >= offset) offsets.push(r.offset);
    at = batches.at(-1)!.lastOffset + 1;
  }
}

async function expectKafkaError(promise: Promise<unknown>, name: string): Promise<void> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(KafkaError);
  expect((error as KafkaError).errorName).toBe(name);
}

const segmentFiles = (dataDir: string, topic: string) => readdirSync(join(dataDir, `${topic}-0`)).filter((f) => f.endsWith('.log')).sort();

describe('DeleteRecords (KIP-107)', () => {
  it('moves the log start offset inside a segment, deletes the segments below it, and refuses reads below it', async () => {
    const dataDir = tempDir();
    const broker = await openBroker(dataDir);
    await broker.createTopic('t', { partitions: 1, config: { 'segment.bytes': '1024' } });
    await fill(broker, 't', 20);
    const before = segmentFiles(dataDir, 't');
    expect(before.length).toBeGreaterThan(3);

    expect(await broker.deleteRecords('t', 0, 7)).toBe(7);
    expect(broker.describeTopic('t').partitions[0]!.logStartOffset).toBe(7);
    expect(broker.listOffsets('t', 0, -2).offset).toBe(7);
    const after = segmentFiles(dataDir, 't');
    expect(after.length).toBeLessThan(before.length);
    expect(Number(after[0]!.slice(0, 20))).toBeLessThanOrEqual(7);
    expect(await readFrom(broker, 't', 7)).toEqual(Array.from({ length: 13 }, (_, i) => 7 + i));
    const [below] = await broker.fetch({ partitions: [{ topic: 't', partition: 0, fetchOffset: 6, partitionMaxBytes: 1024 }], maxWaitMs: 0, minBytes: 0, maxBytes: 1024 });
    expect(below!.error?.errorName).toBe('OFFSET_OUT_OF_RANGE');

    // Lower than the current start: nothing changes; -1: up to the high watermark.
    expect(await broker.deleteRecords('t', 0, 3)).toBe(7);
    expect(await broker.deleteRecords('t', 0, -1)).toBe(20);
    expect(await readFrom(broker, 't', 20)).toEqual([]);
    await fill(broker, 't', 2);
    expect(await readFrom(broker, 't', 20)).toEqual([20, 21]);
  });

  it('keeps the new log start offset across a restart, and a recreated topic of the same name does not inherit it', async () => {
    const dataDir = tempDir();
    let broker = await openBroker(dataDir);
    await broker.createTopic('t', { partitions: 1, config: { 'segment.bytes': '1024' } });
    await fill(broker, 't', 12);
    await broker.deleteRecords('t', 0, 5);
    await broker.close();

    broker = await openBroker(dataDir);
    expect(broker.describeTopic('t').partitions[0]!.logStartOffset).toBe(5);
    expect(await readFrom(broker, 't', 5)).toHaveLength(7);
    await broker.deleteTopic('t');
    await broker.createTopic('t', { partitions: 1 });
    await fill(broker, 't', 8);
    await broker.close();

    broker = await openBroker(dataDir);
    expect(broker.describeTopic('t').partitions[0]!.logStartOffset).toBe(0);
    expect(await readFrom(broker, 't', 0)).toHaveLength(8);
  });

  it('answers OFFSET_OUT_OF_RANGE past the high watermark, UNKNOWN_TOPIC_OR_PARTITION, and INVALID_TOPIC_EXCEPTION for internal topics, changing nothing', async () => {
    const dataDir = tempDir();
    const broker = await openBroker(dataDir);
    await broker.createTopic('t', { partitions: 1 });
    await broker.createTopic('__internal_state', { partitions: 1 });
    await fill(broker, 't', 3);
    await expectKafkaError(broker.deleteRecords('t', 0, 4), 'OFFSET_OUT_OF_RANGE');
    await expectKafkaError(broker.deleteRecords('t', 0, -5), 'OFFSET_OUT_OF_RANGE');
    await expectKafkaError(broker.deleteRecords('t', 1, 0), 'UNKNOWN_TOPIC_OR_PARTITION');
    await expectKafkaError(broker.deleteRecords('nope', 0, 0), 'UNKNOWN_TOPIC_OR_PARTITION');
    await expectKafkaError(broker.deleteRecords('__internal_state', 0, 0), 'INVALID_TOPIC_EXCEPTION');
    expect(await readFrom(broker, 't', 0)).toEqual([0, 1, 2]);
  });
});
