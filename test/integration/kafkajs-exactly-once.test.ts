import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { Broker } from '../../broker/broker.ts';
import { KafkaListener } from '../../broker/kafka/kafka-listener.ts';
import { ApiKey } from '../../sdk/protocol/mod.ts';
import { readRecordBatches } from '../../sdk/record/mod.ts';
import { DroppingProxy } from '../helpers/dropping-proxy.ts';
import { RawKafkaClient } from '../helpers/raw-kafka-client.ts';
import { fetchRequest } from '../helpers/read-partition.ts';

interface Harness {
  broker: Broker;
  listener: KafkaListener;
  proxy: DroppingProxy;
  kafka: Kafka;
}

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** An in-process broker behind a proxy that loses the responses `drop` picks; clients only know the proxy. */
async function start(drop: (apiKey: number, n: number) => boolean = () => false): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'rill-eos-'));
  const broker = await Broker.open({ config: { dataDir } });
  let listener: KafkaListener | undefined;
  const proxy = await DroppingProxy.start(() => listener!.port, drop);
  listener = await KafkaListener.start(broker, { host: '127.0.0.1', port: 0, advertisedPort: proxy.port });
  const kafka = new Kafka({ clientId: 'eos-test', brokers: [proxy.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 20, maxRetryTime: 200 } });
  cleanups.push(async () => {
    await proxy.close();
    await listener!.close();
    await broker.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return { broker, listener, proxy, kafka };
}

/** An in-process broker that clients reach directly, with broker-side connection errors surfaced. */
async function startDirect(): Promise<{ broker: Broker; listener: KafkaListener; kafka: Kafka; serverErrors: unknown[] }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'rill-eos-'));
  const broker = await Broker.open({ config: { dataDir } });
  const serverErrors: unknown[] = [];
  const listener = await KafkaListener.start(broker, { host: '127.0.0.1', port: 0, limits: { onError: (error) => serverErrors.push(error) } });
  const kafka = new Kafka({ clientId: 'eos-test', brokers: [`127.0.0.1:${listener.port}`], logLevel: process.env.DBG ? logLevel.WARN : logLevel.NOTHING });
  cleanups.push(async () => {
    await listener.close();
    await broker.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return { broker, listener, kafka, serverErrors };
}

const decoder = new TextDecoder();

/** Every record value a read_committed (or read_uncommitted) fetch returns from offset 0, with the LSO seen. */
async function readValues(port: number, topic: string, partition: number, isolationLevel: 0 | 1): Promise<{ values: string[]; lastStableOffset: bigint }> {
  const raw = await RawKafkaClient.connect(port);
  const values: string[] = [];
  let offset = 0n;
  let lastStableOffset = -1n;
  try {
    for (;;) {
      const response = await raw.request(ApiKey.Fetch, 11, fetchRequest(topic, partition, offset, { isolationLevel }));
      const data = response.responses[0]!.partitions[0]!;
      expect(data.errorCode).toBe(0);
      lastStableOffset = data.lastStableOffset;
      const before = offset;
      for (const batch of readRecordBatches(data.records!)) {
        if (!batch.isControl) for (const record of batch.records()) if (record.offset >= offset) values.push(decoder.decode(record.value!));
        offset = BigInt(batch.lastOffset) + 1n;
      }
      if (offset === before) return { values, lastStableOffset };
    }
  } finally {
    raw.close();
  }
}

describe('kafkajs idempotent producer', () => {
  it('writes every record exactly once although produce responses are lost and retried', async () => {
    // Every third Produce response is lost after the broker appended the batch.
    let produces = 0;
    const h = await start((apiKey) => apiKey === ApiKey.Produce && ++produces % 3 === 0);
    await h.broker.createTopic('idem', { partitions: 2 });
    const producer = h.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const sent: string[] = [];
    for (let i = 0; i < 30; i++) {
      const messages = Array.from({ length: 5 }, (_, j) => ({ value: `m-${i}-${j}`, partition: i % 2 }));
      await producer.send({ topic: 'idem', acks: -1, messages });
      sent.push(...messages.map((m) => m.value));
    }
    await producer.disconnect();
    expect(h.proxy.dropped.length).toBeGreaterThanOrEqual(9);
    const received = [
      ...(await readValues(h.listener.port, 'idem', 0, 0)).values,
      ...(await readValues(h.listener.port, 'idem', 1, 0)).values,
    ];
    expect(received.sort()).toEqual(sent.sort());
  });
});

describe('kafkajs transactions', () => {
  it('makes a committed transaction visible atomically across topics and partitions, and an aborted one never', async () => {
    const h = await start();
    await h.broker.createTopic('txn-a', { partitions: 2 });
    await h.broker.createTopic('txn-b', { partitions: 1 });
    const producer = h.kafka.producer({ transactionalId: 'tx-1', idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();

    const committed = await producer.transaction();
    await committed.send({ topic: 'txn-a', messages: [{ value: 'c-a0', partition: 0 }, { value: 'c-a1', partition: 1 }] });
    await committed.send({ topic: 'txn-b', messages: [{ value: 'c-b0', partition: 0 }] });
    // Before the commit a read_committed reader sees nothing, a read_uncommitted one everything.
    expect((await readValues(h.listener.port, 'txn-a', 0, 1)).values).toEqual([]);
    expect((await readValues(h.listener.port, 'txn-a', 0, 0)).values).toEqual(['c-a0']);
    await committed.commit();

    const aborted = await producer.transaction();
    await aborted.send({ topic: 'txn-a', messages: [{ value: 'x-a0', partition: 0 }, { value: 'x-a1', partition: 1 }] });
    await aborted.send({ topic: 'txn-b', messages: [{ value: 'x-b0', partition: 0 }] });
    await aborted.abort();

    const last = await producer.transaction();
    await last.send({ topic: 'txn-a', messages: [{ value: 'c2-a0', partition: 0 }] });
    await last.commit();
    await producer.disconnect();

    expect((await readValues(h.listener.port, 'txn-a', 0, 1)).values).toEqual(['c-a0', 'c2-a0']);
    expect((await readValues(h.listener.port, 'txn-a', 1, 1)).values).toEqual(['c-a1']);
    expect((await readValues(h.listener.port, 'txn-b', 0, 1)).values).toEqual(['c-b0']);
    expect((await readValues(h.listener.port, 'txn-a', 0, 0)).values).toEqual(['c-a0', 'x-a0', 'c2-a0']);
  });

  it('fences the first producer when a second one initialises the same transactional id, aborting its open transaction', async () => {
    const h = await start();
    await h.broker.createTopic('fence', { partitions: 1 });
    const first = h.kafka.producer({ transactionalId: 'tx-fence', idempotent: true, maxInFlightRequests: 1, retry: { retries: 1, initialRetryTime: 10 } });
    await first.connect();
    const open = await first.transaction();
    await open.send({ topic: 'fence', messages: [{ value: 'zombie' }] });

    const second = h.kafka.producer({ transactionalId: 'tx-fence', idempotent: true, maxInFlightRequests: 1 });
    await second.connect();
    // kafkajs sends the transactional InitProducerId when the first transaction begins.
    const txn = await second.transaction();
    await expect(open.commit()).rejects.toThrow(/epoch/i);
    await txn.send({ topic: 'fence', messages: [{ value: 'survivor' }] });
    await txn.commit();
    await second.disconnect();
    await first.disconnect().catch(() => undefined);
    expect((await readValues(h.listener.port, 'fence', 0, 1)).values).toEqual(['survivor']);
  });

  it('reads a consumer stuck behind an open transaction up to its first offset only (the last stable offset)', async () => {
    const h = await start();
    await h.broker.createTopic('lso', { partitions: 1 });
    const plain = h.kafka.producer();
    await plain.connect();
    await plain.send({ topic: 'lso', messages: [{ value: 'before' }] });
    const producer = h.kafka.producer({ transactionalId: 'tx-lso', idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const txn = await producer.transaction();
    await txn.send({ topic: 'lso', messages: [{ value: 'open' }] });
    await plain.send({ topic: 'lso', messages: [{ value: 'after' }] });
    const read = await readValues(h.listener.port, 'lso', 0, 1);
    expect(read).toEqual({ values: ['before'], lastStableOffset: 1n });
    const admin = h.kafka.admin();
    await admin.connect();
    expect(h.broker.listOffsets('lso', 0, -1, 1).offset).toBe(1);
    expect(h.broker.listOffsets('lso', 0, -1, 0).offset).toBe(3);
    await admin.disconnect();
    await txn.commit();
    expect((await readValues(h.listener.port, 'lso', 0, 1)).values).toEqual(['before', 'open', 'after']);
    await producer.disconnect();
    await plain.disconnect();
  });
});

describe('kafkajs consume-transform-produce', () => {
  it('commits output records and the input offsets in one transaction; an aborted round leaves both untouched', async () => {
    const h = await startDirect();
    await h.broker.createTopic('ctp-in', { partitions: 2 });
    await h.broker.createTopic('ctp-out', { partitions: 1 });
    const seed = h.kafka.producer();
    await seed.connect();
    await seed.send({ topic: 'ctp-in', messages: Array.from({ length: 40 }, (_, i) => ({ value: `in-${i}`, partition: i % 2 })) });
    await seed.disconnect();

    const producer = h.kafka.producer({ transactionalId: 'ctp', idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const consumer = h.kafka.consumer({ groupId: 'ctp-group', maxWaitTimeInMs: 100, sessionTimeout: 6000, heartbeatInterval: 500 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'ctp-in', fromBeginning: true });
    let round = 0;
    const processed = new Set<string>();
    const done = new Promise<void>((resolve, reject) => {
      void consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset }) => {
          try {
            const txn = await producer.transaction();
            await txn.send({ topic: 'ctp-out', messages: batch.messages.map((m) => ({ value: `out-${m.value!.toString()}` })) });
            await txn.sendOffsets({
              consumerGroupId: 'ctp-group',
              topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: String(Number(batch.lastOffset()) + 1) }] }],
            });
            // The first round aborts and rewinds: its outputs must vanish and its offsets must not count.
            if (round++ === 0) {
              await txn.abort();
              consumer.seek({ topic: batch.topic, partition: batch.partition, offset: batch.firstOffset()! });
              return;
            }
            await txn.commit();
            resolveOffset(batch.lastOffset());
            for (const m of batch.messages) processed.add(m.value!.toString());
            if (processed.size === 40) resolve();
          } catch (error) {
            reject(error);
          }
        },
      });
    });
    await done;
    await consumer.disconnect();
    await producer.disconnect();

    const out = (await readValues(h.listener.port, 'ctp-out', 0, 1)).values;
    expect(out.sort()).toEqual(Array.from({ length: 40 }, (_, i) => `out-in-${i}`).sort());
    const admin = h.kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchOffsets({ groupId: 'ctp-group', topics: ['ctp-in'] });
    await admin.disconnect();
    expect(offsets[0]!.partitions.map((p) => p.offset).sort()).toEqual(['20', '20']);
    expect(h.serverErrors).toEqual([]);
  });
});
