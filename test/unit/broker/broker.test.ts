import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Acks, Broker, type BrokerOptions, nodeFileSystem } from '../../../broker/mod.ts';
import { FaultInjectingFileSystem } from '../../../broker/log/fault-injecting-file-system.ts';
import { KafkaError, RecordBatchBuilder, readRecordBatches } from '../../../sdk/mod.ts';

const dirs: string[] = [];
const open: Broker[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rill-broker-'));
  dirs.push(dir);
  return dir;
}

async function openBroker(dataDir: string, options: Omit<BrokerOptions, 'config'> & { config?: BrokerOptions['config'] } = {}): Promise<Broker> {
  const broker = await Broker.open({ ...options, config: { dataDir, ...options.config } });
  open.push(broker);
  return broker;
}

afterEach(async () => {
  for (const broker of open.splice(0)) await broker.close().catch(() => undefined);
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const encoder = new TextEncoder();

function batch(values: string[], timestamp = 1_000): Uint8Array {
  const builder = new RecordBatchBuilder({});
  values.forEach((v, i) => builder.append({ key: null, value: encoder.encode(v), headers: [], timestamp: timestamp + i }));
  return builder.seal();
}

function values(records: Uint8Array): string[] {
  const decoder = new TextDecoder();
  return [...readRecordBatches(records)].flatMap((b) => [...b.records()].map((r) => decoder.decode(r.value!)));
}

async function expectKafkaError(promise: Promise<unknown> | (() => unknown), name: string): Promise<KafkaError> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    expect(error).toBeInstanceOf(KafkaError);
    expect((error as KafkaError).errorName).toBe(name);
    return error as KafkaError;
  }
  throw new Error(`expected ${name}`);
}

