import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { Broker } from '../../../../broker/mod.ts';
import { MqttBatchAppender } from '../../../../broker/mqtt/mqtt-batch-appender.ts';
import { IsolationLevel, KafkaError, readRecordBatches } from '../../../../sdk/mod.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
let broker: Broker | undefined;
let dataDir: string | undefined;

afterEach(async () => {
  await broker?.close();
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
});

async function batchesOf(topic: string): Promise<string[][]> {
  const [result] = await broker!.fetch({
    partitions: [{ topic, partition: 0, fetchOffset: 0, partitionMaxBytes: 8 << 20 }],
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 8 << 20,
    isolationLevel: IsolationLevel.readUncommitted,
  });
  return [...readRecordBatches(result!.records)].map((b) => [...b.records()].map((r) => decoder.decode(r.value!)));
}

it('appends what arrives in one event loop turn as one batch per partition, in arrival order, fsynced when any record needs it', async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'rill-mqtt-batch-'));
  broker = await Broker.open({ config: { dataDir } });
  await broker.createTopic('sensors', { partitions: 1 });
  const appender = new MqttBatchAppender(broker);
  const appended = Array.from({ length: 2500 }, (_, i) => appender.append('sensors', 0, { value: encoder.encode(`m${i}`), headers: [] }, i % 2 === 0));
  await Promise.all(appended);
  const batches = await batchesOf('sensors');
  // 1,000 records per batch at most.
  expect(batches.map((b) => b.length)).toEqual([1000, 1000, 500]);
  expect(batches.flat()).toEqual(Array.from({ length: 2500 }, (_, i) => `m${i}`));
  expect(broker.topicLayout('sensors').partitions).toBe(1);
});

it('a record the log refuses fails alone: the others of its batch are appended once each', async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'rill-mqtt-batch-'));
  broker = await Broker.open({ config: { dataDir } });
  await broker.createTopic('small', { partitions: 1, config: { 'max.message.bytes': '1000' } });
  const appender = new MqttBatchAppender(broker);
  const sizes = [10, 10, 2000, 10, 10];
  const settled = await Promise.allSettled(sizes.map((n, i) => appender.append('small', 0, { value: encoder.encode(String(i).padEnd(n, '.')), headers: [] }, true)));
  expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
  const refused = settled[2] as PromiseRejectedResult;
  expect(refused.reason).toBeInstanceOf(KafkaError);
  expect((refused.reason as KafkaError).errorName).toBe('MESSAGE_TOO_LARGE');
  expect((await batchesOf('small')).flat().map((v) => v[0])).toEqual(['0', '1', '3', '4']);
});
