import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Acks, Broker, type BrokerOptions, ListOffsetsTimestamp } from '../../../broker/mod.ts';
import { replayPartition } from '../../../broker/replay-partition.ts';
import { KafkaListener } from '../../../broker/kafka/kafka-listener.ts';
import { Consumer, isKafkaError, RecordBatchBuilder, readRecordBatches, stringSerde, TcpTransport } from '../../../sdk/mod.ts';
import { ManualClock } from './log/log-test-support.ts';

const dirs: string[] = [];
const closers: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function openBroker(clock: ManualClock, config: BrokerOptions['config'] = {}): Promise<Broker> {
  const dataDir = mkdtempSync(join(tmpdir(), 'rill-compaction-'));
  dirs.push(dataDir);
  const broker = await Broker.open({ clock, config: { dataDir, cleanerEnable: false, ...config } });
  closers.push(() => broker.close());
  return broker;
}

const encoder = new TextEncoder();

function batch(records: { key: string; value: string | null; timestamp: number }[]): Uint8Array {
  const builder = new RecordBatchBuilder({ compression: 'gzip' });
  for (const r of records) builder.append({ key: encoder.encode(r.key), value: r.value === null ? null : encoder.encode(r.value), timestamp: r.timestamp });
  return builder.seal();
}

/** A compacted topic whose first segment holds one batch of k1..k5 (offsets 0-4), the second k3..k5 again (5-7), the active one k9 (8). */
async function compactedWithTailGap(broker: Broker, clock: ManualClock, topic = 'profiles'): Promise<void> {
  await broker.createTopic(topic, { config: { 'cleanup.policy': 'compact', 'segment.ms': '1000' } });
  const roll = async (): Promise<void> => {
    clock.now += 1001;
    await broker.applyRetention();
  };
  await broker.append(topic, 0, batch(['k1', 'k2', 'k3', 'k4', 'k5'].map((key, i) => ({ key, value: `old-${key}`, timestamp: 1000 + i }))));
  await roll();
  await broker.append(topic, 0, batch(['k3', 'k4', 'k5'].map((key, i) => ({ key, value: `new-${key}`, timestamp: 2000 + i }))));
  await roll();
  await broker.append(topic, 0, batch([{ key: 'k9', value: 'nine', timestamp: 3000 }]));
  await broker.logCleaner.runRound();
}

