import { describe, expect, it } from 'vitest';
import { jsonSerde, stringSerde } from '../../../sdk/mod.ts';
import { StreamsBuilder } from '../../../streams/mod.ts';

interface Order {
  customer: string;
  total: number;
}

function ordersTopology() {
  const builder = new StreamsBuilder();
  const orders = builder.stream('orders', { key: stringSerde, value: jsonSerde<Order>() });
  orders.filter((_id, order) => order.total > 0).to('valid-orders');
  orders
    .groupBy((_id, order) => order.customer, { key: stringSerde })
    .count({ name: 'orders-per-customer' })
    .toStream()
    .to('customer-counts');
  return builder.build();
}

describe('Topology.describe()', () => {
  it('shows sub-topologies, nodes, stores and internal topics as text', () => {
    expect(ordersTopology().describe().toString()).toBe(`Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [orders])
      --> KSTREAM-FILTER-0000000001, KSTREAM-KEY-SELECT-0000000003
    Processor: KSTREAM-FILTER-0000000001 (stores: [])
      --> KSTREAM-SINK-0000000002
      <-- KSTREAM-SOURCE-0000000000
    Sink: KSTREAM-SINK-0000000002 (topic: valid-orders)
      <-- KSTREAM-FILTER-0000000001
    Processor: KSTREAM-KEY-SELECT-0000000003 (stores: [])
      --> orders-per-customer-repartition-filter
      <-- KSTREAM-SOURCE-0000000000
    Processor: orders-per-customer-repartition-filter (stores: [])
      --> orders-per-customer-repartition-sink
      <-- KSTREAM-KEY-SELECT-0000000003
    Sink: orders-per-customer-repartition-sink (topic: orders-per-customer-repartition)
      <-- orders-per-customer-repartition-filter

   Sub-topology: 1
    Source: orders-per-customer-repartition-source (topics: [orders-per-customer-repartition])
      --> KSTREAM-AGGREGATE-0000000004
    Processor: KSTREAM-AGGREGATE-0000000004 (stores: [orders-per-customer])
      --> KTABLE-TOSTREAM-0000000005
      <-- orders-per-customer-repartition-source
    Processor: KTABLE-TOSTREAM-0000000005 (stores: [])
      --> KSTREAM-SINK-0000000006
      <-- KSTREAM-AGGREGATE-0000000004
    Sink: KSTREAM-SINK-0000000006 (topic: customer-counts)
      <-- KTABLE-TOSTREAM-0000000005

Stores:
    orders-per-customer (key-value, cached, changelog orders-per-customer-changelog) in sub-topology 1

Internal topics (created as <applicationId>-<name>):
    orders-per-customer-repartition (repartition) written by sub-topology 0, read by sub-topology 1; partitions: as many as its writers' tasks
    orders-per-customer-changelog (changelog of orders-per-customer) partitions: as sub-topology 1's tasks; config: cleanup.policy=compact
`);
  });

  it('draws the same as a Mermaid flowchart', () => {
    expect(ordersTopology().describe().toMermaid()).toBe(`flowchart TB
  subgraph sub0 ["Sub-topology 0"]
    n0(["KSTREAM-SOURCE-0000000000"])
    n1["KSTREAM-FILTER-0000000001"]
    n2>"KSTREAM-SINK-0000000002"]
    n3["KSTREAM-KEY-SELECT-0000000003"]
    n4["orders-per-customer-repartition-filter"]
    n5>"orders-per-customer-repartition-sink"]
  end
  subgraph sub1 ["Sub-topology 1"]
    n6(["orders-per-customer-repartition-source"])
    n7["KSTREAM-AGGREGATE-0000000004"]
    n8["KTABLE-TOSTREAM-0000000005"]
    n9>"KSTREAM-SINK-0000000006"]
    s0[("orders-per-customer")]
  end
  t0[/"orders"/]
  t1[/"valid-orders"/]
  t2[/"orders-per-customer-repartition"/]
  t3[/"customer-counts"/]
  t0 --> n0
  n0 --> n1
  n0 --> n3
  n1 --> n2
  n2 --> t1
  n3 --> n4
  n4 --> n5
  n5 --> t2
  t2 --> n6
  n6 --> n7
  n7 --> n8
  n7 -.- s0
  n8 --> n9
  n9 --> t3
`);
  });

  it('lists co-partitioned topics, unlogged stores and sinks whose topic is chosen per record', () => {
    const builder = new StreamsBuilder();
    builder.addStateStore({ name: "o'clock \"store\"", key: stringSerde, value: stringSerde, logged: false });
    builder
      .stream(['left', 'right'], { key: stringSerde, value: stringSerde })
      .process<string, string>(() => ({ process: () => undefined }), { stores: ["o'clock \"store\""] });
    builder.stream('routed', { key: stringSerde, value: stringSerde }).to((record) => `out-${record.key}`, { name: 'router' });
    const description = builder.build().describe();
    const text = description.toString();
    expect(text).toContain('    Sink: router (topic: chosen per record)\n');
    expect(text).toContain(`Stores:\n    o'clock "store" (key-value, not cached, not logged) in sub-topology 0\n`);
    expect(text).toContain('Co-partitioned (same partition count):\n    sub-topology 0: [left, right]\n');
    expect(text).not.toContain('Internal topics');
    const mermaid = description.toMermaid();
    expect(mermaid).toContain(`    s0[("o'clock #quot;store#quot;")]\n`);
    expect(mermaid).toContain('  n3 --> t3\n');
    expect(mermaid).toContain('  t3[/"topic chosen per record"/]\n');
  });
  it('says a repartition topic read with a user topic takes that topic\'s partition count', () => {
    const builder = new StreamsBuilder();
    const customers = builder.table('customers', { key: stringSerde, value: stringSerde, name: 'customers' });
    builder
      .stream('orders', { key: stringSerde, value: jsonSerde<Order>() })
      .selectKey((_id, order) => order.customer, { key: stringSerde })
      .join(customers, (order, name) => `${name}:${order.total}`, { value: stringSerde })
      .to('orders-by-customer');
    const text = builder.build().describe().toString();
    expect(text).toMatch(/\(repartition\) written by sub-topology 1, read by sub-topology 0; partitions: as many as topic customers \(co-partitioned\)\n/);
  });
});