describe('topics', () => {
  it('creates, lists, describes, alters, grows and deletes topics', async () => {
    const dataDir = tempDir();
    const broker = await openBroker(dataDir);
    const created = await broker.createTopic('orders', { partitions: 3, config: { 'retention.ms': '60000' } });
    expect(created.partitions.map((p) => p.partition)).toEqual([0, 1, 2]);
    expect(created.configs.find((c) => c.name === 'retention.ms')).toEqual({ name: 'retention.ms', value: '60000', isDefault: false });
    expect(created.configs.find((c) => c.name === 'segment.bytes')?.isDefault).toBe(true);
    await broker.createTopic('audit');
    expect(broker.listTopics()).toEqual(['audit', 'orders']);

    await broker.alterTopicConfig('orders', { 'retention.ms': null, 'cleanup.policy': 'compact' });
    const altered = broker.describeTopic('orders').configs;
    expect(altered.find((c) => c.name === 'retention.ms')).toMatchObject({ value: '604800000', isDefault: true });
    expect(altered.find((c) => c.name === 'cleanup.policy')).toMatchObject({ value: 'compact', isDefault: false });

    await broker.createPartitions('orders', 5);
    expect(broker.describeTopic('orders').partitions).toHaveLength(5);
    await broker.append('orders', 4, batch(['new partition']));

    await broker.deleteTopic('audit');
    expect(broker.listTopics()).toEqual(['orders']);
    expect(readdirSync(dataDir).filter((d) => d.startsWith('audit-'))).toEqual([]);
  });

  it('rejects bad names, duplicates, bad counts and bad configs with Kafka error codes', async () => {
    const broker = await openBroker(tempDir());
    await expectKafkaError(broker.createTopic('bad name'), 'INVALID_TOPIC_EXCEPTION');
    await expectKafkaError(broker.createTopic('..'), 'INVALID_TOPIC_EXCEPTION');
    await expectKafkaError(broker.createTopic('x'.repeat(250)), 'INVALID_TOPIC_EXCEPTION');
    await expectKafkaError(broker.createTopic('zero', { partitions: 0 }), 'INVALID_PARTITIONS');
    await expectKafkaError(broker.createTopic('cfg', { config: { 'retention.ms': 'soon' } }), 'INVALID_CONFIG');
    await expectKafkaError(broker.createTopic('cfg', { config: { 'no.such.config': '1' } }), 'INVALID_CONFIG');
    await expectKafkaError(broker.createTopic('cfg', { config: { 'cleanup.policy': 'shred' } }), 'INVALID_CONFIG');
    await broker.createTopic('dup', { partitions: 2 });
    await expectKafkaError(broker.createTopic('dup'), 'TOPIC_ALREADY_EXISTS');
    await expectKafkaError(broker.createPartitions('dup', 2), 'INVALID_PARTITIONS');
    await expectKafkaError(broker.createPartitions('missing', 4), 'UNKNOWN_TOPIC_OR_PARTITION');
    await expectKafkaError(broker.alterTopicConfig('dup', { 'segment.bytes': '-5' }), 'INVALID_CONFIG');
    await expectKafkaError(broker.deleteTopic('missing'), 'UNKNOWN_TOPIC_OR_PARTITION');
    expect(broker.listTopics()).toEqual(['dup']);
    expect(broker.describeTopic('dup').configs.every((c) => c.isDefault)).toBe(true);
  });

  it('bounds the partitions of all topics together, internal topics aside, and creates nothing past the bound', async () => {
    const dataDir = tempDir();
    const broker = await openBroker(dataDir, { config: { maxPartitions: 6 } });
    await broker.createTopic('four', { partitions: 4 });
    const refused = await expectKafkaError(broker.createTopic('three', { partitions: 3 }), 'POLICY_VIOLATION');
    expect(refused.message).toContain('limit of 6');
    await expectKafkaError(() => broker.validateCreateTopic('three', { partitions: 3 }), 'POLICY_VIOLATION');
    await expectKafkaError(broker.createPartitions('four', 7), 'POLICY_VIOLATION');
    expect(broker.describeTopic('four').partitions).toHaveLength(4);
    await broker.createTopic('__internal_state', { partitions: 5 });
    await broker.createPartitions('four', 5);
    await broker.createTopic('one');
    await expectKafkaError(broker.createTopic('more'), 'POLICY_VIOLATION');
    expect(broker.listTopics()).toEqual(['four', 'one']);
    expect(broker.hasTopic('__internal_state')).toBe(true);
    expect(readdirSync(dataDir).filter((d) => d.startsWith('three-') || d.startsWith('more-'))).toEqual([]);
    await broker.deleteTopic('one');
    await broker.createTopic('more');
  });
  it('restores topics, configs and offsets on reopen', async () => {
    const dataDir = tempDir();
    const first = await openBroker(dataDir);
    await first.createTopic('kept', { partitions: 2, config: { 'max.message.bytes': '2048' } });
    await first.append('kept', 1, batch(['a', 'b', 'c']));
    const { topicId } = first.describeTopic('kept');
    await first.close();

    const second = await openBroker(dataDir);
    const described = second.describeTopic('kept');
    expect(described.topicId).toBe(topicId);
    expect(described.partitions.map((p) => p.highWatermark)).toEqual([0, 3]);
    expect(described.configs.find((c) => c.name === 'max.message.bytes')?.value).toBe('2048');
    const [read] = await second.fetch({
      partitions: [{ topic: 'kept', partition: 1, fetchOffset: 0, partitionMaxBytes: 1 << 20 }],
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1 << 20,
    });
    expect(values(read!.records)).toEqual(['a', 'b', 'c']);
  });

  it('trusts the fsynced batches after a clean close only: a killed run leaves no marker and the next open checks every CRC', async () => {
    const dataDir = tempDir();
    const fs = new FaultInjectingFileSystem(nodeFileSystem);
    const first = await openBroker(dataDir, { fs });
    await first.createTopic('kept', { partitions: 1 });
    await first.append('kept', 0, batch(['a', 'b', 'c']), Acks.all);
    await first.append('kept', 0, batch(['d']), Acks.all);
    await first.close();
    expect(readdirSync(dataDir)).toContain('.kafka_cleanshutdown');
    // A byte of the first batch's records rots while the broker is down, below the recovery point.
    const segment = join(dataDir, 'kept-0', '00000000000000000000.log');
    const bytes = readFileSync(segment);
    bytes[70]! ^= 0x40;
    writeFileSync(segment, bytes);

    const second = await openBroker(dataDir, { fs });
    expect(readdirSync(dataDir)).not.toContain('.kafka_cleanshutdown');
    expect(second.describeTopic('kept').partitions[0]!.highWatermark).toBe(4);
    fs.crash({ keepUnsyncedWrites: true });

    const error = await expectKafkaError(Broker.open({ config: { dataDir }, fs }), 'KAFKA_STORAGE_ERROR');
    expect(error.message).toContain(`${segment} at byte 0`);
  });

  it('removes partition directories left by an interrupted delete, and refuses a directory that lost its catalogue', async () => {
    const dataDir = tempDir();
    const first = await openBroker(dataDir);
    await first.createTopic('live');
    await first.close();
    mkdirSync(join(dataDir, 'gone-0'));
    writeFileSync(join(dataDir, 'gone-0', '00000000000000000000.log'), '');
    const second = await openBroker(dataDir);
    expect(readdirSync(dataDir)).not.toContain('gone-0');
    expect(second.listTopics()).toEqual(['live']);
    await second.close();

    rmSync(join(dataDir, 'topics.json'));
    const error = await expectKafkaError(Broker.open({ config: { dataDir } }), 'KAFKA_STORAGE_ERROR');
    expect(error.message).toMatch(/live-0.*no topics\.json/);
    expect(readdirSync(dataDir)).toContain('live-0');
  });

  it('writes the recovery checkpoint one writer at a time while topic changes and the periodic checkpoint overlap', async () => {
    // Fsyncs finish on a later macrotask, so each checkpoint write stays open across several of
    // the 1 ms periodic writes; two writers of the one temp file would rename it from under each other.
    const fs = new FaultInjectingFileSystem(nodeFileSystem);
    const broker = await openBroker(tempDir(), { fs, config: { checkpointIntervalMs: 1 } });
    for (let i = 0; i < 30; i++) await broker.createTopic(`t${i}`, { partitions: 2 });
    expect(broker.listTopics()).toHaveLength(30);
  });

  it('reports an unreadable catalogue instead of starting empty', async () => {
    const dataDir = tempDir();
    writeFileSync(join(dataDir, 'topics.json'), '{"version":1,"topics":[{"name":3}]}');
    const error = await expectKafkaError(Broker.open({ config: { dataDir } }), 'KAFKA_STORAGE_ERROR');
    expect(error.message).toMatch(/topics\.json is unreadable/);
  });
});

