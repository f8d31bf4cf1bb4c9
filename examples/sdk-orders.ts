/**
 * The SDK against an in-process broker: a typed, idempotent producer writes JSON orders and a
 * consumer group member reads them back and totals them. Swap `embeddedTransport(broker)` for
 * `new TcpTransport({ bootstrapServers: ['127.0.0.1:9092'] })` to run the same code against a
 * broker process or any Kafka cluster.
 *
 *   node dist/examples/sdk-orders.js   |   bun examples/sdk-orders.ts   |   deno run -A examples/sdk-orders.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker, embeddedTransport } from '../broker/mod.ts';
import { Consumer, jsonSerde, Producer, stringSerde } from '../sdk/mod.ts';

interface Order {
  total: number;
}

const dataDir = mkdtempSync(join(tmpdir(), 'rill-sdk-example-'));
// A zero initial rebalance delay: this group has one member, so there is nobody to wait for.
const broker = await Broker.open({ config: { dataDir }, groups: { initialRebalanceDelayMs: 0 } });
try {
  await broker.createTopic('orders', { partitions: 3 });
  const transport = embeddedTransport(broker);

  const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: jsonSerde<Order>() });
  const totals = [42, 7, 19, 3];
  for (const [i, total] of totals.entries()) {
    const sent = await producer.send({ topic: 'orders', key: `o-${i}`, value: { total } });
    console.log(`sent o-${i} to partition ${sent.partition} at offset ${sent.offset}`);
  }
  await producer.close();

  const consumer = new Consumer(transport, {
    groupId: 'billing',
    keySerde: stringSerde,
    valueSerde: jsonSerde<Order>(),
    autoOffsetReset: 'earliest',
  });
  consumer.subscribe(['orders']);
  let sum = 0;
  let read = 0;
  for await (const record of consumer) {
    if (record.value !== null) sum += record.value.total;
    if (++read === totals.length) break;
  }
  await consumer.commit();
  await consumer.close();
  console.log(`read ${read} orders, total ${sum}`);
} finally {
  await broker.close();
  rmSync(dataDir, { recursive: true, force: true });
}
