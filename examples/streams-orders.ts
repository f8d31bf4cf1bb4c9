/**
 * A stream job against an in-process broker, exactly once: orders validated by a JSON Schema are
 * filtered, enriched by an async lookup (per-key order kept) and totalled per customer in a
 * changelogged store behind an automatic repartition. Swap `embeddedTransport(broker)` for
 * `new TcpTransport({ bootstrapServers: ['127.0.0.1:9092'] })` to run the same job against a broker
 * process or any Kafka cluster.
 *
 *   node dist/examples/streams-orders.js   |   bun examples/streams-orders.ts   |   deno run -A examples/streams-orders.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker, embeddedTransport } from '../broker/mod.ts';
import { Consumer, jsonSchemaSerde, jsonSerde, Producer, stringSerde } from '../sdk/mod.ts';
import { AppState, StreamsApp, StreamsBuilder } from '../streams/mod.ts';

interface Order {
  customer: string;
  currency: string;
  total: number;
}
interface EnrichedOrder extends Order {
  eur: number;
}
interface Totals {
  count: number;
  eur: number;
}

const orderSchema = {
  type: 'object',
  properties: { customer: { type: 'string' }, currency: { type: 'string' }, total: { type: 'number' } },
  required: ['customer', 'currency', 'total'],
  additionalProperties: false,
} as const;

const ratesToEur: Record<string, number> = { EUR: 1, USD: 0.9, GBP: 1.2 };
/** Stands for a call to a rate service: the job awaits it without blocking other keys. */
async function rateToEur(currency: string): Promise<number> {
  await Promise.resolve();
  return ratesToEur[currency] ?? 1;
}

const dataDir = mkdtempSync(join(tmpdir(), 'rill-streams-example-'));
const stateDir = join(dataDir, 'state');
// A zero initial rebalance delay: the job is the group's only member, so there is nobody to wait for.
const broker = await Broker.open({ config: { dataDir: join(dataDir, 'broker') }, groups: { initialRebalanceDelayMs: 0 } });
try {
  await broker.createTopic('orders', { partitions: 3 });
  await broker.createTopic('orders-enriched', { partitions: 3 });
  await broker.createTopic('customer-totals', { partitions: 3 });
  const transport = embeddedTransport(broker);

  const builder = new StreamsBuilder();
  const orders = builder.stream('orders', { key: stringSerde, value: jsonSchemaSerde<Order>(orderSchema) });
  orders
    .filter((_id, order) => order.total > 0)
    .mapValues(async (order): Promise<EnrichedOrder> => ({ ...order, eur: order.total * (await rateToEur(order.currency)) }), {
      value: jsonSerde<EnrichedOrder>(),
    })
    .to('orders-enriched');
  orders
    .groupBy((_id, order) => order.customer, { key: stringSerde })
    .aggregate(
      (): Totals => ({ count: 0, eur: 0 }),
      (_customer, order, totals) => ({ count: totals.count + 1, eur: totals.eur + order.total * (ratesToEur[order.currency] ?? 1) }),
      { name: 'customer-totals-store', value: jsonSerde<Totals>() },
    )
    .toStream()
    .to('customer-totals');
  const topology = builder.build();
  console.log(topology.describe().toString());

  const app = new StreamsApp(topology, { applicationId: 'orders-v1', transport, stateDir, guarantee: 'exactly_once' });
  await app.start();
  await app.waitFor(AppState.running);

  const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: jsonSerde<Order>() });
  const input: Order[] = [
    { customer: 'ada', currency: 'EUR', total: 40 },
    { customer: 'bob', currency: 'USD', total: 100 },
    { customer: 'ada', currency: 'GBP', total: 10 },
    { customer: 'bob', currency: 'EUR', total: 0 },
    { customer: 'ada', currency: 'USD', total: 20 },
  ];
  await producer.sendBatch(input.map((value, i) => ({ topic: 'orders', key: `o-${i}`, value })));
  await producer.close();

  // read_committed (the consumer's default): only what the job's transactions committed.
  const consumer = new Consumer(transport, { groupId: 'totals-reader', keySerde: stringSerde, valueSerde: jsonSerde<Totals>(), autoOffsetReset: 'earliest' });
  consumer.subscribe(['customer-totals']);
  const latest = new Map<string, Totals>();
  for await (const record of consumer) {
    if (record.key !== null && record.value !== null) latest.set(record.key, record.value);
    if (latest.get('ada')?.count === 3 && latest.get('bob')?.count === 2) break;
  }
  await consumer.close();
  for (const [customer, totals] of [...latest].sort()) console.log(`${customer}: ${totals.count} orders, ${totals.eur.toFixed(2)} EUR`);
  await app.close();
  console.log(`job ${app.state}: ${app.metrics().recordsIn} records in, ${app.metrics().commits} commits`);
} finally {
  await broker.close();
  rmSync(dataDir, { recursive: true, force: true });
}
