import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Broker, EmbeddedTransport } from '../../../broker/mod.ts';
import { KafkaListener } from '../../../broker/kafka/kafka-listener.ts';
import { Producer, TcpTransport } from '../../../sdk/mod.ts';
import type { Transport } from '../../../sdk/transport/transport.ts';
import { ShareDeadLetterHeader } from '../../../broker/share/share-dead-letter.ts';
import { ShareConsumer, type ShareRecord } from '../../../sdk/client/share-consumer/mod.ts';
import { stringSerde } from '../../../sdk/serde/mod.ts';
import { appendValues, headerMap, readTopic, text } from '../../helpers/share-fixtures.ts';
import { eventually } from '../../helpers/eventually.ts';

let dir: string;
let broker: Broker;
let listener: KafkaListener;
const transports: Transport[] = [];

function consumer(groupId: string, topic: string, mode: 'implicit' | 'explicit' = 'implicit', over: 'embedded' | 'tcp' = 'embedded'): ShareConsumer<string, string> {
  const transport = over === 'embedded' ? new EmbeddedTransport(broker) : new TcpTransport({ bootstrapServers: [`127.0.0.1:${listener.port}`] });
  transports.push(transport);
  return new ShareConsumer(transport, { groupId, topics: [topic], valueSerde: stringSerde, keySerde: stringSerde, acknowledgementMode: mode, maxWaitMs: 200 });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rill-share-consumer-'));
  broker = await Broker.open({
    config: { dataDir: dir },
    shareGroups: {
      defaults: { autoOffsetReset: 'earliest', maxRecordsPerFetch: 10, heartbeatIntervalMs: 200 },
      groups: { expiring: { recordLockDurationMs: 150 }, limited: { deliveryCountLimit: 3 } },
      sweepIntervalMs: 20,
    },
  });
  listener = await KafkaListener.start(broker, { host: '127.0.0.1', port: 0, limits: { shutdownGraceMs: 0 } });
});

