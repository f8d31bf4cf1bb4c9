import { describe, expect, it } from 'vitest';
import { Effect } from 'effect';
import { jsonSerde, longSerde, stringSerde } from '../../../sdk/mod.ts';
import {
  DeadLetterHeader,
  type KeyValueStore,
  nullable,
  StreamsBuilder,
  timestampedSerde,
  TopologyError,
  type ValueAndTimestamp,
} from '../../../streams/mod.ts';
import { type OutputRecord, valueBytes } from '../../../streams/runtime/record-collector.ts';
import { testDriver, testTask } from './helpers/test-driver.ts';

const text = { key: stringSerde, value: stringSerde };
const numbers = { key: stringSerde, value: jsonSerde<number>() };
const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface Order {
  customer: string;
  total: number;
}

function countsOf(driver: ReturnType<typeof testDriver>, topic: string): [string, number][] {
  return driver.outputTopic(topic, { key: stringSerde, value: longSerde }).readKeyValues();
}

/** A promise whose resolution the test controls, to hold a record in flight. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('grouped stream aggregations through the test driver', () => {
  it('groupBy repartitions by the new key; count keeps a timestamped value per key and writes one changelog record per key per commit', async () => {
    const builder = new StreamsBuilder();
    builder
      .stream('words', text)
      .groupBy((_key, word) => word, { key: stringSerde })
      .count({ name: 'word-counts' })
      .toStream()
      .to('counts');
    const topology = builder.build();
    expect(topology.subtopologies).toHaveLength(2);
    expect(topology.internalTopics.map((t) => [t.kind, t.name])).toEqual([
      ['repartition', 'word-counts-repartition'],
      ['changelog', 'word-counts-changelog'],
    ]);
    const driver = testDriver(topology, { applicationId: 'app' });
    const input = driver.inputTopic('words', text);
    await input.pipe('line-1', 'x', { timestamp: 1 });
    await input.pipe('line-2', 'y', { timestamp: 2 });
    await input.pipe('line-3', 'x', { timestamp: 3 });
    expect(driver.outputTopic('counts', { key: stringSerde, value: longSerde }).readRecords()).toEqual([
      { key: 'x', value: 1, timestamp: 1, headers: [] },
      { key: 'y', value: 1, timestamp: 2, headers: [] },
      { key: 'x', value: 2, timestamp: 3, headers: [] },
    ]);
    expect(driver.store<KeyValueStore<string, ValueAndTimestamp<number>>>('word-counts').get('x')).toEqual({ value: 2, timestamp: 3 });
    const changelog = driver.outputTopic('app-word-counts-changelog', { key: stringSerde, value: timestampedSerde(longSerde) }).readKeyValues();
    expect(changelog).toEqual([
      ['x', { value: 1, timestamp: 1 }],
      ['y', { value: 1, timestamp: 2 }],
      ['x', { value: 2, timestamp: 3 }],
    ]);
    expect(driver.outputTopic('app-word-counts-repartition').readRecords()).toEqual([]);
  });

  it('with caching (the default) a table forwards its latest value per key once per commit; without, every update', async () => {
    const run = async (cached: boolean) => {
      const builder = new StreamsBuilder();
      builder
        .stream('lines', text)
        .flatMap((_key, line) => line.split(' ').map((word) => [word, word] as const), { key: stringSerde, value: stringSerde })
        .groupByKey()
        .count({ name: 'counts', cached })
        .toStream()
        .to('counts');
      const driver = testDriver(builder.build(), { applicationId: 'app' });
      await driver.inputTopic('lines', text).pipe('l1', 'x y x');
      return { output: countsOf(driver, 'counts'), changelog: driver.outputTopic('app-counts-changelog').readRecords().length };
    };
    expect(await run(true)).toEqual({ output: [['x', 2], ['y', 1]], changelog: 2 });
    expect(await run(false)).toEqual({ output: [['x', 1], ['y', 1], ['x', 2]], changelog: 2 });
  });

  it('groupByKey on an unchanged key needs no repartition: reduce and aggregate in one sub-topology', async () => {
    const builder = new StreamsBuilder();
    const amounts = builder.stream('amounts', numbers);
    amounts
      .groupByKey()
      .reduce((sum, amount) => sum + amount, { name: 'sums' })
      .toStream()
      .to('sums');
    amounts
      .groupByKey()
      .aggregate(() => [], (_key, amount, seen) => [...seen, amount], { name: 'histories', value: jsonSerde<number[]>() })
      .toStream()
      .to('histories');
    const topology = builder.build();
    expect(topology.subtopologies).toHaveLength(1);
    expect(topology.repartitionTopics.size).toBe(0);
    const driver = testDriver(topology);
    await driver.inputTopic('amounts', numbers).pipeAll([
      ['a', 5],
      ['b', 1],
      ['a', 7],
    ]);
    expect(driver.outputTopic('sums', numbers).readKeyValues()).toEqual([
      ['a', 5],
      ['b', 1],
      ['a', 12],
    ]);
    expect(driver.outputTopic('histories', { key: stringSerde, value: jsonSerde<number[]>() }).readKeyValues()).toEqual([
      ['a', [5]],
      ['b', [1]],
      ['a', [5, 7]],
    ]);
  });

  it('leaves records with a null value or a null key out of every aggregation, as Kafka Streams does', async () => {
    const builder = new StreamsBuilder();
    const events = builder.stream('events', { key: nullable(stringSerde), value: nullable(stringSerde) });
    events.groupByKey().count({ name: 'by-key' }).toStream().to('by-key');
    events
      .groupBy((_key, value) => (value === null || value === 'anonymous' ? null : value.toUpperCase()), { key: nullable(stringSerde) })
      .count({ name: 'by-value' })
      .toStream()
      .to('by-value');
    builder
      .stream('plain', text)
      .mapValues((value) => (value === 'drop' ? null : value), { value: stringSerde })
      .groupBy((key) => key.toUpperCase(), { key: stringSerde })
      .count({ name: 'plain' })
      .toStream()
      .to('plain-counts');
    const driver = testDriver(builder.build(), { applicationId: 'app', failures: { deserialization: 'dlq', processing: 'dlq' } });
    const input = driver.inputTopic('events', { key: nullable(stringSerde), value: nullable(stringSerde) });
    await input.pipe('k', null);
    await input.pipe(null, 'v');
    await input.pipe('k', 'anonymous');
    await input.pipe('k', 'v');
    expect(countsOf(driver, 'by-key')).toEqual([
      ['k', 1],
      ['k', 2],
    ]);
    expect(countsOf(driver, 'by-value')).toEqual([
      ['V', 1],
      ['V', 2],
    ]);
    const plain = driver.inputTopic('plain', text);
    await plain.pipe('p', 'drop');
    await plain.pipe('p', 'keep');
    expect(countsOf(driver, 'plain-counts')).toEqual([['P', 1]]);
    expect(driver.outputTopic('app-dlq').readRecords()).toEqual([]);
  });

  it('stamps an aggregate with the largest timestamp of its records when they arrive out of order', async () => {
    const builder = new StreamsBuilder();
    builder.stream('amounts', numbers).groupByKey().reduce((a, b) => a + b, { name: 'sums' }).toStream().to('sums');
    const driver = testDriver(builder.build());
    const input = driver.inputTopic('amounts', numbers);
    await input.pipe('a', 1, { timestamp: 100 });
    await input.pipe('a', 2, { timestamp: 40 });
    await input.pipe('b', 3, { timestamp: 50 });
    expect(driver.outputTopic('sums', numbers).readRecords().map((r) => [r.key, r.value, r.timestamp])).toEqual([
      ['a', 1, 100],
      ['a', 3, 100],
      ['b', 3, 50],
    ]);
    expect(driver.store<KeyValueStore<string, ValueAndTimestamp<number>>>('sums').get('a')).toEqual({ value: 3, timestamp: 100 });
  });

  it('repartitions twice: per-customer counts regrouped by region, with the serdes of each grouping', async () => {
    const builder = new StreamsBuilder();
    builder
      .stream('orders', { key: stringSerde, value: jsonSerde<Order>() })
      .groupBy((_id, order) => order.customer, { key: stringSerde })
      .count({ name: 'orders-per-customer' })
      .toStream()
      .map((customer, orders) => [customer.split('/')[0]!, orders] as const)
      .groupByKey({ name: 'by-region', key: stringSerde, value: longSerde })
      .reduce((most, orders) => Math.max(most, orders), { name: 'busiest-customer-per-region' })
      .toStream()
      .to('busiest', { value: longSerde });
    const topology = builder.build();
    expect(topology.subtopologies).toHaveLength(3);
    expect(topology.internalTopics.filter((t) => t.kind === 'repartition').map((t) => t.name)).toEqual(['orders-per-customer-repartition', 'by-region-repartition']);
    const driver = testDriver(topology, { applicationId: 'app' });
    const input = driver.inputTopic('orders', { key: stringSerde, value: jsonSerde<Order>() });
    let id = 0;
    for (const customer of ['eu/ann', 'eu/bob', 'eu/bob', 'us/cid', 'eu/bob', 'eu/ann']) await input.pipe(`o${id++}`, { customer, total: 1 });
    expect(countsOf(driver, 'busiest')).toEqual([
      ['eu', 1],
      ['eu', 1],
      ['eu', 2],
      ['us', 1],
      ['eu', 3],
      ['eu', 3],
    ]);
  });

  it('an asynchronous aggregator sees its key’s records in input order while other keys overtake', async () => {
    const gates = new Map<string, ReturnType<typeof gate>>();
    const builder = new StreamsBuilder();
    builder
      .stream('in', text)
      .groupByKey()
      .aggregate(
        () => '',
        (_key, value, joined) => {
          const held = gates.get(value);
          return held === undefined ? joined + value : held.promise.then(() => joined + value);
        },
        { name: 'joined', value: stringSerde, cached: false },
      )
      .toStream()
      .to('out');
    const topology = builder.build();
    const sent: OutputRecord[] = [];
    const task = testTask(topology, sent);
    gates.set('a1', gate());
    let offset = 0;
    const accept = (key: string, value: string) =>
      task.accept({ topic: 'in', partition: 0, offset: offset++, timestamp: offset, key: encoder.encode(key), value: encoder.encode(value), headers: [] });
    accept('a', 'a1');
    accept('b', 'b1');
    accept('a', 'a2');
    accept('b', 'b2');
    const outputs = () => sent.filter((r) => r.topic === 'out').map((r) => `${decoder.decode(r.key!)}=${decoder.decode(valueBytes(r.value)!)}`);
    expect(outputs()).toEqual(['b=b1', 'b=b1b2']);
    gates.get('a1')!.open();
    await task.drained();
    expect(outputs()).toEqual(['b=b1', 'b=b1b2', 'a=a1', 'a=a1a2']);
    task.prepareCommit();
    task.commitSucceeded();
    expect((task.store('joined') as KeyValueStore<string, ValueAndTimestamp<string>>).get('a')).toEqual({ value: 'a1a2', timestamp: 3 });
  });

  it('runs asynchronous stages (a promise, an Effect) before an aggregation, through the driver', async () => {
    const builder = new StreamsBuilder();
    builder
      .stream('amounts', numbers)
      .mapValues(async (amount) => amount * 10, { value: jsonSerde<number>() })
      .selectKey((key) => Effect.succeed(key.toUpperCase()), { key: stringSerde })
      .groupByKey()
      .aggregate(() => 0, async (_key, amount, total) => total + amount, { name: 'totals', value: jsonSerde<number>() })
      .toStream()
      .to('totals');
    const driver = testDriver(builder.build());
    await driver.inputTopic('amounts', numbers).pipeAll([
      ['a', 1],
      ['a', 2],
      ['b', 3],
    ]);
    expect(driver.outputTopic('totals', numbers).readKeyValues()).toEqual([
      ['A', 10],
      ['A', 30],
      ['B', 30],
    ]);
  });

  it('routes a record whose aggregator fails to the dead-letter topic, leaves its aggregate as it was and goes on', async () => {
    const builder = new StreamsBuilder();
    builder
      .stream('orders', { key: stringSerde, value: jsonSerde<Order>() })
      .groupBy((_id, order) => order.customer, { key: stringSerde })
      .aggregate(
        () => 0,
        (customer, order, total) => {
          if (order.total < 0) throw new Error(`negative total for ${customer}`);
          return total + order.total;
        },
        { name: 'spend', value: jsonSerde<number>() },
      )
      .toStream()
      .to('spend');
    const driver = testDriver(builder.build(), { applicationId: 'app', failures: { processing: 'dlq' } });
    const input = driver.inputTopic('orders', { key: stringSerde, value: jsonSerde<Order>() });
    await input.pipe('o1', { customer: 'ann', total: 5 });
    await input.pipe('o2', { customer: 'ann', total: -1 });
    await input.pipe('o3', { customer: 'ann', total: 2 });
    expect(driver.outputTopic('spend', numbers).readKeyValues()).toEqual([
      ['ann', 5],
      ['ann', 7],
    ]);
    const dead = driver.outputTopic('app-dlq', { key: stringSerde, value: jsonSerde<Order>() }).readRecords();
    expect(dead.map((r) => [r.key, r.value])).toEqual([['ann', { customer: 'ann', total: -1 }]]);
    const header = (key: string) => decoder.decode(dead[0]!.headers.find((h) => h.key === key)!.value!);
    expect([header(DeadLetterHeader.topic), header(DeadLetterHeader.offset), header(DeadLetterHeader.task), header(DeadLetterHeader.error)]).toEqual([
      'app-spend-repartition',
      '1',
      '1_0',
      'negative total for ann',
    ]);
    expect(driver.store<KeyValueStore<string, ValueAndTimestamp<number>>>('spend').get('ann')?.value).toBe(7);
  });

  it('refuses, at build time, an aggregation whose repartition or store lacks a serde', () => {
    const builder = new StreamsBuilder();
    const lengths = builder.stream('in', text).mapValues((value) => value.length);
    expect(() => lengths.groupBy((_key, length) => String(length), { key: stringSerde }).count({ name: 'c' })).toThrow(
      /count\(\): the repartition topic "c-repartition" needs a value serde/,
    );
    expect(() => lengths.groupByKey().reduce((a, b) => a + b)).toThrow(TopologyError);
    expect(() => lengths.groupByKey().reduce((a, b) => a + b)).toThrow(/reduce\(\) needs a value serde/);
    expect(lengths.groupBy((_key, length) => String(length), { key: stringSerde, value: jsonSerde<number>() }).count({ name: 'c' }).queryableStoreName).toBe('c');
  });
});
