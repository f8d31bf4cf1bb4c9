import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Admin, Consumer, jsonSerde, Producer, stringSerde, type Transport } from '../../../sdk/mod.ts';
import { AppState, nullable, StreamsApp, StreamsBuilder, StreamsError } from '../../../streams/mod.ts';
import { embeddedSetup, setupHooks, tcpSetup } from '../../helpers/streams-setups.ts';

interface Order {
  product: string;
  qty: number;
}

/** Folds the committed records of a table's topic (tombstones delete) until the table equals `expected`. */
async function untilTable(transport: Transport, topic: string, expected: ReadonlyMap<string, string>): Promise<Map<string, string>> {
  const admin = new Admin(transport);
  const [info] = await admin.describeTopics([topic]);
  const consumer = new Consumer(transport, { keySerde: stringSerde, valueSerde: nullable(stringSerde), autoOffsetReset: 'earliest' });
  consumer.assign(info!.partitions.map((p) => ({ topic, partition: p.partition })));
  const table = new Map<string, string>();
  const same = () => table.size === expected.size && [...expected].every(([k, v]) => table.get(k) === v);
  try {
    for await (const record of consumer) {
      if (record.value === null) table.delete(record.key!);
      else table.set(record.key!, record.value);
      if (same()) break;
    }
  } finally {
    await consumer.close();
  }
  return table;
}

describe.each([embeddedSetup(), tcpSetup()])('table joins over $name', (setup) => {
  const { openSetup, cleanup } = setupHooks(setup);

  it('joins orders with products by foreign key across tables with different partition counts, through its subscription topics, on key changes and deletes', async () => {
    const { transport, stateDir } = await openSetup();
    const admin = new Admin(transport);
    await admin.createTopics([
      { name: 'fk-orders', numPartitions: 3 },
      { name: 'fk-products', numPartitions: 2 },
      { name: 'fk-details', numPartitions: 3 },
    ]);
    const orders = new Producer(transport, { keySerde: stringSerde, valueSerde: nullable(jsonSerde<Order>()) });
    const products = new Producer(transport, { keySerde: stringSerde, valueSerde: nullable(stringSerde) });
    cleanup.push(async () => {
      await orders.close();
      await products.close();
    });
    await products.sendBatch(['pen', 'ink', 'cap'].map((p) => ({ topic: 'fk-products', key: p, value: p.toUpperCase() })));
    await orders.sendBatch(Array.from({ length: 30 }, (_, i) => ({ topic: 'fk-orders', key: `o${i}`, value: { product: ['pen', 'ink', 'cap', 'nib'][i % 4]!, qty: i } })));

    const builder = new StreamsBuilder();
    const orderTable = builder.table('fk-orders', { key: stringSerde, value: jsonSerde<Order>() });
    const productTable = builder.table('fk-products', { key: stringSerde, value: stringSerde });
    orderTable
      .join(productTable, (order) => order.product, (order, name) => `${order.qty} ${name}`, { name: 'details', value: stringSerde })
      .toStream()
      .to('fk-details', { value: nullable(stringSerde) });
    const app = new StreamsApp(builder.build(), { applicationId: 'fk-app', transport, stateDir, commitIntervalMs: 50 });
    cleanup.push(() => app.close());
    await app.start();

    const expected = new Map<string, string>();
    for (let i = 0; i < 30; i++) if (i % 4 !== 3) expected.set(`o${i}`, `${i} ${['PEN', 'INK', 'CAP'][i % 4]}`);
    expect(await untilTable(transport, 'fk-details', expected)).toEqual(expected);
    const internal = await admin.describeTopics(['fk-app-details-subscription-registration-topic', 'fk-app-details-subscription-response-topic']);
    expect(internal.map((t) => [t.name, t.partitions.length])).toEqual([
      ['fk-app-details-subscription-registration-topic', 2],
      ['fk-app-details-subscription-response-topic', 3],
    ]);

    // o0 moves from pen to ink, o1 is deleted, ink is renamed, cap is deleted, nib appears.
    await orders.send({ topic: 'fk-orders', key: 'o0', value: { product: 'ink', qty: 100 } });
    await orders.send({ topic: 'fk-orders', key: 'o1', value: null });
    await products.sendBatch([
      { topic: 'fk-products', key: 'ink', value: 'INK2' },
      { topic: 'fk-products', key: 'cap', value: null },
      { topic: 'fk-products', key: 'nib', value: 'NIB' },
    ]);
    const after = new Map<string, string>();
    for (let i = 0; i < 30; i++) {
      if (i === 1 || i % 4 === 2) continue;
      const product = i === 0 ? 'INK2' : ['PEN', 'INK2', 'CAP', 'NIB'][i % 4]!;
      after.set(`o${i}`, `${i === 0 ? 100 : i} ${product}`);
    }
    expect(await untilTable(transport, 'fk-details', after)).toEqual(after);
    expect(app.state).toBe(AppState.running);
  });

  it('refuses to start a stream-table join whose topics have different partition counts, naming both', async () => {
    const { transport, stateDir } = await openSetup();
    const admin = new Admin(transport);
    await admin.createTopics([
      { name: 'cp-clicks', numPartitions: 3 },
      { name: 'cp-users', numPartitions: 2 },
    ]);
    const builder = new StreamsBuilder();
    const users = builder.table('cp-users', { key: stringSerde, value: stringSerde });
    builder
      .stream('cp-clicks', { key: stringSerde, value: stringSerde })
      .join(users, (click, user) => `${user}:${click}`, { value: stringSerde })
      .to('cp-out');
    const app = new StreamsApp(builder.build(), { applicationId: 'cp-app', transport, stateDir });
    const failure = await app.start().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(StreamsError);
    const message = (failure as Error).message;
    expect(message).toContain('must be co-partitioned');
    expect(message).toContain('"cp-clicks" (3 partitions)');
    expect(message).toContain('"cp-users" (2 partitions)');
    expect(app.state).toBe(AppState.error);
  });
});
