import type { JSONSchemaType } from 'ajv';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { jsonSchemaSerde, jsonSerde, longSerde, stringSerde } from '../../../sdk/mod.ts';
import {
  type Cancellable,
  type KGroupedStream,
  type KStream,
  type KTable,
  type ProcessorContext,
  PunctuationType,
  StreamRecord,
  StreamsBuilder,
  type TimeWindowedKStream,
  TimeWindows,
  timeWindowedSerde,
  type Windowed,
} from '../../../streams/mod.ts';
import { testDriver } from './helpers/test-driver.ts';

// Type tests: `npm run typecheck` fails when an operator stops inferring its output types (the
// expectTypeOf lines) or when a wrong chain starts to compile (the @ts-expect-error lines).

interface Order {
  customer: string;
  currency: string;
  total: number;
}

interface EnrichedOrder extends Order {
  fx: number;
}

interface Totals {
  count: number;
  total: number;
}

interface Customer {
  name: string;
  tier: 'gold' | 'silver';
}

const orderSchema: JSONSchemaType<Order> = {
  type: 'object',
  properties: { customer: { type: 'string' }, currency: { type: 'string' }, total: { type: 'number' } },
  required: ['customer', 'currency', 'total'],
};

const rates = { get: async (currency: string) => (currency === 'EUR' ? 1.1 : 1) };

/** The issue's example, as a user writes it: every type below is inferred. */
function issueExample() {
  const builder = new StreamsBuilder();
  const orders = builder.stream('orders', { key: stringSerde, value: jsonSchemaSerde(orderSchema) });
  expectTypeOf(orders).toEqualTypeOf<KStream<string, Order>>();

  const enriched = orders.filter((_key, order) => order.total > 0).mapValues(async (order) => ({ ...order, fx: await rates.get(order.currency) }));
  expectTypeOf(enriched).toEqualTypeOf<KStream<string, EnrichedOrder>>();
  enriched.to('orders-enriched', { value: jsonSerde<EnrichedOrder>() });

  const byCustomer = orders.groupBy((_key, order) => order.customer, { key: stringSerde });
  expectTypeOf(byCustomer).toEqualTypeOf<KGroupedStream<string, Order>>();
  const totals = byCustomer.aggregate(
    () => ({ count: 0, total: 0 }),
    (_customer, order, agg) => ({ count: agg.count + 1, total: agg.total + order.total }),
    { name: 'customer-totals', value: jsonSerde<Totals>() },
  );
  expectTypeOf(totals).toEqualTypeOf<KTable<string, Totals, never>>();
  expectTypeOf(totals.toStream()).toEqualTypeOf<KStream<string, Totals>>();
  totals.toStream().to('customer-totals');
  return builder;
}