describe('append and fetch', () => {
  it('rejects appends to unknown topics and partitions, oversized and corrupt batches', async () => {
    const broker = await openBroker(tempDir());
    await broker.createTopic('small', { partitions: 2, config: { 'max.message.bytes': '1024' } });
    await expectKafkaError(broker.append('nope', 0, batch(['x'])), 'UNKNOWN_TOPIC_OR_PARTITION');
    await expectKafkaError(broker.append('small', 2, batch(['x'])), 'UNKNOWN_TOPIC_OR_PARTITION');
    await expectKafkaError(broker.append('small', -1, batch(['x'])), 'UNKNOWN_TOPIC_OR_PARTITION');
    await expectKafkaError(broker.append('small', 0, batch(['y'.repeat(2000)])), 'MESSAGE_TOO_LARGE');
    const corrupt = batch(['z']);
    corrupt[corrupt.length - 1]! ^= 0xff;
    await expectKafkaError(broker.append('small', 0, corrupt), 'CORRUPT_MESSAGE');
    expect(broker.describeTopic('small').partitions[0]!.logEndOffset).toBe(0);
  });

  it('appendBuilt seals a builder and appends its batch under the checks of append; a delayed-delivery topic still keeps it back', async () => {
    const broker = await openBroker(tempDir());
    await broker.createTopic('small', { partitions: 1, config: { 'max.message.bytes': '1024' } });
    const builder = (values: string[], headers: { key: string; value: Uint8Array }[] = []): RecordBatchBuilder => {
      const b = new RecordBatchBuilder({});
      for (const value of values) b.append({ key: null, value: encoder.encode(value), headers, timestamp: Date.now() });
      return b;
    };
    const appended = await broker.appendBuilt('small', 0, builder(['a', 'b']), Acks.all);
    expect([appended.baseOffset, appended.lastOffset]).toEqual([0, 1]);
    await expectKafkaError(broker.appendBuilt('small', 0, builder(['y'.repeat(2000)])), 'MESSAGE_TOO_LARGE');
    await expectKafkaError(broker.appendBuilt('small', 1, builder(['x'])), 'UNKNOWN_TOPIC_OR_PARTITION');
    const spent = builder(['c']);
    await broker.appendBuilt('small', 0, spent);
    await expect(broker.appendBuilt('small', 0, spent)).rejects.toThrow('seal called twice');
    const transactional = new RecordBatchBuilder({ producerId: 7, producerEpoch: 0, baseSequence: 0, isTransactional: true });
    transactional.append({ key: null, value: encoder.encode('t'), headers: [], timestamp: Date.now() });
    await expectKafkaError(broker.appendBuilt('small', 0, transactional), 'INVALID_TXN_STATE');
    const [read] = await broker.fetch({ partitions: [{ topic: 'small', partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }], maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20 });
    const stored = [...readRecordBatches(read!.records)];
    expect(stored.map((b) => b.verifyCrc())).toEqual([true, true]);
    expect(values(read!.records)).toEqual(['a', 'b', 'c']);

    await broker.createTopic('later', { partitions: 1, config: { 'rill.delayed.delivery': 'true' } });
    const delayed = await broker.appendBuilt('later', 0, builder(['due'], [{ key: 'rill.delay.ms', value: encoder.encode('600000') }]));
    const [held] = await broker.fetch({ partitions: [{ topic: 'later', partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }], maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20 });
    expect(delayed.baseOffset).toBe(0);
    expect(values(held!.records)).toEqual([]);
  });

  it('applies maxBytes across partitions but always returns the first batch whole', async () => {
    const broker = await openBroker(tempDir());
    await broker.createTopic('t', { partitions: 3 });
    const big = batch(['b'.repeat(3000)]);
    await broker.append('t', 0, big);
    await broker.append('t', 1, batch(['small-1']));
    await broker.append('t', 2, batch(['c'.repeat(3000)]));
    const results = await broker.fetch({
      partitions: [0, 1, 2].map((partition) => ({ topic: 't', partition, fetchOffset: 0, partitionMaxBytes: 1000 })),
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1500,
    });
    expect(results[0]!.records.byteLength).toBe(big.byteLength);
    expect(results[1]!.records.byteLength).toBe(0);
    expect(results[2]!.records.byteLength).toBe(0);
    expect(results.map((r) => r.highWatermark)).toEqual([1, 1, 1]);

    const outOfRangeWhenFull = await broker.fetch({
      partitions: [
        { topic: 't', partition: 0, fetchOffset: 0, partitionMaxBytes: 1000 },
        { topic: 't', partition: 1, fetchOffset: 9, partitionMaxBytes: 1000 },
      ],
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1500,
    });
    expect(outOfRangeWhenFull.map((r) => r.error?.errorName)).toEqual([undefined, 'OFFSET_OUT_OF_RANGE']);
  });

  it('answers out-of-range offsets and unknown partitions per partition', async () => {
    const broker = await openBroker(tempDir());
    await broker.createTopic('t');
    await broker.append('t', 0, batch(['a', 'b']));
    const results = await broker.fetch({
      partitions: [
        { topic: 't', partition: 0, fetchOffset: 3, partitionMaxBytes: 1 << 20 },
        { topic: 't', partition: 7, fetchOffset: 0, partitionMaxBytes: 1 << 20 },
        { topic: 't', partition: 0, fetchOffset: 1, partitionMaxBytes: 1 << 20 },
      ],
      maxWaitMs: 10_000,
      minBytes: 1 << 30,
      maxBytes: 1 << 20,
    });
    expect(results.map((r) => r.error?.errorName)).toEqual(['OFFSET_OUT_OF_RANGE', 'UNKNOWN_TOPIC_OR_PARTITION', undefined]);
    expect(values(results[2]!.records)).toEqual(['a', 'b']);
  });

  it('parks a fetch until an append reaches minBytes, on any of its partitions', async () => {
    const broker = await openBroker(tempDir());
    await broker.createTopic('t', { partitions: 2 });
    const parked = broker.fetch({
      partitions: [0, 1].map((partition) => ({ topic: 't', partition, fetchOffset: 0, partitionMaxBytes: 1 << 20 })),
      maxWaitMs: 60_000,
      minBytes: 1,
      maxBytes: 1 << 20,
    });
    await broker.append('t', 1, batch(['wake']));
    const results = await parked;
    expect(values(results[1]!.records)).toEqual(['wake']);
    expect(results[0]!.records.byteLength).toBe(0);
  });

  it('releases parked fetches on abort and on close, and answers empty after maxWaitMs', async () => {
    const broker = await openBroker(tempDir());
    await broker.createTopic('t');
    const request = {
      partitions: [{ topic: 't', partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }],
      maxWaitMs: 60_000,
      minBytes: 1,
      maxBytes: 1 << 20,
    };
    const controller = new AbortController();
    const aborted = broker.fetch(request, controller.signal);
    controller.abort();
    expect((await aborted)[0]!.records.byteLength).toBe(0);

    const timedOut = await broker.fetch({ ...request, maxWaitMs: 20 });
    expect(timedOut[0]!.records.byteLength).toBe(0);

    const closing = broker.fetch(request);
    await broker.close();
    expect((await closing)[0]!.records.byteLength).toBe(0);
    await expectKafkaError(() => broker.fetch(request), 'BROKER_NOT_AVAILABLE');
  });
});

