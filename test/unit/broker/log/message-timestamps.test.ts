import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Acks, Broker } from '../../../../broker/mod.ts';
import { KafkaError, RecordBatchBuilder, readRecordBatches, TimestampType } from '../../../../sdk/mod.ts';
import type { CompressionName } from '../../../../sdk/record/compression.ts';

const dirs: string[] = [];
const open: Broker[] = [];
let nowMs = 1_700_000_000_000;
const clock = { nowMs: () => nowMs };

async function openBroker(dataDir?: string): Promise<{ broker: Broker; dataDir: string }> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'rill-timestamps-'));
  if (dataDir === undefined) dirs.push(dir);
  const broker = await Broker.open({ config: { dataDir: dir }, clock });
  open.push(broker);
  return { broker, dataDir: dir };
}

afterEach(async () => {
  for (const broker of open.splice(0)) await broker.close().catch(() => undefined);
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  nowMs = 1_700_000_000_000;
});

function batch(timestamps: readonly number[], compression: CompressionName = 'none'): Uint8Array {
  const builder = new RecordBatchBuilder({ compression });
  timestamps.forEach((timestamp, i) => builder.append({ key: null, value: new TextEncoder().encode(`v${i}`), headers: [], timestamp }));
  return builder.seal();
}

async function readAll(broker: Broker, topic: string): Promise<{ timestamps: number[]; types: number[]; crcOk: boolean[] }> {
  const [result] = await broker.fetch({ partitions: [{ topic, partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }], maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20 });
  const batches = [...readRecordBatches(result!.records)];
  return {
    timestamps: batches.flatMap((b) => [...b.records()].map((r) => r.timestamp)),
    types: batches.map((b) => b.timestampType),
    crcOk: batches.map((b) => b.verifyCrc()),
  };
}

async function refusal(promise: Promise<unknown>): Promise<KafkaError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof KafkaError) return error;
    throw error;
  }
  throw new Error('expected a KafkaError');
}

describe('message.timestamp.type = LogAppendTime', () => {
  it('stamps every produced batch with the broker clock, compressed or not, and the stamp survives a restart', async () => {
    const { broker, dataDir } = await openBroker();
    await broker.createTopic('stamped', { partitions: 1, config: { 'message.timestamp.type': 'LogAppendTime' } });
    const first = await broker.append('stamped', 0, batch([5, 6, 7]), Acks.all);
    expect(first.logAppendTimeMs).toBe(nowMs);
    nowMs += 1_000;
    const second = await broker.append('stamped', 0, batch([1, 2], 'gzip'), Acks.all);
    expect(second.logAppendTimeMs).toBe(nowMs);
    const expected = { timestamps: [nowMs - 1_000, nowMs - 1_000, nowMs - 1_000, nowMs, nowMs], types: [TimestampType.LogAppendTime, TimestampType.LogAppendTime], crcOk: [true, true] };
    expect(await readAll(broker, 'stamped')).toEqual(expected);
    await broker.close();
    const reopened = await openBroker(dataDir);
    expect(await readAll(reopened.broker, 'stamped')).toEqual(expected);
  });

  it('leaves CreateTime topics, the default, with the producer timestamps and answers logAppendTime -1', async () => {
    const { broker } = await openBroker();
    await broker.createTopic('created', { partitions: 1 });
    expect((await broker.append('created', 0, batch([5, 6]), Acks.all)).logAppendTimeMs).toBe(-1);
    expect(await readAll(broker, 'created')).toEqual({ timestamps: [5, 6], types: [TimestampType.CreateTime], crcOk: [true] });
  });

  it('refuses a timestamp type Kafka does not have, naming the config', async () => {
    const { broker } = await openBroker();
    const error = await refusal(broker.createTopic('bad', { config: { 'message.timestamp.type': 'BrokerTime' } }));
    expect(error.errorName).toBe('INVALID_CONFIG');
    expect(error.message).toContain('message.timestamp.type');
  });
});

