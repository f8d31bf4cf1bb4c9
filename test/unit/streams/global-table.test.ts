import fc from 'fast-check';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { jsonSerde, stringSerde } from '../../../sdk/mod.ts';
import { type GlobalKTable, type KStream, nullable, type ProcessorContext, type ReadOnlyKeyValueStore, StreamsBuilder, StreamsError, TopologyError } from '../../../streams/mod.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GlobalKeyValueStore } from '../../../streams/state/global-key-value-store.ts';
import { globalSnapshotOf, globalStateOf } from '../../../streams/state/global-snapshot.ts';
import { SnapshotDirectory } from '../../../streams/state/snapshot-directory.ts';
import { testDriver } from './helpers/test-driver.ts';

interface Order {
  customer: string | null;
  amount: number;
}

const text = { key: stringSerde, value: stringSerde };
const orderSerdes = { key: stringSerde, value: jsonSerde<Order>() };
const encoder = new TextEncoder();

/** orders (keyed by order id) joined with customers (a global table keyed by customer id) by the order's customer. */
function enrichedOrders(kind: 'join' | 'leftJoin') {
  const builder = new StreamsBuilder();
  const customers = builder.globalTable('customers', { ...text, name: 'customers-store' });
  const orders = builder.stream('orders', orderSerdes);
  const joined =
    kind === 'join'
      ? orders.join(customers, (_id, order) => order.customer, (order, name, id) => `${id}:${name}:${order.amount}`)
      : orders.leftJoin(customers, (_id, order) => order.customer, (order, name, id) => `${id}:${name ?? 'unknown'}:${order.amount}`);
  joined.to('enriched', { key: stringSerde, value: stringSerde });
  return builder.build();
}

function driverOf(kind: 'join' | 'leftJoin') {
  const driver = testDriver(enrichedOrders(kind));
  return {
    driver,
    customers: driver.inputTopic('customers', text),
    orders: driver.inputTopic('orders', orderSerdes),
    enriched: driver.outputTopic('enriched', text),
  };
}

