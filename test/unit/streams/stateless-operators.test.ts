import { describe, expect, it } from 'vitest';
import { Effect } from 'effect';
import { jsonSerde, stringSerde } from '../../../sdk/mod.ts';
import { DeadLetterHeader, type KeyValueStore, type ProcessorContext, StreamsBuilder, TopologyError, TopologyTestDriver } from '../../../streams/mod.ts';

interface Order {
  id: string;
  customer: string;
  total: number;
}

const serdes = { key: stringSerde, value: jsonSerde<Order>() };
const decoder = new TextDecoder();

describe('stateless operators through the test driver', () => {
  it('filter, mapValues (sync, async and Effect), selectKey, flatMapValues and to, with inferred types', async () => {
    const builder = new StreamsBuilder();
    const orders = builder.stream('orders', serdes);
    orders
      .filter((_key, order) => order.total > 0)
      .mapValues(async (order) => ({ ...order, fx: order.total * 2 }))
      .mapValues((order) => Effect.succeed(`${order.id}:${order.fx}`), { value: stringSerde })
      .to('enriched');
    orders
      .selectKey((_key, order) => order.customer, { key: stringSerde })
      .flatMapValues((order) => [order.total, order.total + 1], { value: jsonSerde<number>() })
      .to('by-customer');
    const driver = new TopologyTestDriver(builder.build());
    const input = driver.inputTopic('orders', serdes);
    await input.pipe('o1', { id: 'o1', customer: 'c1', total: 10 }, { timestamp: 5 });
    await input.pipe('o2', { id: 'o2', customer: 'c2', total: 0 }, { timestamp: 6 });
    expect(driver.outputTopic('enriched', { key: stringSerde, value: stringSerde }).readRecords()).toEqual([
      { key: 'o1', value: 'o1:20', timestamp: 5, headers: [] },
    ]);
    expect(driver.outputTopic('by-customer', { key: stringSerde, value: jsonSerde<number>() }).readKeyValues()).toEqual([
      ['c1', 10],
      ['c1', 11],
      ['c2', 0],
      ['c2', 1],
    ]);
  });

  it('filterNot, map, flatMap, peek and merge, and to() choosing the topic per record', async () => {
    const builder = new StreamsBuilder();
    const orders = builder.stream('orders', serdes);
    const seen: string[] = [];
    const big = orders.filterNot((_key, order) => order.total < 100);
    const small = orders
      .filterNot((_key, order) => order.total >= 100)
      .map((key, order) => [`small-${key}`, { ...order, total: order.total * 10 }] as const, { key: stringSerde })
      .peek((key) => {
        seen.push(key);
      });
    big
      .merge(small)
      .flatMap((key, order) => [[order.customer, `${key}=${order.total}`] as const, [order.customer, 'done'] as const], { key: stringSerde, value: stringSerde })
      .to((record) => (record.value === 'done' ? 'done' : `totals-${record.key}`));
    const driver = new TopologyTestDriver(builder.build());
    const input = driver.inputTopic('orders', serdes);
    await input.pipe('o1', { id: 'o1', customer: 'c1', total: 150 }, { timestamp: 5 });
    await input.pipe('o2', { id: 'o2', customer: 'c2', total: 7 }, { timestamp: 3 });
    const text = { key: stringSerde, value: stringSerde };
    expect(driver.outputTopic('totals-c1', text).readRecords()).toEqual([{ key: 'c1', value: 'o1=150', timestamp: 5, headers: [] }]);
    expect(driver.outputTopic('totals-c2', text).readRecords()).toEqual([{ key: 'c2', value: 'small-o2=70', timestamp: 3, headers: [] }]);
    expect(driver.outputTopic('done', text).readKeyValues()).toEqual([
      ['c1', 'done'],
      ['c2', 'done'],
    ]);
    expect(seen).toEqual(['small-o2']);
  });

  it('process() reads the record context and a named store (with a prefix scan) and forwards with an explicit timestamp', async () => {
    const builder = new StreamsBuilder();
    builder.addStateStore({ name: 'totals-by-id', key: stringSerde, value: jsonSerde<number>() });
    builder
      .stream('orders', serdes)
      .process<string, string>(
        () => {
          let context!: ProcessorContext<string, string>;
          let store!: KeyValueStore<string, number>;
          return {
            init(c) {
              context = c;
              store = c.getStateStore('totals-by-id');
            },
            process(record) {
              store.put(record.key, record.value.total);
              const sameCustomer = [...store.prefixScan(`${record.value.customer}/`)].map(([id, total]) => `${id}:${total}`);
              const where = `${record.metadata?.topic}-${record.metadata?.partition}@${record.metadata?.offset}`;
              const trace = record.headers.find((h) => h.key === 'trace')?.value;
              context.forward(
                record
                  .with(record.value.customer, `${where} ${sameCustomer.join(',')} trace=${trace === undefined || trace === null ? '-' : decoder.decode(trace)}`)
                  .withTimestamp(record.timestamp + 1_000),
              );
            },
          };
        },
        { stores: ['totals-by-id'], key: stringSerde, value: stringSerde },
      )
      .to('processed');
    const driver = new TopologyTestDriver(builder.build());
    const input = driver.inputTopic('orders', serdes);
    await input.pipe('c1/o1', { id: 'o1', customer: 'c1', total: 10 }, { timestamp: 5, headers: [{ key: 'trace', value: new TextEncoder().encode('t-1') }] });
    await input.pipe('c2/o2', { id: 'o2', customer: 'c2', total: 20 }, { timestamp: 6 });
    await input.pipe('c1/o3', { id: 'o3', customer: 'c1', total: 30 }, { timestamp: 7 });
    expect(driver.outputTopic('processed', { key: stringSerde, value: stringSerde }).readRecords()).toEqual([
      { key: 'c1', value: 'orders-0@0 c1/o1:10 trace=t-1', timestamp: 1_005, headers: [{ key: 'trace', value: new TextEncoder().encode('t-1') }] },
      { key: 'c2', value: 'orders-0@1 c2/o2:20 trace=-', timestamp: 1_006, headers: [] },
      { key: 'c1', value: 'orders-0@2 c1/o1:10,c1/o3:30 trace=-', timestamp: 1_007, headers: [] },
    ]);
    expect([...driver.store<KeyValueStore<string, number>>('totals-by-id').range('c1/', 'c2/')]).toEqual([
      ['c1/o1', 10],
      ['c1/o3', 30],
    ]);
  });

  it('routes failures by policy: dead-letter records carry the input bytes and where they came from', async () => {
    const builder = new StreamsBuilder();
    builder
      .stream('orders', serdes)
      .mapValues((order) => {
        if (order.total < 0) throw new Error(`negative total in ${order.id}`);
        return order.total;
      }, { value: jsonSerde<number>() })
      .to('totals');
    const driver = new TopologyTestDriver(builder.build(), { applicationId: 'app', failures: { processing: 'dlq', deserialization: 'dlq' } });
    const raw = driver.inputTopic<Uint8Array | null, Uint8Array | null>('orders');
    await raw.pipe(new TextEncoder().encode('bad'), new TextEncoder().encode('{not json'));
    await driver.inputTopic('orders', serdes).pipe('o1', { id: 'o1', customer: 'c', total: -1 });
    await driver.inputTopic('orders', serdes).pipe('o2', { id: 'o2', customer: 'c', total: 3 });
    expect(driver.outputTopic('totals', { key: stringSerde, value: jsonSerde<number>() }).readKeyValues()).toEqual([['o2', 3]]);
    const dead = driver.outputTopic('app-dlq').readRecords();
    expect(dead).toHaveLength(2);
    const header = (r: (typeof dead)[number], key: string) => decoder.decode(r.headers.find((h) => h.key === key)!.value!);
    expect(dead.map((r) => [header(r, DeadLetterHeader.errorKind), header(r, DeadLetterHeader.offset), header(r, DeadLetterHeader.topic)])).toEqual([
      ['deserialization', '0', 'orders'],
      ['processing', '1', 'orders'],
    ]);
    expect(header(dead[1]!, DeadLetterHeader.error)).toBe('negative total in o1');
    expect(decoder.decode(dead[0]!.value as Uint8Array)).toBe('{not json');
  });

  it('stops on a failure under the default policy', async () => {
    const builder = new StreamsBuilder();
    builder.stream('in', { key: stringSerde, value: stringSerde }).mapValues(() => Promise.reject(new Error('boom'))).foreach(() => undefined);
    const driver = new TopologyTestDriver(builder.build());
    await expect(driver.inputTopic('in', { key: stringSerde, value: stringSerde }).pipe('k', 'v')).rejects.toThrow(/processing of in-0 at offset 0 failed .*: boom/);
  });

  it('split sends each record to its first matching branch; repartition reads it back by the new key', async () => {
    const builder = new StreamsBuilder();
    const branches = builder.stream('in', { key: stringSerde, value: jsonSerde<number>() }).split([
      { name: 'small', predicate: (_k, v) => v < 10 },
      { name: 'large', predicate: async (_k, v) => v < 1000 },
      { name: 'rest' },
    ]);
    branches.small.to('small');
    branches.large.selectKey((_k, v) => String(v % 2), { key: stringSerde }).repartition({ name: 'parity' }).to('large');
    branches.rest.to('rest');
    const driver = new TopologyTestDriver(builder.build(), { applicationId: 'app' });
    const input = driver.inputTopic('in', { key: stringSerde, value: jsonSerde<number>() });
    for (const n of [1, 50, 5000, 51]) await input.pipe(`k${n}`, n);
    const read = (topic: string) => driver.outputTopic(topic, { key: stringSerde, value: jsonSerde<number>() }).readKeyValues();
    expect(read('small')).toEqual([['k1', 1]]);
    expect(read('large')).toEqual([['0', 50], ['1', 51]]);
    expect(read('rest')).toEqual([['k5000', 5000]]);
  });

  it('refuses a sink without serdes for a changed type, and duplicate names, at build time', () => {
    const builder = new StreamsBuilder();
    const s = builder.stream('in', { key: stringSerde, value: stringSerde }).mapValues((v) => v.length);
    expect(() => s.to('out')).toThrow(TopologyError);
    expect(() => s.to('out')).toThrow(/needs a value serde/);
    builder.stream('other', { name: 'src' });
    expect(() => builder.stream('third', { name: 'src' })).toThrow(/used twice/);
  });

  it('writes an unchanged key with its input bytes only under the same serde, and re-serializes a key object changed in place', async () => {
    const builder = new StreamsBuilder();
    const input = builder.stream('in', { key: stringSerde, value: stringSerde });
    input.to('same');
    input.to('other-serde', { key: jsonSerde<string>() });
    builder
      .stream('objects', { key: jsonSerde<{ id: number }>(), value: stringSerde })
      .process<{ id: number }, string>(() => {
        let ctx!: ProcessorContext<{ id: number }, string>;
        return {
          init: (c) => void (ctx = c),
          process: (record) => {
            record.key.id += 1;
            ctx.forward(record);
          },
        };
      }, { key: jsonSerde<{ id: number }>(), value: stringSerde })
      .to('objects-out');
    const driver = new TopologyTestDriver(builder.build());
    await driver.inputTopic('in', { key: stringSerde, value: stringSerde }).pipe('k', 'v');
    await driver.inputTopic('objects', { key: jsonSerde<{ id: number }>(), value: stringSerde }).pipe({ id: 1 }, 'v');
    expect(driver.outputTopic('same').readRecords().map((r) => decoder.decode(r.key as Uint8Array))).toEqual(['k']);
    expect(driver.outputTopic('other-serde').readRecords().map((r) => decoder.decode(r.key as Uint8Array))).toEqual(['"k"']);
    expect(driver.outputTopic('objects-out', { key: jsonSerde<{ id: number }>() }).readKeyValues().map(([k]) => k)).toEqual([{ id: 2 }]);
  });
});
