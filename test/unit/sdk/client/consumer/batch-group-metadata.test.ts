import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { Broker, EmbeddedTransport } from '../../../../../broker/mod.ts';
import { Admin, type ConsumerBatch, Consumer, isKafkaError, Producer, stringSerde } from '../../../../../sdk/mod.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

it('hands each batch out with the generation it belongs to, so a commit after a rebalance is fenced', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'rill-batch-gm-'));
  const broker = await Broker.open({ config: { dataDir }, groups: { initialRebalanceDelayMs: 0 } });
  const transport = new EmbeddedTransport(broker);
  const consumers: Consumer<string, string>[] = [];
  cleanups.push(async () => {
    for (const c of consumers) await c.close();
    await broker.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  await new Admin(transport).createTopics([{ name: 'in', numPartitions: 2 }, { name: 'out', numPartitions: 1 }]);
  const seed = new Producer(transport, { valueSerde: stringSerde });
  for (let i = 0; i < 20; i++) await seed.send({ topic: 'in', partition: i % 2, value: `v${i}` });
  const options = { valueSerde: stringSerde, keySerde: stringSerde, groupId: 'g', enableAutoCommit: false, autoOffsetReset: 'earliest' as const, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 100 };

  const a = new Consumer(transport, options);
  consumers.push(a);
  a.subscribe(['in']);
  const batches = a.batches();
  const held = new Map<number, ConsumerBatch<string, string>>();
  while (held.size < 2) {
    const batch = (await batches.next()).value!;
    held.set(batch.partition, batch);
  }
  const handedOutUnder = held.get(0)!.groupMetadata!.generationId;

  // A second member joins; one of A's partitions moves to it in a newer generation.
  let assigned!: (partitions: number[]) => void;
  const bPartitions = new Promise<number[]>((resolve) => (assigned = resolve));
  const b = new Consumer(transport, options);
  consumers.push(b);
  b.subscribe(['in'], {
    onPartitionsAssigned: (ps) => {
      if (ps.length > 0) assigned(ps.map((p) => p.partition));
    },
  });
  const moved = held.get((await bPartitions)[0]!)!;
  expect(a.groupMetadata().generationId).toBeGreaterThan(handedOutUnder);

  const tx = new Producer(transport, { valueSerde: stringSerde, transactionalId: 'tx-a' });
  await tx.beginTransaction();
  await tx.send({ topic: 'out', value: 'derived' });
  const stale = tx.sendOffsets([{ topic: 'in', partition: moved.partition, offset: moved.records.at(-1)!.offset + 1 }], moved.groupMetadata!);
  await expect(stale).rejects.toSatisfy((error: unknown) => isKafkaError(error, 'ILLEGAL_GENERATION'));
  await tx.abortTransaction().catch(() => undefined);
  await tx.close();
});