describe('the DSL’s types', () => {
  it('infers every type of the issue’s example, which runs as written', async () => {
    const driver = testDriver(issueExample().build());
    const input = driver.inputTopic('orders', { key: stringSerde, value: jsonSerde<Order>() });
    await input.pipe('o1', { customer: 'ann', currency: 'EUR', total: 10 });
    await input.pipe('o2', { customer: 'ann', currency: 'USD', total: 5 });
    expect(driver.outputTopic('orders-enriched', { key: stringSerde, value: jsonSerde<EnrichedOrder>() }).readValues().map((o) => o.fx)).toEqual([1.1, 1]);
    expect(driver.outputTopic('customer-totals', { key: stringSerde, value: jsonSerde<Totals>() }).readKeyValues()).toEqual([
      ['ann', { count: 1, total: 10 }],
      ['ann', { count: 2, total: 15 }],
    ]);
  });

  it('tracks what tables can delete: nulls after toStream() only where deletes happen', () => {
    const builder = new StreamsBuilder();
    const orders = builder.stream('orders', { key: stringSerde, value: jsonSerde<Order>() });
    const customers = builder.table('customers', { key: stringSerde, value: jsonSerde<Customer>() });
    expectTypeOf(customers).toEqualTypeOf<KTable<string, Customer, null>>();
    expectTypeOf(customers.toStream()).toEqualTypeOf<KStream<string, Customer | null>>();
    expectTypeOf(customers.mapValues((c) => c.tier === 'gold')).toEqualTypeOf<KTable<string, boolean, null>>();

    const counts = orders.groupByKey().count();
    expectTypeOf(counts).toEqualTypeOf<KTable<string, number, never>>();
    expectTypeOf(counts.mapValues((n) => `${n}`).toStream()).toEqualTypeOf<KStream<string, string>>();
    expectTypeOf(counts.filter((_key, n) => n > 1).toStream()).toEqualTypeOf<KStream<string, number | null>>();
    expectTypeOf(orders.groupByKey().reduce((a, b) => ({ ...a, total: a.total + b.total }))).toEqualTypeOf<KTable<string, Order, never>>();
    const anyTable: KTable<string, number> = counts;
    expect(anyTable.queryableStoreName).toBe(counts.queryableStoreName);
    expectTypeOf(orders.mapValues((o) => o.total).groupByKey({ value: longSerde })).toEqualTypeOf<KGroupedStream<string, number>>();
  });

  it('infers windowed tables keyed by Windowed<K>', () => {
    const builder = new StreamsBuilder();
    const orders = builder.stream('orders', { key: stringSerde, value: jsonSerde<Order>() });
    const windowed = orders.groupBy((_key, order) => order.customer, { key: stringSerde }).windowedBy(TimeWindows.ofSizeAndGrace(60_000, 1_000));
    expectTypeOf(windowed).toEqualTypeOf<TimeWindowedKStream<string, Order>>();
    const counts = windowed.count();
    expectTypeOf(counts).toEqualTypeOf<KTable<Windowed<string>, number, never>>();
    expectTypeOf(counts.toStream()).toEqualTypeOf<KStream<Windowed<string>, number>>();
    expectTypeOf(windowed.reduce((a, b) => ({ ...a, total: a.total + b.total }))).toEqualTypeOf<KTable<Windowed<string>, Order, never>>();
    const totals = windowed.aggregate(() => ({ count: 0, total: 0 }), (_c, order, agg) => ({ count: agg.count + 1, total: agg.total + order.total }), { value: jsonSerde<Totals>() });
    expectTypeOf(totals).toEqualTypeOf<KTable<Windowed<string>, Totals, never>>();
    expectTypeOf(counts.toStream().map((w, n) => [w.key, { start: w.window.startMs, n }] as const)).toEqualTypeOf<KStream<string, { readonly start: number; readonly n: number }>>();
    counts.toStream().to('counts', { key: timeWindowedSerde(stringSerde, 60_000) });
  });

  it('makes a wrong chain a compile error', () => {
    const builder = new StreamsBuilder();
    const orders = builder.stream('orders', { key: stringSerde, value: jsonSerde<Order>() });
    const customers = builder.table('customers', { key: stringSerde, value: jsonSerde<Customer>() });
    const grouped = orders.groupBy((_key, order) => order.customer, { key: stringSerde });
    const wrong: (() => unknown)[] = [
      // @ts-expect-error a property Order does not have
      () => orders.filter((_key, order) => order.totl > 0),
      // @ts-expect-error groupBy needs the new key's serde
      () => orders.groupBy((_key, order) => order.customer, {}),
      // @ts-expect-error the key serde does not fit the selected key
      () => orders.groupBy((_key, order) => order.total, { key: stringSerde }),
      // @ts-expect-error aggregate needs the aggregate's value serde
      () => grouped.aggregate(() => ({ count: 0, total: 0 }), (_c, order, agg) => ({ count: agg.count + 1, total: agg.total + order.total }), { name: 'x' }),
      // @ts-expect-error the initializer's value is not of the serde's type
      () => grouped.aggregate(() => ({ count: 0 }), (_c, order, agg) => ({ count: agg.count + 1, total: agg.total + order.total }), { value: jsonSerde<Totals>() }),
      // @ts-expect-error the aggregator's result is not of the serde's type
      () => grouped.aggregate(() => ({ count: 0, total: 0 }), (_c, _order, agg) => ({ count: agg.count + 1 }), { value: jsonSerde<Totals>() }),
      // @ts-expect-error reduce keeps the value type
      () => grouped.reduce((a) => a.total),
      // @ts-expect-error a table's deletes reach toStream() as null
      () => customers.toStream().mapValues((customer) => customer.name),
      // @ts-expect-error the sink's serde does not fit the values
      () => grouped.count().toStream().to('counts', { value: stringSerde }),
      // @ts-expect-error a windowed table's keys need a windowed serde
      () => grouped.windowedBy(TimeWindows.ofSizeWithNoGrace(10)).count().toStream().to('counts', { key: stringSerde }),
      // @ts-expect-error the windowed serde's inner key does not fit the key
      () => grouped.windowedBy(TimeWindows.ofSizeWithNoGrace(10)).count().toStream().to('counts', { key: timeWindowedSerde(longSerde, 10) }),
      // @ts-expect-error windowedBy takes TimeWindows, not a number of milliseconds
      () => grouped.windowedBy(10),
      // @ts-expect-error the windowed aggregator's result is not of the serde's type
      () => grouped.windowedBy(TimeWindows.ofSizeWithNoGrace(10)).aggregate(() => ({ count: 0, total: 0 }), (_c, _order, agg) => ({ count: agg.count + 1 }), { value: jsonSerde<Totals>() }),
    ];
    // @ts-expect-error a table that deletes is not one that never does
    const neverDeletes: KTable<string, Customer, never> = customers;
    expect(wrong).toHaveLength(13);
    expect(neverDeletes).toBe(customers);
  });

  it('types punctuators: the clock is one of the two types, and a punctuator forwards what its processor declares', () => {
    const check = (context: ProcessorContext<string, number>) => {
      const handle = context.schedule(1_000, PunctuationType.WALL_CLOCK_TIME, (timestampMs) => context.forward(new StreamRecord('k', timestampMs, timestampMs)));
      expectTypeOf(handle).toEqualTypeOf<Cancellable>();
      expectTypeOf(PunctuationType.STREAM_TIME).toEqualTypeOf<'STREAM_TIME'>();
      const wrong: (() => unknown)[] = [
        // @ts-expect-error not a punctuation type
        () => context.schedule(1_000, 'stream-time', () => undefined),
        // @ts-expect-error the processor forwards numbers, not text
        () => context.schedule(1_000, PunctuationType.STREAM_TIME, (timestampMs) => context.forward(new StreamRecord('k', `${timestampMs}`, timestampMs))),
        // @ts-expect-error a punctuator gets the timestamp as a number
        () => context.schedule(1_000, PunctuationType.STREAM_TIME, (timestamp: string) => void timestamp),
      ];
      return wrong;
    };
    expect(check).toBeTypeOf('function');
  });
});
