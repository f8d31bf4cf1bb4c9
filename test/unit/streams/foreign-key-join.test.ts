import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonSerde, stringSerde } from '../../../sdk/mod.ts';
import { nullable, StreamsBuilder, type Topology } from '../../../streams/mod.ts';
import type { OutputRecord } from '../../../streams/runtime/record-collector.ts';
import { valueBytes } from '../../../streams/runtime/record-collector.ts';
import { Task } from '../../../streams/runtime/task.ts';
import { openTaskStore } from '../../../streams/state/open-task-store.ts';
import { testDriver } from './helpers/test-driver.ts';

interface Order {
  product: string | null;
  qty: number;
}

const orderSerde = jsonSerde<Order>();
const out = { key: stringSerde, value: nullable(stringSerde) };

function fkJoins() {
  const builder = new StreamsBuilder();
  const orders = builder.table('orders', { key: stringSerde, value: orderSerde, name: 'orders' });
  const products = builder.table('products', { key: stringSerde, value: stringSerde, name: 'products' });
  orders
    .join(products, (order) => order.product, (order, name) => `${order.qty} x ${name}`, { name: 'inner', value: stringSerde })
    .toStream()
    .to('inner', out);
  orders
    .leftJoin(products, (order) => order.product, (order, name) => `${order.qty} x ${name}`, { name: 'left', value: stringSerde })
    .toStream()
    .to('left', out);
  return builder.build();
}

describe('foreign-key KTable-KTable join', () => {
  it('has Kafka Streams’ internal topics and stores, and the right table in its own sub-topology', () => {
    const topology = fkJoins();
    expect([...topology.repartitionTopics.keys()]).toEqual([
      'inner-subscription-registration-topic',
      'inner-subscription-response-topic',
      'left-subscription-registration-topic',
      'left-subscription-response-topic',
    ]);
    expect([...topology.stores.keys()]).toEqual(['orders', 'products', 'inner-subscription-store', 'inner-result-store', 'left-subscription-store', 'left-result-store']);
    expect(topology.subtopologies.map((s) => s.sourceTopics.map((t) => t.name))).toEqual([
      ['orders', 'inner-subscription-response-topic', 'left-subscription-response-topic'],
      ['products', 'inner-subscription-registration-topic', 'left-subscription-registration-topic'],
    ]);
  });

  it('joins on foreign key changes, deletes and right updates; inner drops, left keeps rows without a right value', async () => {
    const driver = testDriver(fkJoins());
    const orders = driver.inputTopic('orders', { key: stringSerde, value: nullable(orderSerde) });
    const products = driver.inputTopic('products', { key: stringSerde, value: nullable(stringSerde) });
    await products.pipe('p1', 'Pen', { timestamp: 1 });
    await orders.pipe('o1', { product: 'p1', qty: 2 }, { timestamp: 2 });
    await orders.pipe('o2', { product: 'p2', qty: 1 }, { timestamp: 3 });
    await products.pipe('p2', 'Ink', { timestamp: 4 });
    await orders.pipe('o1', { product: 'p2', qty: 5 }, { timestamp: 5 });
    await products.pipe('p1', 'Pencil', { timestamp: 6 });
    await products.pipe('p2', null, { timestamp: 7 });
    await orders.pipe('o2', null, { timestamp: 8 });
    await orders.pipe('o1', null, { timestamp: 9 });
    await products.pipe('p2', 'Ink2', { timestamp: 10 });
    await orders.pipe('o3', { product: null, qty: 3 }, { timestamp: 11 });
    await orders.pipe('o3', { product: 'p1', qty: 3 }, { timestamp: 12 });
    await orders.pipe('o3', { product: null, qty: 3 }, { timestamp: 13 });
    const read = (topic: string) =>
      driver
        .outputTopic(topic, out)
        .readRecords()
        .map((r) => [r.key, r.value, r.timestamp]);
    expect(read('inner')).toEqual([
      ['o1', '2 x Pen', 2],
      ['o2', '1 x Ink', 4],
      ['o1', '5 x Ink', 5],
      ['o1', null, 7],
      ['o2', null, 7],
      ['o3', '3 x Pencil', 12],
      ['o3', null, 13],
    ]);
    expect(read('left')).toEqual([
      ['o1', '2 x Pen', 2],
      ['o2', '1 x null', 3],
      ['o2', '1 x Ink', 4],
      ['o1', '5 x Ink', 5],
      ['o1', '5 x null', 7],
      ['o2', '1 x null', 7],
      ['o2', null, 8],
      ['o1', null, 9],
      ['o3', '3 x null', 11],
      ['o3', '3 x Pencil', 12],
      ['o3', '3 x null', 13],
    ]);
  });

  it('drops a response to an older left value (overtaken by a foreign-key change answered first)', () => {
    const builder = new StreamsBuilder();
    builder
      .table('orders', { key: stringSerde, value: orderSerde, name: 'orders', cached: false })
      .join(builder.table('products', { key: stringSerde, value: stringSerde, name: 'products', cached: false }), (order) => order.product, (order, name) => `${order.qty} x ${name}`, {
        name: 'fk',
        value: stringSerde,
        cached: false,
      })
      .toStream()
      .to('out', out);
    const topology = builder.build();
    const sent: OutputRecord[] = [];
    const [left, right] = topology.subtopologies.map((s) => task(topology, s.id, sent)) as [Task, Task];
    const encoder = new TextEncoder();
    let offset = 0;
    const feed = (t: Task, topic: string, key: string, value: Uint8Array | null, timestamp: number) =>
      t.accept({ topic, partition: 0, offset: offset++, timestamp, key: encoder.encode(key), value, headers: [] });
    const take = (topic: string) => {
      const taken = sent.filter((r) => r.topic === topic);
      sent.splice(0, sent.length, ...sent.filter((r) => r.topic !== topic));
      return taken;
    };
    const deliver = (t: Task, record: OutputRecord) => t.accept({ ...record, partition: 0, offset: offset++, value: valueBytes(record.value) });

    feed(right, 'products', 'p1', encoder.encode('Pen'), 1);
    feed(right, 'products', 'p2', encoder.encode('Ink'), 1);
    feed(left, 'orders', 'o1', orderSerde.serialize({ product: 'p1', qty: 1 }), 2);
    feed(left, 'orders', 'o1', orderSerde.serialize({ product: 'p2', qty: 2 }), 3);
    const registrations = take('app-fk-subscription-registration-topic');
    // Subscribe p1 (qty 1), unsubscribe p1, subscribe p2 (qty 2).
    expect(registrations).toHaveLength(3);
    deliver(right, registrations[2]!);
    deliver(right, registrations[0]!);
    deliver(right, registrations[1]!);
    const responses = take('app-fk-subscription-response-topic');
    expect(responses).toHaveLength(2);
    for (const response of responses) deliver(left, response);
    const results = take('out').map((r) => [new TextDecoder().decode(r.key!), r.value === null ? null : new TextDecoder().decode(valueBytes(r.value)!)]);
    expect(results).toEqual([['o1', '2 x Ink']]);
  });
});