describe('KStream–GlobalKTable join (test driver)', () => {
  it('inner join: each order joins the customer its selector names, keeping the order key and timestamp; orders without a match produce nothing', async () => {
    const { driver, customers, orders, enriched } = driverOf('join');
    await customers.pipe('c1', 'Ada', { timestamp: 1 });
    await customers.pipe('c2', 'Bob', { timestamp: 2 });
    await orders.pipe('o1', { customer: 'c1', amount: 10 }, { timestamp: 100 });
    await orders.pipe('o2', { customer: 'c3', amount: 20 }, { timestamp: 101 });
    await orders.pipe('o3', { customer: 'c2', amount: 30 }, { timestamp: 99 });
    await orders.pipe('o4', { customer: null, amount: 40 }, { timestamp: 102 });
    expect(enriched.readRecords().map((r) => [r.key, r.value, r.timestamp])).toEqual([
      ['o1', 'o1:Ada:10', 100],
      ['o3', 'o3:Bob:30', 99],
    ]);
    driver.close();
  });

  it('left join: orders without a match (absent customer, null lookup key) join with null; a null order value produces nothing', async () => {
    const builder = new StreamsBuilder();
    const customers = builder.globalTable('customers', text);
    builder
      .stream('orders', { key: stringSerde, value: nullable(jsonSerde<Order>()) })
      .leftJoin(customers, (_id, order) => order!.customer, (order, name) => `${name ?? 'unknown'}:${order!.amount}`)
      .to('enriched', { key: stringSerde, value: stringSerde });
    const driver = testDriver(builder.build());
    const orders = driver.inputTopic('orders', { key: stringSerde, value: nullable(jsonSerde<Order>()) });
    await driver.inputTopic('customers', text).pipe('c1', 'Ada');
    await orders.pipe('o1', { customer: 'c1', amount: 1 }, { timestamp: 5 });
    await orders.pipe('o2', { customer: 'c9', amount: 2 }, { timestamp: 6 });
    await orders.pipe('o3', { customer: null, amount: 3 }, { timestamp: 7 });
    await orders.pipe('o4', null, { timestamp: 8 });
    expect(driver.outputTopic('enriched', text).readRecords().map((r) => [r.key, r.value, r.timestamp])).toEqual([
      ['o1', 'Ada:1', 5],
      ['o2', 'unknown:2', 6],
      ['o3', 'unknown:3', 7],
    ]);
    driver.close();
  });

  it('updates and deletes of the global table are seen by the stream records processed after them', async () => {
    const { driver, customers, orders, enriched } = driverOf('leftJoin');
    await orders.pipe('o1', { customer: 'c1', amount: 1 });
    await customers.pipe('c1', 'Ada');
    await orders.pipe('o2', { customer: 'c1', amount: 2 });
    await customers.pipe('c1', 'Ada Lovelace');
    await orders.pipe('o3', { customer: 'c1', amount: 3 });
    await driver.pipe('customers', encoder.encode('c1'), null);
    await orders.pipe('o4', { customer: 'c1', amount: 4 });
    expect(enriched.readValues()).toEqual(['o1:unknown:1', 'o2:Ada:2', 'o3:Ada Lovelace:3', 'o4:unknown:4']);
    const store = driver.store<ReadOnlyKeyValueStore<string, string>>('customers-store');
    expect(store.get('c1')).toBeUndefined();
    await customers.pipe('c2', 'Bob');
    expect([...store.all()]).toEqual([['c2', 'Bob']]);
    driver.close();
  });

  it('inner join drops what the table deleted', async () => {
    const { driver, customers, orders, enriched } = driverOf('join');
    await customers.pipe('c1', 'Ada');
    await orders.pipe('o1', { customer: 'c1', amount: 1 });
    await driver.pipe('customers', encoder.encode('c1'), null);
    await orders.pipe('o2', { customer: 'c1', amount: 2 });
    expect(enriched.readValues()).toEqual(['o1:Ada:1']);
    driver.close();
  });

  it('asynchronous key selectors and joiners (promises) look up and join in input order', async () => {
    const builder = new StreamsBuilder();
    const rates = builder.globalTable('rates', { key: stringSerde, value: jsonSerde<number>() });
    builder
      .stream('payments', { key: stringSerde, value: jsonSerde<{ currency: string; amount: number }>() })
      .join(
        rates,
        async (_k, p) => p.currency,
        async (p, rate) => p.amount * rate,
        { value: jsonSerde<number>() },
      )
      .to('converted', { key: stringSerde });
    const driver = testDriver(builder.build());
    const rateTopic = driver.inputTopic('rates', { key: stringSerde, value: jsonSerde<number>() });
    const payments = driver.inputTopic('payments', { key: stringSerde, value: jsonSerde<{ currency: string; amount: number }>() });
    await rateTopic.pipe('EUR', 2);
    await payments.pipe('p1', { currency: 'EUR', amount: 5 });
    await rateTopic.pipe('EUR', 3);
    await payments.pipe('p2', { currency: 'EUR', amount: 5 });
    await payments.pipe('p3', { currency: 'GBP', amount: 5 });
    expect(driver.outputTopic('converted', { key: stringSerde, value: jsonSerde<number>() }).readKeyValues()).toEqual([
      ['p1', 10],
      ['p2', 15],
    ]);
    driver.close();
  });

  it('needs no repartitioning: a join after a key change stays in the stream sub-topology, and the global topic is no source', () => {
    const builder = new StreamsBuilder();
    const customers = builder.globalTable('customers', text);
    builder
      .stream('orders', orderSerdes)
      .selectKey((_k, o) => o.customer ?? '', { key: stringSerde })
      .join(customers, (customer) => customer, (o, name) => `${name}:${o.amount}`)
      .to('enriched', { value: stringSerde });
    const topology = builder.build();
    expect(topology.repartitionTopics.size).toBe(0);
    expect(topology.subtopologies).toHaveLength(1);
    expect(topology.subtopologies[0]!.sourceTopics.map((t) => t.name)).toEqual(['orders']);
    expect(topology.subtopologies[0]!.stores).toHaveLength(0);
    expect(topology.internalTopics).toHaveLength(0);
    expect([...topology.globalStores.values()].map((s) => s.topic)).toEqual(['customers']);
    expect(topology.describe().toString()).toContain('Global stores (each process reads every partition of the topic; any processor may read them):\n    customers-STATE-STORE-0000000000 from topic customers\n');
  });

  it('any processor reads a global store by name without being connected to it', async () => {
    const builder = new StreamsBuilder();
    builder.globalTable('limits', { key: stringSerde, value: jsonSerde<number>(), name: 'limits' });
    builder
      .stream('requests', text)
      .process<string, string>(() => {
        let ctx: ProcessorContext<string, string>;
        return {
          init: (c) => void (ctx = c),
          process: (record) => {
            const limits = ctx.getStateStore<ReadOnlyKeyValueStore<string, number>>('limits');
            ctx.forward(record.withValue(`${record.value}<=${limits.get(record.key) ?? 'none'}`));
          },
        };
      })
      .to('checked', { key: stringSerde, value: stringSerde });
    const driver = testDriver(builder.build());
    await driver.inputTopic('limits', { key: stringSerde, value: jsonSerde<number>() }).pipe('u1', 7);
    await driver.inputTopic('requests', text).pipe('u1', 'a');
    await driver.inputTopic('requests', text).pipe('u2', 'b');
    expect(driver.outputTopic('checked', text).readValues()).toEqual(['a<=7', 'b<=none']);
    driver.close();
  });

  it('a global record the serdes refuse stops the application by default, and is skipped and counted under the skip policy', async () => {
    const topology = () => {
      const builder = new StreamsBuilder();
      const rates = builder.globalTable('rates', { key: stringSerde, value: jsonSerde<number>(), name: 'rates' });
      builder
        .stream('payments', text)
        .leftJoin(rates, (_k, currency) => currency, (currency, rate) => `${currency}=${rate}`)
        .to('out', { key: stringSerde, value: stringSerde });
      return builder.build();
    };
    const failing = testDriver(topology());
    await expect(failing.pipe('rates', encoder.encode('EUR'), encoder.encode('{not json'))).rejects.toSatisfy(
      (error: unknown) => error instanceof StreamsError && error.code === 'RECORD_FAILED' && /rates-0 at offset 0/.test(error.message),
    );
    failing.close();

    const skipping = testDriver(topology(), { failures: { deserialization: 'skip' } });
    await skipping.pipe('rates', encoder.encode('EUR'), encoder.encode('2'));
    await skipping.pipe('rates', encoder.encode('EUR'), encoder.encode('{not json'));
    await skipping.pipe('rates', null, encoder.encode('5'));
    await skipping.inputTopic('payments', text).pipe('p1', 'EUR');
    expect(skipping.outputTopic('out', text).readValues()).toEqual(['EUR=2']);
    expect(skipping.metrics().recordsSkipped).toBe(1);
    skipping.close();
  });

  it('refuses a topology whose global topic is also read by a source, or whose global store name is taken', () => {
    const a = new StreamsBuilder();
    a.globalTable('customers', text);
    expect(() => a.stream('customers', text)).toThrow(TopologyError);
    const b = new StreamsBuilder();
    b.stream('customers', text);
    expect(() => b.globalTable('customers', text)).toThrow(/read by the source/);
    const c = new StreamsBuilder();
    c.globalTable('x', { ...text, name: 'shared' });
    expect(() => c.globalTable('y', { ...text, name: 'shared' })).toThrow(/used twice/);
    expect(() => c.addStateStore({ name: 'shared', ...text })).toThrow(/used twice/);
    const d = new StreamsBuilder();
    d.globalTable('x', text);
    expect(() => d.globalTable('x', text)).toThrow(/two global stores/);
  });
});