describe('list offsets', () => {
  it('answers earliest, latest and the first offset at or after a timestamp', async () => {
    const broker = await openBroker(tempDir());
    await broker.createTopic('t');
    await broker.append('t', 0, batch(['a', 'b', 'c'], 1_000));
    await broker.append('t', 0, batch(['d', 'e'], 2_000));
    expect(broker.listOffsets('t', 0, -2)).toEqual({ offset: 0, timestamp: -1 });
    expect(broker.listOffsets('t', 0, -1)).toEqual({ offset: 5, timestamp: -1 });
    expect(broker.listOffsets('t', 0, 1_001)).toEqual({ offset: 1, timestamp: 1_001 });
    expect(broker.listOffsets('t', 0, 1_500)).toEqual({ offset: 3, timestamp: 2_000 });
    expect(broker.listOffsets('t', 0, 0)).toEqual({ offset: 0, timestamp: 1_000 });
    expect(broker.listOffsets('t', 0, 9_999)).toEqual({ offset: -1, timestamp: -1 });
    await expectKafkaError(() => broker.listOffsets('t', 0, -7), 'INVALID_REQUEST');
    await expectKafkaError(() => broker.listOffsets('t', 3, -1), 'UNKNOWN_TOPIC_OR_PARTITION');
  });

  it('answers max timestamp (-3) with the first record holding it, in any segment and after a restart; -4 as earliest, -5 as none', async () => {
    const dir = tempDir();
    let broker = await openBroker(dir);
    await broker.createTopic('m', { config: { 'segment.bytes': '1024' } });
    expect(broker.listOffsets('m', 0, -3)).toEqual({ offset: -1, timestamp: -1 });
    const big = (v: string): string => v.padEnd(300, '.');
    await broker.append('m', 0, batch([big('a'), big('b')], 1_000));
    await broker.append('m', 0, batch([big('c'), big('d'), big('e')], 9_000));
    await broker.append('m', 0, batch([big('f')], 9_002));
    for (let i = 0; i < 6; i++) await broker.append('m', 0, batch([big(`late-${i}`), big('more')], 2_000 + 2 * i));
    expect(readdirSync(join(dir, 'm-0')).filter((f) => f.endsWith('.log')).length).toBeGreaterThan(2);
    expect(broker.listOffsets('m', 0, -3)).toEqual({ offset: 4, timestamp: 9_002 });
    expect(broker.listOffsets('m', 0, -4)).toEqual({ offset: 0, timestamp: -1 });
    expect(broker.listOffsets('m', 0, -5)).toEqual({ offset: -1, timestamp: -1 });
    await broker.close();
    broker = await openBroker(dir);
    expect(broker.listOffsets('m', 0, -3)).toEqual({ offset: 4, timestamp: 9_002 });
  });
});