type Action =
  | { kind: 'order'; key: string; product: string | null; qty: number; deleted: boolean }
  | { kind: 'product'; key: string; name: string | null }
  | { kind: 'registration'; pick: number }
  | { kind: 'response' };

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ kind: fc.constant('order' as const), key: fc.constantFrom('o1', 'o2', 'o3'), product: fc.constantFrom('p1', 'p2', 'p3', null), qty: fc.integer({ min: 0, max: 3 }), deleted: fc.boolean() }),
  fc.record({ kind: fc.constant('product' as const), key: fc.constantFrom('p1', 'p2', 'p3'), name: fc.constantFrom('A', 'B', null) }),
  fc.record({ kind: fc.constant('registration' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('response' as const) }),
);

describe('foreign-key join against a brute-force model', () => {
  it('ends with the join of the final tables, whatever the order subscriptions to different foreign keys and their responses arrive in', () => {
    fc.assert(
      fc.property(fc.array(actionArb, { minLength: 1, maxLength: 60 }), fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), fc.boolean(), fc.boolean(), (actions, drainPicks, leftJoin, cached) => {
        const builder = new StreamsBuilder();
        const orders = builder.table('orders', { key: stringSerde, value: orderSerde, name: 'orders', cached });
        const products = builder.table('products', { key: stringSerde, value: stringSerde, name: 'products', cached });
        const joiner = (order: Order, name: string | null) => `${order.qty} x ${name}`;
        const options = { name: 'fk', value: stringSerde, cached };
        (leftJoin ? orders.leftJoin(products, (o) => o.product, joiner, options) : orders.join(products, (o) => o.product, joiner, options)).toStream().to('out', out);
        const topology = builder.build();
        const sent: OutputRecord[] = [];
        const [left, right] = topology.subtopologies.map((s) => task(topology, s.id, sent)) as [Task, Task];
        const encoder = new TextEncoder();
        const decoder = new TextDecoder();
        let offset = 0;
        /** The registration topic with one partition per foreign key: order is kept per key only. */
        const registrations = new Map<string, OutputRecord[]>();
        const responses: OutputRecord[] = [];
        const result = new Map<string, string>();
        const commitAndRoute = () => {
          for (const t of [left, right]) {
            t.prepareCommit();
            t.commitSucceeded();
          }
          for (const record of sent.splice(0)) {
            if (record.topic === 'app-fk-subscription-registration-topic') {
              const fk = record.key === null ? '' : decoder.decode(record.key);
              registrations.set(fk, [...(registrations.get(fk) ?? []), record]);
            } else if (record.topic === 'app-fk-subscription-response-topic') responses.push(record);
            else if (record.topic === 'out') {
              const key = decoder.decode(record.key!);
              const value = valueBytes(record.value);
              if (value === null) result.delete(key);
              else result.set(key, decoder.decode(value));
            }
          }
        };
        const deliver = (t: Task, record: OutputRecord) => t.accept({ ...record, partition: 0, offset: offset++, value: valueBytes(record.value) });
        const deliverRegistration = (pick: number) => {
          const queues = [...registrations.values()].filter((q) => q.length > 0);
          if (queues.length === 0) return false;
          deliver(right, queues[pick % queues.length]!.shift()!);
          return true;
        };
        const ordersNow = new Map<string, Order>();
        const productsNow = new Map<string, string>();
        for (const action of actions) {
          if (action.kind === 'order') {
            const value = action.deleted ? null : { product: action.product, qty: action.qty };
            if (value === null) ordersNow.delete(action.key);
            else ordersNow.set(action.key, value);
            left.accept({ topic: 'orders', partition: 0, offset: offset++, timestamp: offset, key: encoder.encode(action.key), value: value === null ? null : orderSerde.serialize(value), headers: [] });
          } else if (action.kind === 'product') {
            if (action.name === null) productsNow.delete(action.key);
            else productsNow.set(action.key, action.name);
            right.accept({ topic: 'products', partition: 0, offset: offset++, timestamp: offset, key: encoder.encode(action.key), value: action.name === null ? null : encoder.encode(action.name), headers: [] });
          } else if (action.kind === 'registration') {
            deliverRegistration(action.pick);
          } else {
            const next = responses.shift();
            if (next !== undefined) deliver(left, next);
          }
          commitAndRoute();
        }
        for (let i = 0; ; i++) {
          if (!deliverRegistration(drainPicks[i % drainPicks.length]!)) {
            const next = responses.shift();
            if (next === undefined) break;
            deliver(left, next);
          }
          commitAndRoute();
        }
        const expected = new Map<string, string>();
        for (const [key, order] of ordersNow) {
          const name = order.product === null ? undefined : productsNow.get(order.product);
          if (name !== undefined) expected.set(key, `${order.qty} x ${name}`);
          else if (leftJoin) expected.set(key, `${order.qty} x null`);
        }
        expect(result).toEqual(expected);
        left.close();
        right.close();
      }),
      {
        numRuns: 1000,
        examples: [
          // An inner join's row moves to a null foreign key, then goes: the unsubscription's answer is stale by then.
          [
            [
              { kind: 'order', key: 'o3', product: 'p2', qty: 0, deleted: false },
              { kind: 'product', key: 'p2', name: 'A' },
              { kind: 'registration', pick: 0 },
              { kind: 'response' },
              { kind: 'order', key: 'o3', product: null, qty: 0, deleted: false },
              { kind: 'order', key: 'o3', product: 'p1', qty: 0, deleted: true },
            ],
            [0],
            false,
            false,
          ],
          // A row is deleted and comes back on a foreign key without a right value.
          [
            [
              { kind: 'product', key: 'p2', name: 'A' },
              { kind: 'order', key: 'o1', product: 'p2', qty: 0, deleted: false },
              { kind: 'registration', pick: 0 },
              { kind: 'response' },
              { kind: 'order', key: 'o1', product: 'p1', qty: 0, deleted: true },
              { kind: 'order', key: 'o1', product: 'p1', qty: 0, deleted: false },
            ],
            [0],
            false,
            false,
          ],
        ],
      },
    );
  });
});

/** A task of one sub-topology writing everything to `sent`, failing on a failed record. */
function task(topology: Topology, subtopology: number, sent: OutputRecord[]): Task {
  const t: Task = new Task(
    { subtopology, partition: 0 },
    topology.subtopologies[subtopology]!,
    (name) => topology.childrenOf(name),
    {
      applicationId: 'app',
      collector: { send: (r) => void sent.push(r), partitionCount: () => 1 },
      topicName: (ref) => (ref.internal ? `app-${ref.name}` : ref.name),
      openStore: (spec, taskId) =>
        openTaskStore(spec, {
          partition: taskId.partition,
          writeChangelog: () => undefined,
          changelogTimestampMs: () => Math.max(0, t.streamTimeMs),
        }),
      onFailure: (failure) => {
        throw failure.error;
      },
      nowMs: () => 0,
    },
    { maxInFlightRecords: 100 },
  );
  return t;
}