describe('compacted topics through the broker', () => {
  it('leave a batch whose tail records were removed, which fetches, replays and the SDK consumer move past', async () => {
    const clock = new ManualClock();
    const broker = await openBroker(clock);
    await compactedWithTailGap(broker, clock);
    const status = broker.describeTopic('profiles').partitions[0]!.cleaner!;
    expect(status).toMatchObject({ state: 'idle', passes: 1 });
    expect(status.lastPass!.recordsRemoved).toBe(3);

    // A fetch at 2 with a small byte limit gets the cleaned batch alone: its records all lie below the fetch offset.
    const [fetched] = await broker.fetch({ partitions: [{ topic: 'profiles', partition: 0, fetchOffset: 2, partitionMaxBytes: 1 }], maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20 });
    const batches = [...readRecordBatches(fetched!.records)];
    expect(batches.map((b) => [b.baseOffset, b.lastOffset, [...b.records()].map((r) => r.offset)])).toEqual([[0, 4, [0, 1]]]);

    const replayed: number[] = [];
    await replayPartition(broker, 'profiles', 0, (record) => replayed.push(record.offset));
    expect(replayed).toEqual([0, 1, 5, 6, 7, 8]);

    // Over a socket on 127.0.0.1, so a consumer that never moved on would spin through real I/O and the deadline below could fire.
    const listener = await KafkaListener.start(broker, { host: '127.0.0.1', port: 0, limits: { shutdownGraceMs: 0 } });
    const transport = new TcpTransport({ bootstrapServers: [`127.0.0.1:${listener.port}`] });
    // One batch per fetch, so the first answer is that batch alone.
    const consumer = new Consumer(transport, { keySerde: stringSerde, valueSerde: stringSerde, maxWaitMs: 50, maxPartitionBytes: 1 });
    closers.push(async () => {
      await consumer.close();
      await transport.close();
      await listener.close();
    });
    consumer.assign([{ topic: 'profiles', partition: 0, offset: 2 }]);
    const seen: string[] = [];
    const consume = async (): Promise<void> => {
      for await (const record of consumer) {
        seen.push(`${record.offset}:${record.key}=${record.value}`);
        if (record.offset === 8) break;
      }
    };
    // A consumer that advanced by its last record (2) instead of the batch's last offset (5) would fetch offset 2 forever.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stuck = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`the consumer is stuck, it got ${seen.join(' ')}`)), 10_000)));
    await Promise.race([consume(), stuck]).finally(() => clearTimeout(timer));
    expect(seen).toEqual(['5:k3=new-k3', '6:k4=new-k4', '7:k5=new-k5', '8:k9=nine']);
    expect(consumer.position({ topic: 'profiles', partition: 0 })).toBe(9);
  });

  it('answers ListOffsets over gaps: earliest stays the log start, timestamps find the next record kept', async () => {
    const clock = new ManualClock();
    const broker = await openBroker(clock);
    await compactedWithTailGap(broker, clock);
    expect(broker.listOffsets('profiles', 0, ListOffsetsTimestamp.earliest).offset).toBe(0);
    expect(broker.listOffsets('profiles', 0, ListOffsetsTimestamp.latest).offset).toBe(9);
    expect(broker.listOffsets('profiles', 0, 1001)).toEqual({ offset: 1, timestamp: 1001 });
    // Offsets 2-4 (timestamps 1002-1004) were removed: the first record at or after 1003 is offset 5.
    expect(broker.listOffsets('profiles', 0, 1003)).toEqual({ offset: 5, timestamp: 2000 });
    expect(broker.listOffsets('profiles', 0, ListOffsetsTimestamp.maxTimestamp)).toEqual({ offset: 8, timestamp: 3000 });
    expect(broker.listOffsets('profiles', 0, 3001).offset).toBe(-1);
  });

  it('keeps compact-only segments from retention, applies both under compact,delete, and validates the knobs', async () => {
    const clock = new ManualClock();
    const broker = await openBroker(clock);
    await broker.createTopic('kept', { config: { 'cleanup.policy': 'compact', 'retention.ms': '1000', 'segment.ms': '1000' } });
    await broker.createTopic('both', { config: { 'cleanup.policy': 'compact,delete', 'retention.ms': '1000', 'segment.ms': '1000' } });
    for (const topic of ['kept', 'both']) await broker.append(topic, 0, batch([{ key: 'a', value: 'x', timestamp: clock.now }]), Acks.all);
    clock.now += 5000;
    // Both active segments roll (segment.ms); only the compact,delete topic's goes.
    expect(await broker.applyRetention()).toBe(1);
    expect(broker.describeTopic('kept').partitions[0]!.logStartOffset).toBe(0);
    expect(broker.describeTopic('both').partitions[0]!.logStartOffset).toBe(1);

    const configs = new Map(broker.describeTopic('kept').configs.map((c) => [c.name, c.value]));
    expect([configs.get('min.cleanable.dirty.ratio'), configs.get('delete.retention.ms'), configs.get('min.compaction.lag.ms'), configs.get('max.compaction.lag.ms')]).toEqual([
      '0.5',
      '86400000',
      '0',
      '9223372036854775807',
    ]);
    await broker.alterTopicConfig('kept', { 'min.cleanable.dirty.ratio': '0.1', 'max.compaction.lag.ms': '60000' });
    expect(broker.describeTopic('kept').configs.find((c) => c.name === 'min.cleanable.dirty.ratio')).toEqual({ name: 'min.cleanable.dirty.ratio', value: '0.1', isDefault: false });
    const bads: Record<string, string>[] = [{ 'min.cleanable.dirty.ratio': '1.5' }, { 'min.compaction.lag.ms': '70000' }, { 'delete.retention.ms': '-1' }];
    for (const bad of bads) {
      expect(isKafkaError(await broker.alterTopicConfig('kept', bad).catch((e: unknown) => e), 'INVALID_CONFIG')).toBe(true);
    }
  });

  it('cleans in the background with log.cleaner.enable, and reports it in the topic description', async () => {
    const clock = new ManualClock();
    const broker = await openBroker(clock, { cleanerEnable: true, cleanerBackoffMs: 5 });
    await broker.createTopic('state', { config: { 'cleanup.policy': 'compact', 'segment.ms': '1000' } });
    for (let i = 0; i < 20; i++) await broker.append('state', 0, batch([{ key: 'only', value: `v${i}`, timestamp: clock.now }]));
    clock.now += 1001;
    // The cleaner rolls the idle active segment itself (segment.ms), then compacts it.
    await new Promise<void>((resolve) => {
      const poll = (): void => ((broker.describeTopic('state').partitions[0]!.cleaner?.passes ?? 0) > 0 ? resolve() : void setTimeout(poll, 5));
      poll();
    });
    const [fetched] = await broker.fetch({ partitions: [{ topic: 'state', partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }], maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20 });
    expect([...readRecordBatches(fetched!.records)].flatMap((b) => [...b.records()].map((r) => r.offset))).toEqual([19]);
    expect(broker.describeTopic('state').partitions[0]!.cleaner).toMatchObject({ state: 'idle', errors: 0, lastError: null, firstDirtyOffset: 20 });
  });
});