describe('GlobalKeyValueStore', () => {
  it('iterators see the table as it was when they were made, whatever is applied meanwhile', () => {
    const store = new GlobalKeyValueStore<string, string>({ name: 's', topic: 't', keySerde: stringSerde, valueSerde: stringSerde });
    for (const k of ['a', 'b', 'c', 'd']) store.apply(encoder.encode(k), encoder.encode(k.toUpperCase()));
    const iterator = store.range('b', 'd');
    expect(iterator.next().value).toEqual(['b', 'B']);
    store.apply(encoder.encode('c'), null);
    store.apply(encoder.encode('bb'), encoder.encode('BB'));
    expect([...iterator]).toEqual([
      ['c', 'C'],
      ['d', 'D'],
    ]);
    expect([...store.range('b', 'd')].map(([k]) => k)).toEqual(['b', 'bb', 'd']);
    expect([...store.reverseRange()].map(([k]) => k)).toEqual(['d', 'bb', 'b', 'a']);
    expect([...store.prefixScan('b')].map(([k]) => k)).toEqual(['b', 'bb']);
    expect(store.approximateNumEntries()).toBe(4);
  });

  it('a record the serdes refuse changes nothing', () => {
    const store = new GlobalKeyValueStore<string, number>({ name: 's', topic: 't', keySerde: stringSerde, valueSerde: jsonSerde<number>() });
    store.apply(encoder.encode('k'), encoder.encode('1'));
    expect(() => store.apply(encoder.encode('k'), encoder.encode('nope'))).toThrow();
    expect(store.get('k')).toBe(1);
  });
});