afterAll(async () => {
  for (const t of transports) await t.close();
  await listener.close();
  await broker.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('ShareConsumer', () => {
  it.each(['embedded', 'tcp'] as const)('shares one partition among four consumers over the %s transport: each gets records, together exactly the produced set', async (over) => {
    const topic = `work-${over}`;
    const group = `workers-${over}`;
    await broker.createTopic(topic, { partitions: 1 });
    const produced = Array.from({ length: 400 }, (_, i) => `task-${i}`);
    await appendValues(broker, topic, produced);
    const consumers = Array.from({ length: 4 }, () => consumer(group, topic, 'implicit', over));
    const received: string[][] = consumers.map(() => []);
    let total = 0;
    let finish!: () => void;
    const allIn = new Promise<void>((resolve) => (finish = resolve));
    const runs = consumers.map(async (c, i) => {
      for await (const record of c) {
        received[i]!.push(record.value!);
        record.accept();
        // Work takes a turn of the event loop, so the members interleave as real workers do.
        await new Promise((resolve) => setImmediate(resolve));
        if (++total === produced.length) finish();
      }
    });
    await allIn;
    await Promise.all(consumers.map((c) => c.close()));
    await Promise.all(runs);
    for (const own of received) expect(own.length).toBeGreaterThan(0);
    const all = received.flat();
    expect(all.length).toBe(produced.length);
    expect(new Set(all)).toEqual(new Set(produced));
    expect(broker.shareGroups.sharePartition(group, topic, 0)!.startOffset).toBe(produced.length);
  });

  it('delivers a record again once its lock expires', async () => {
    await broker.createTopic('slow', { partitions: 1 });
    await appendValues(broker, 'slow', ['only']);
    const first = consumer('expiring', 'slow', 'explicit');
    const deliveries: number[] = [];
    for await (const record of first) {
      deliveries.push(record.deliveryCount);
      // Never acknowledged: the lock (150 ms) expires and the broker hands it out again.
      if (deliveries.length === 2) {
        record.accept();
        break;
      }
    }
    await first.close();
    expect(deliveries).toEqual([1, 2]);
  });

  it('dead-letters a rejected record and one released up to the delivery limit, with why in headers', async () => {
    await broker.createTopic('poison', { partitions: 1 });
    await appendValues(broker, 'poison', ['bad', 'flaky', 'good']);
    const c = consumer('limited', 'poison');
    const seen: [string, number][] = [];
    for await (const record of c) {
      seen.push([record.value!, record.deliveryCount]);
      if (record.value === 'bad') record.reject();
      else if (record.value === 'flaky') record.release();
      else record.accept();
      if (seen.filter(([v]) => v === 'flaky').length === 3) break;
    }
    await c.close();
    expect(seen.filter(([v]) => v === 'flaky').map(([, n]) => n)).toEqual([1, 2, 3]);
    const dead = await eventually(async () => {
      const records = await readTopic(broker, 'limited-dlq');
      return records.length === 2 ? records : undefined;
    }, 'two dead letters');
    expect(dead.map((r) => [text(r.value), headerMap(r)[ShareDeadLetterHeader.errorKind], headerMap(r)[ShareDeadLetterHeader.offset], headerMap(r)[ShareDeadLetterHeader.deliveryCount]])).toEqual([
      ['bad', 'rejected', '0', '1'],
      ['flaky', 'delivery-limit', '1', '3'],
    ]);
    expect(headerMap(dead[0]!)[ShareDeadLetterHeader.topic]).toBe('poison');
    expect(broker.shareGroups.sharePartition('limited', 'poison', 0)!.startOffset).toBe(3);
  });

  it('hands out only committed transactional records (share.isolation.level=read_committed)', async () => {
    await broker.createTopic('txn-jobs', { partitions: 1 });
    const transport = new EmbeddedTransport(broker);
    transports.push(transport);
    const producer = new Producer(transport, { valueSerde: stringSerde, transactionalId: 'share-txn' });
    await producer.beginTransaction();
    await producer.sendBatch(['aborted-1', 'aborted-2'].map((value) => ({ topic: 'txn-jobs', partition: 0, value })));
    await producer.abortTransaction();
    await producer.beginTransaction();
    await producer.send({ topic: 'txn-jobs', partition: 0, value: 'committed' });
    await producer.commitTransaction();
    await producer.close();
    await appendValues(broker, 'txn-jobs', ['plain']);
    const c = consumer('txn-readers', 'txn-jobs');
    const seen: string[] = [];
    for await (const record of c) {
      seen.push(record.value!);
      if (record.value === 'plain') break;
    }
    await c.close();
    expect(seen).toEqual(['committed', 'plain']);
    // Aborted data and both markers were archived, never handed out.
    expect(broker.shareGroups.sharePartition('txn-readers', 'txn-jobs', 0)!.startOffset).toBe(6);
  });

  it('releases what it fetched and did not hand out when it closes', async () => {
    await broker.createTopic('handover', { partitions: 1 });
    await appendValues(broker, 'handover', Array.from({ length: 10 }, (_, i) => `h-${i}`));
    const a = consumer('handover', 'handover');
    const takenByA: string[] = [];
    for await (const record of a) {
      takenByA.push(record.value!);
      if (takenByA.length === 3) break;
    }
    await a.close();
    const b = consumer('handover', 'handover');
    const takenByB: ShareRecord<string, string>[] = [];
    for await (const record of b) {
      takenByB.push(record);
      if (takenByA.length + takenByB.length === 10) break;
    }
    await b.close();
    expect([...takenByA, ...takenByB.map((r) => r.value)].sort()).toEqual(Array.from({ length: 10 }, (_, i) => `h-${i}`).sort());
  });

  it('poll() hands out batches that four consumers over TCP share: together exactly the produced set', async () => {
    await broker.createTopic('polled', { partitions: 1 });
    const produced = Array.from({ length: 400 }, (_, i) => `p-${i}`);
    await appendValues(broker, 'polled', produced);
    const consumers = Array.from({ length: 4 }, () => consumer('pollers', 'polled', 'implicit', 'tcp'));
    const received: string[][] = consumers.map(() => []);
    let total = 0;
    let finish!: () => void;
    const allIn = new Promise<void>((resolve) => (finish = resolve));
    const runs = consumers.map(async (c, i) => {
      for (let records = await c.poll(); records.length > 0; records = await c.poll()) {
        expect(records.length).toBeLessThanOrEqual(10);
        // Implicit mode: the next poll accepts them.
        for (const record of records) received[i]!.push(record.value!);
        total += records.length;
        if (total === produced.length) finish();
        await new Promise((resolve) => setImmediate(resolve));
      }
    });
    await allIn;
    await Promise.all(consumers.map((c) => c.commit()));
    expect(broker.shareGroups.sharePartition('pollers', 'polled', 0)!.startOffset).toBe(produced.length);
    await Promise.all(consumers.map((c) => c.close()));
    // A closed consumer's poll returns nothing, which ends each loop.
    await Promise.all(runs);
    for (const own of received) expect(own.length).toBeGreaterThan(0);
    expect(received.flat().sort()).toEqual([...produced].sort());
  });

  it('poll(): records left unacknowledged are accepted by the next poll (implicit), or delivered again after their lock (explicit)', async () => {
    await broker.createTopic('poll-modes', { partitions: 1 });
    await appendValues(broker, 'poll-modes', ['m-0', 'm-1', 'm-2']);
    const explicit = consumer('expiring', 'poll-modes', 'explicit');
    const first = await explicit.poll();
    expect(first.map((r) => [r.value, r.deliveryCount])).toEqual([['m-0', 1], ['m-1', 1], ['m-2', 1]]);
    first[0]!.accept();
    // Lock duration 150 ms: the two left unacknowledged come back with a delivery count of 2.
    const again = await explicit.poll();
    expect(again.map((r) => [r.value, r.deliveryCount])).toEqual([['m-1', 2], ['m-2', 2]]);
    await explicit.close();

    const implicit = consumer('poll-implicit', 'poll-modes');
    const batch = await implicit.poll();
    expect(batch.map((r) => r.value)).toEqual(['m-0', 'm-1', 'm-2']);
    batch[1]!.release();
    await implicit.commit();
    // m-0 and m-2 accepted by the commit, m-1 released: delivered again, to this member.
    const released = await implicit.poll();
    expect(released.map((r) => [r.value, r.deliveryCount])).toEqual([['m-1', 2]]);
    await implicit.commit();
    expect(broker.shareGroups.sharePartition('poll-implicit', 'poll-modes', 0)!.startOffset).toBe(3);
    await implicit.close();
  });

  it('is read either with for await or with poll(), not both', async () => {
    await broker.createTopic('one-way', { partitions: 1 });
    const c = consumer('one-way', 'one-way');
    c[Symbol.asyncIterator]();
    await expect(c.poll()).rejects.toThrow(/read with for await; use one way, not both/);
    await c.close();
  });
});
