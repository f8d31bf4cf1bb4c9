import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { murmur2Partitioner } from '../../../sdk/client/producer/partitioner.ts';
import { Admin, Consumer, Producer, stringSerde, type Transport } from '../../../sdk/mod.ts';
import { JoinWindows, StreamsApp, StreamsBuilder } from '../../../streams/mod.ts';
import { embeddedSetup, tcpSetup } from '../../helpers/streams-setups.ts';

/** Reads `topic` (read_committed, every partition) from the beginning until it holds `count` records. */
async function readCommitted(transport: Transport, topic: string, count: number): Promise<string[]> {
  const consumer = new Consumer(transport, { keySerde: stringSerde, valueSerde: stringSerde, autoOffsetReset: 'earliest' });
  const [info] = await new Admin(transport).describeTopics([topic]);
  consumer.assign(info!.partitions.map((p) => ({ topic, partition: p.partition })));
  const out: string[] = [];
  try {
    for await (const record of consumer) {
      out.push(`${record.key}:${record.value}@${record.timestamp}`);
      if (out.length >= count) break;
    }
  } finally {
    await consumer.close();
  }
  return out.sort();
}

/** Every committed record of `topic` up to its current read_committed end. */
async function readAllCommitted(transport: Transport, topic: string): Promise<string[]> {
  const ends = await new Admin(transport).topicOffsets(topic, 1);
  const open = ends.filter((e) => e.latest > e.earliest);
  const out: string[] = [];
  if (open.length === 0) return out;
  const consumer = new Consumer(transport, { keySerde: stringSerde, valueSerde: stringSerde, autoOffsetReset: 'earliest' });
  consumer.assign(open.map((e) => ({ topic, partition: e.partition })));
  const done = new Set<number>();
  try {
    for await (const batch of consumer.batches({ includeEmpty: true })) {
      for (const r of batch.records) out.push(`${r.key}:${r.value}@${r.timestamp}`);
      if ((consumer.position(batch) ?? 0) >= ends.find((e) => e.partition === batch.partition)!.latest) done.add(batch.partition);
      if (done.size === open.length) break;
    }
  } finally {
    await consumer.close();
  }
  return out.sort();
}

describe.each([embeddedSetup(), tcpSetup()])('a KStream-KStream join over $name', (setup) => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });
  afterAll(() => setup.close());

  it('joins two topics after a key change, exactly once, and emits unmatched orders at window close after a restore from the changelog', async () => {
    const transport = await setup.open();
    const stateDirs = [mkdtempSync(join(tmpdir(), 'rill-join-state-')), mkdtempSync(join(tmpdir(), 'rill-join-state-'))];
    cleanup.push(async () => {
      await transport.close();
      for (const dir of stateDirs) rmSync(dir, { recursive: true, force: true });
    });
    const admin = new Admin(transport);
    await admin.createTopics([
      { name: 'orders', numPartitions: 2 },
      { name: 'payments', numPartitions: 2 },
      { name: 'paid-orders', numPartitions: 2 },
    ]);
    const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde });
    cleanup.push(() => producer.close());

    // Orders are keyed by order id ("customer:item" values), payments by customer: the join re-keys
    // orders by customer through a repartition topic. The grace covers the order in which a task
    // happens to take records of its two topics.
    const topology = () => {
      const builder = new StreamsBuilder();
      const orders = builder.stream('orders', { key: stringSerde, value: stringSerde }).selectKey((_id, order) => order.split(':')[0]!, { key: stringSerde });
      const payments = builder.stream('payments', { key: stringSerde, value: stringSerde });
      orders
        .leftJoin(payments, (order, payment) => `${order}|${payment ?? 'unpaid'}`, JoinWindows.ofTimeDifferenceAndGrace(1_000, 10_000), { name: 'paid' })
        .to('paid-orders', { key: stringSerde, value: stringSerde });
      return builder.build();
    };
    const base = Date.now();
    await producer.sendBatch([
      ...Array.from({ length: 6 }, (_, i) => ({ topic: 'orders', key: `o${i}`, value: `c${i}:item${i}`, timestamp: base + i * 10 })),
      ...Array.from({ length: 4 }, (_, i) => ({ topic: 'payments', key: `c${i}`, value: `pay${i}`, timestamp: base + i * 10 + 5 })),
      { topic: 'payments', key: 'c0', value: 'pay0-again', timestamp: base + 5 },
    ]);
    const matched = [
      `c0:c0:item0|pay0@${base + 5}`,
      `c0:c0:item0|pay0-again@${base + 5}`,
      `c1:c1:item1|pay1@${base + 15}`,
      `c2:c2:item2|pay2@${base + 25}`,
      `c3:c3:item3|pay3@${base + 35}`,
    ].sort();

    const first = new StreamsApp(topology(), { applicationId: 'paid', transport, stateDir: stateDirs[0]!, commitIntervalMs: 50 });
    await first.start();
    expect(await readCommitted(transport, 'paid-orders', matched.length)).toEqual(matched);
    await first.close();

    // A second instance with an empty state directory restores the three stores from their
    // changelogs: c4's and c5's orders are still waiting there. A late order for each partition
    // moves stream time past their windows (1,000 + 10,000 ms).
    const closers = [0, 1].map((partition) => {
      const key = Array.from({ length: 100 }, (_, i) => `z${i}`).find((k) => murmur2Partitioner.partition({ topic: 'paid-repartition', key: stringSerde.serialize(k), partitionCount: 2 }) === partition)!;
      return { topic: 'orders', key: `closer-${partition}`, value: `${key}:nothing`, timestamp: base + 60_000 };
    });
    await producer.sendBatch(closers);
    const second = new StreamsApp(topology(), { applicationId: 'paid', transport, stateDir: stateDirs[1]!, commitIntervalMs: 50 });
    await second.start();
    const all = [...matched, `c4:c4:item4|unpaid@${base + 40}`, `c5:c5:item5|unpaid@${base + 50}`].sort();
    expect(await readCommitted(transport, 'paid-orders', all.length)).toEqual(all);
    expect(second.metrics().tasks.reduce((sum, t) => sum + t.restoredRecords, 0)).toBeGreaterThan(0);
    await second.close();

    // The output holds each result once: nothing the first instance committed was redone.
    expect(await readAllCommitted(transport, 'paid-orders')).toEqual(all);
  });
});