type Step = { kind: 'table'; key: string; value: string | null } | { kind: 'stream'; key: string; lookup: string | null; timestamp: number };

/** The join done the obvious way: a Map for the table, each stream record looked up when it comes. */
function referenceJoin(steps: readonly Step[], left: boolean): { outputs: string[]; table: [string, string][] } {
  const table = new Map<string, string>();
  const outputs: string[] = [];
  for (const step of steps) {
    if (step.kind === 'table') {
      if (step.value === null) table.delete(step.key);
      else table.set(step.key, step.value);
      continue;
    }
    const found = step.lookup === null ? undefined : table.get(step.lookup);
    if (found !== undefined || left) outputs.push(`${step.key}=${step.lookup}:${found ?? null}@${step.timestamp}`);
  }
  return { outputs, table: [...table].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) };
}

describe('KStream–GlobalKTable join against a reference model (fast-check)', () => {
  const keys = fc.constantFrom('a', 'b', 'c', 'd');
  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.record({ kind: fc.constant('table' as const), key: keys, value: fc.option(fc.constantFrom('x', 'y', 'z'), { nil: null }) }),
    fc.record({ kind: fc.constant('stream' as const), key: fc.constantFrom('s1', 's2'), lookup: fc.option(keys, { nil: null }), timestamp: fc.nat(1_000) }),
  );

  it.each([false, true])('left=%s: same outputs (key, value, timestamp) in the same order, same final table', async (left) => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 40 }), async (steps) => {
        const builder = new StreamsBuilder();
        const table = builder.globalTable('table', { ...text, name: 'table' });
        const stream = builder.stream('stream', { key: stringSerde, value: nullable(stringSerde) });
        const joiner = (lookup: string | null, found: string | null) => `${lookup}:${found}`;
        const selector = (_k: string, lookup: string | null) => (lookup === '' ? null : lookup);
        (left ? stream.leftJoin(table, selector, joiner) : stream.join(table, selector, joiner)).to('out', { key: stringSerde, value: stringSerde });
        const driver = testDriver(builder.build());
        const tableTopic = driver.inputTopic('table', { key: stringSerde, value: nullable(stringSerde) });
        const streamTopic = driver.inputTopic('stream', { key: stringSerde, value: nullable(stringSerde) });
        // A null lookup key travels as the stream value "", which the selector maps to null (a null value would be dropped before it).
        for (const s of steps) {
          if (s.kind === 'table') await tableTopic.pipe(s.key, s.value);
          else await streamTopic.pipe(s.key, s.lookup ?? '', { timestamp: s.timestamp });
        }
        const expected = referenceJoin(steps, left);
        const outputs = driver
          .outputTopic('out', text)
          .readRecords()
          .map((r) => `${r.key}=${r.value}@${r.timestamp}`.replace('=:', '=null:'));
        const store = driver.store<ReadOnlyKeyValueStore<string, string>>('table');
        driver.close();
        expect(outputs).toEqual(expected.outputs);
        expect([...store.all()]).toEqual(expected.table);
      }),
      { numRuns: 100 },
    );
  });
});