describe('CreateTime timestamp bounds', () => {
  it('refuse a whole append holding one record older than before.max.ms or newer than after.max.ms, also inside a compressed batch', async () => {
    const { broker } = await openBroker();
    await broker.createTopic('bounded', { partitions: 1, config: { 'message.timestamp.before.max.ms': '60000', 'message.timestamp.after.max.ms': '1000' } });
    await broker.append('bounded', 0, batch([nowMs - 60_000, nowMs, nowMs + 1_000]), Acks.all);
    for (const [timestamps, compression] of [
      [[nowMs, nowMs - 60_001], 'none'],
      [[nowMs, nowMs + 1_001, nowMs], 'lz4'],
      [[nowMs - 1, nowMs - 120_000, nowMs], 'zstd'],
    ] as const) {
      const error = await refusal(broker.append('bounded', 0, batch(timestamps, compression), Acks.all));
      expect(error.errorName).toBe('INVALID_TIMESTAMP');
      expect(error.message).toMatch(/timestamp -?\d+ of record \d in batch 0 for bounded-0 is out of range/);
    }
    expect(broker.describeTopic('bounded').partitions[0]!.logEndOffset).toBe(3);
  });

  it('take the deprecated difference.max.ms as both bounds where they are unbounded', async () => {
    const { broker } = await openBroker();
    await broker.createTopic('difference', { partitions: 1, config: { 'message.timestamp.difference.max.ms': '500', 'message.timestamp.before.max.ms': '10000' } });
    await broker.append('difference', 0, batch([nowMs - 10_000, nowMs + 500]), Acks.all);
    expect((await refusal(broker.append('difference', 0, batch([nowMs + 501]), Acks.all))).errorName).toBe('INVALID_TIMESTAMP');
    expect((await refusal(broker.append('difference', 0, batch([nowMs - 10_001]), Acks.all))).errorName).toBe('INVALID_TIMESTAMP');
  });

  it('are not checked for LogAppendTime topics, whose timestamps the broker sets', async () => {
    const { broker } = await openBroker();
    await broker.createTopic('stamped', { partitions: 1, config: { 'message.timestamp.type': 'LogAppendTime', 'message.timestamp.before.max.ms': '0' } });
    await broker.append('stamped', 0, batch([1]), Acks.all);
    expect((await readAll(broker, 'stamped')).timestamps).toEqual([nowMs]);
  });
});

describe('min.insync.replicas and flush configs', () => {
  it('refuse acks=all produce when min.insync.replicas exceeds the one replica, accept acks=1', async () => {
    const { broker } = await openBroker();
    await broker.createTopic('strict', { partitions: 1, config: { 'min.insync.replicas': '2' } });
    const error = await refusal(broker.append('strict', 0, batch([nowMs]), Acks.all));
    expect(error.errorName).toBe('NOT_ENOUGH_REPLICAS');
    expect(error.message).toContain('min.insync.replicas 2');
    expect((await broker.append('strict', 0, batch([nowMs]), Acks.leader)).baseOffset).toBe(0);
    await broker.alterTopicConfig('strict', { 'min.insync.replicas': '1' });
    expect((await broker.append('strict', 0, batch([nowMs]), Acks.all)).baseOffset).toBe(1);
  });

  it('accept and describe flush.messages and flush.ms, and bound them as Kafka does', async () => {
    const { broker } = await openBroker();
    await broker.createTopic('flushed', { partitions: 1, config: { 'flush.messages': '1', 'flush.ms': '0' } });
    const configs = new Map(broker.describeTopic('flushed').configs.map((c) => [c.name, c.value]));
    expect([configs.get('flush.messages'), configs.get('flush.ms'), configs.get('min.insync.replicas')]).toEqual(['1', '0', '1']);
    expect(configs.get('message.timestamp.after.max.ms')).toBe('9223372036854775807');
    const error = await refusal(broker.createTopic('zero', { config: { 'flush.messages': '0' } }));
    expect(error.errorName).toBe('INVALID_CONFIG');
    expect(error.message).toContain('flush.messages');
  });
});