describe('global store snapshots', () => {
  it('round-trip the state with the positions it covers through a snapshot file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rill-global-snapshot-'));
    try {
      const store = new GlobalKeyValueStore<string, string>({ name: 's', topic: 't', keySerde: stringSerde, valueSerde: stringSerde });
      for (const k of ['b', 'a', 'ü', '\u0000x']) store.apply(encoder.encode(k), encoder.encode(`${k}!`));
      const positions = new Map([
        [2, 7],
        [0, 2 ** 40 + 3],
        [1, 0],
      ]);
      const directory = new SnapshotDirectory(dir, { changelogTopicId: '5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d', partition: 3 });
      const written = await directory.write(globalSnapshotOf(store.ordered(), positions));
      expect(written?.changelogOffset).toBe(2 ** 40 + 10);
      const { snapshot } = await directory.loadNewest();
      const loaded = globalStateOf(snapshot!);
      if (typeof loaded === 'string') throw new Error(loaded);
      expect([...loaded.positions].sort(([a], [b]) => a - b)).toEqual([
        [0, 2 ** 40 + 3],
        [1, 0],
        [2, 7],
      ]);
      const copy = new GlobalKeyValueStore<string, string>({ name: 's', topic: 't', keySerde: stringSerde, valueSerde: stringSerde });
      await copy.load(loaded.keys, loaded.values);
      expect([...copy.all()]).toEqual([...store.all()]);
      expect(copy.get('ü')).toBe('ü!');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('GlobalKTable types', () => {
  it('infer the joined stream and the table value (non-null for join, nullable for leftJoin)', () => {
    const builder = new StreamsBuilder();
    const customers = builder.globalTable('customers', { key: stringSerde, value: jsonSerde<{ name: string }>() });
    expectTypeOf(customers).toEqualTypeOf<GlobalKTable<string, { name: string }>>();
    const orders = builder.stream('orders', orderSerdes);
    const inner = orders.join(customers, (_id, o) => o.customer, (o, c, id) => {
      expectTypeOf(c).toEqualTypeOf<{ name: string }>();
      expectTypeOf(id).toEqualTypeOf<string>();
      return { amount: o.amount, name: c.name };
    });
    expectTypeOf(inner).toEqualTypeOf<KStream<string, { amount: number; name: string }>>();
    const left = orders.leftJoin(customers, (_id, o) => o.customer, (o, c) => {
      expectTypeOf(c).toEqualTypeOf<{ name: string } | null>();
      return c?.name ?? 'unknown';
    });
    expectTypeOf(left).toEqualTypeOf<KStream<string, string>>();
    // @ts-expect-error the lookup key must be the table's key type
    orders.join(customers, (_id, o) => o.amount, (o) => o);
    expect(builder.build().globalStores.size).toBe(1);
  });
});
