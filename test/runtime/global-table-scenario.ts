import { join } from 'node:path';
import { Admin } from '../../sdk/client/admin/admin.ts';
import { Consumer } from '../../sdk/client/consumer/consumer.ts';
import { Producer } from '../../sdk/client/producer/producer.ts';
import { jsonSerde, stringSerde } from '../../sdk/serde/basic-serdes.ts';
import type { Transport } from '../../sdk/transport/transport.ts';
import { AppState, type AppStateValue, StreamsApp, StreamsBuilder } from '../../streams/mod.ts';

interface Order {
  customer: string;
}

const CUSTOMERS = 30;
const GLOBAL_PARTITIONS = 3;
const ORDER_PARTITIONS = 2;
/** Probe orders sent per partition while waiting for a global update to reach the instance processing it. */
const MAX_PROBES = 200;

/** Enriched orders as the job commits them, read as they come (read_committed). */
class OutputWatcher {
  private readonly seen = new Map<string, string>();
  private readonly consumer: Consumer<string, string>;
  private readonly iterator: AsyncIterator<{ key: string | null; value: string | null }>;

  constructor(transport: Transport, topic: string) {
    this.consumer = new Consumer(transport, { keySerde: stringSerde, valueSerde: stringSerde, autoOffsetReset: 'earliest', maxWaitMs: 50 });
    this.consumer.assign([{ topic, partition: 0 }]);
    this.iterator = this.consumer[Symbol.asyncIterator]();
  }

  /** The value the job wrote for order `key`, waiting for it. */
  async valueOf(key: string): Promise<string> {
    for (;;) {
      const known = this.seen.get(key);
      if (known !== undefined) return known;
      const next = await this.iterator.next();
      if (next.done === true) throw new Error('the output consumer closed');
      this.seen.set(next.value.key!, next.value.value!);
    }
  }

  count(): number {
    return this.seen.size;
  }

  close(): Promise<void> {
    return this.consumer.close();
  }
}

/**
 * The GlobalKTable scenario, the same under Node (vitest, embedded and TCP), Bun and Deno: orders
 * (2 partitions, split between two instances) left-joined with a global customers table (3
 * partitions, whole in each instance). Checks: every instance joins customers of every global
 * partition; global updates and deletes made while running reach later orders on both instances;
 * a restart restores the table (with what changed while it was down) before it processes orders
 * that waited for it; no changelog topic exists for the global table. `prefix` keeps topic and
 * application names apart when the scenario runs twice on one broker.
 */
export async function runGlobalTableScenario(transport: Transport, stateDir: string, prefix: string): Promise<string[]> {
  const passed: string[] = [];
  const check = (condition: boolean, what: string): void => {
    if (!condition) throw new Error(`global table scenario failed: ${what}`);
    passed.push(what);
  };
  const customersTopic = `${prefix}customers`;
  const ordersTopic = `${prefix}orders`;
  const enrichedTopic = `${prefix}enriched`;
  const applicationId = `${prefix}global-join`;
  const admin = new Admin(transport);
  await admin.createTopics([
    { name: customersTopic, numPartitions: GLOBAL_PARTITIONS, configs: { 'cleanup.policy': 'compact' } },
    { name: ordersTopic, numPartitions: ORDER_PARTITIONS },
    { name: enrichedTopic, numPartitions: 1 },
  ]);
  const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde });
  const setCustomer = (i: number, name: string | null) => producer.send({ topic: customersTopic, partition: i % GLOBAL_PARTITIONS, key: `c${i}`, value: name });
  const order = (id: string, partition: number, customer: number) => ({ topic: ordersTopic, partition, key: id, value: JSON.stringify({ customer: `c${customer}` } satisfies Order) });
  const sendOrder = (id: string, partition: number, customer: number) => producer.send(order(id, partition, customer));

  await producer.sendBatch(Array.from({ length: CUSTOMERS }, (_, i) => ({ topic: customersTopic, partition: i % GLOBAL_PARTITIONS, key: `c${i}`, value: `name${i}-v1` })));
  await setCustomer(CUSTOMERS - 1, null);

  const topology = () => {
    const builder = new StreamsBuilder();
    const customers = builder.globalTable(customersTopic, { key: stringSerde, value: stringSerde });
    builder
      .stream(ordersTopic, { key: stringSerde, value: jsonSerde<Order>() })
      .leftJoin(customers, (_id, order) => order.customer, (order, name) => `${order.customer}=${name ?? 'none'}`, { value: stringSerde })
      .to(enrichedTopic);
    return builder.build();
  };
  const newApp = (name: string) => new StreamsApp(topology(), { applicationId, transport, stateDir: join(stateDir, name), commitIntervalMs: 50 });
  const output = new OutputWatcher(transport, enrichedTopic);
  try {
    const apps = [newApp('a'), newApp('b')];
    await apps[0]!.start();
    await apps[0]!.waitFor(AppState.running);
    await apps[1]!.start();
    await Promise.all(apps.map((app) => app.waitFor(AppState.running)));
    check(apps.every((app) => app.metrics().tasks.length === 1), 'the two instances share the order partitions, one task each');

    // Every customer from every order partition: each instance joins all of the global table's partitions.
    await producer.sendBatch(Array.from({ length: ORDER_PARTITIONS * CUSTOMERS }, (_, n) => order(`first-${n % ORDER_PARTITIONS}-${Math.floor(n / ORDER_PARTITIONS)}`, n % ORDER_PARTITIONS, Math.floor(n / ORDER_PARTITIONS))));
    let joined = 0;
    for (let p = 0; p < ORDER_PARTITIONS; p++) {
      for (let i = 0; i < CUSTOMERS; i++) {
        const expected = i === CUSTOMERS - 1 ? `c${i}=none` : `c${i}=name${i}-v1`;
        if ((await output.valueOf(`first-${p}-${i}`)) === expected) joined++;
      }
    }
    check(joined === ORDER_PARTITIONS * CUSTOMERS, 'both instances join every customer of all three global partitions, and the deleted one with null');
    check(apps.every((app) => app.metrics().recordsIn === CUSTOMERS), 'each instance processed the orders of its partition only');

    // Updates while running reach both instances: probe each order partition until they show.
    await setCustomer(0, 'name0-v2');
    await setCustomer(1, null);
    for (let p = 0; p < ORDER_PARTITIONS; p++) {
      let probes = 0;
      let updated = false;
      while (!updated && probes < MAX_PROBES) {
        await sendOrder(`probe-${p}-${probes}-c0`, p, 0);
        await sendOrder(`probe-${p}-${probes}-c1`, p, 1);
        const c0 = await output.valueOf(`probe-${p}-${probes}-c0`);
        const c1 = await output.valueOf(`probe-${p}-${probes}-c1`);
        updated = c0 === 'c0=name0-v2' && c1 === 'c1=none';
        probes++;
      }
      check(updated, `global updates and deletes made while running reach the instance processing order partition ${p}`);
    }
    await Promise.all(apps.map((app) => app.close()));
    check(apps.every((app) => app.state === AppState.notRunning), 'both instances closed cleanly');

    // While the application is down: the records it read are deleted from the topic (so only the
    // instance's snapshot still has them), the table changes, and orders wait.
    const ends = await admin.topicOffsets(customersTopic, 1);
    await admin.deleteRecords(ends.map((e) => ({ topic: customersTopic, partition: e.partition, offset: e.latest })));
    check((await admin.topicOffsets(customersTopic, 1)).every((o) => o.earliest === o.latest && o.latest > 0), 'the global topic holds no records while the application is down');
    await setCustomer(2, 'name2-v3');
    await setCustomer(3, null);
    await producer.sendBatch(Array.from({ length: ORDER_PARTITIONS }, (_, p) => p).flatMap((p) => [0, 2, 3].map((i) => order(`after-${p}-${i}`, p, i))));
    const restarted = newApp('a');
    const states: AppStateValue[] = [];
    restarted.onStateChange((now) => states.push(now));
    await restarted.start();
    const afterRestart: string[] = [];
    for (let p = 0; p < ORDER_PARTITIONS; p++) for (const i of [0, 2, 3]) afterRestart.push(await output.valueOf(`after-${p}-${i}`));
    check(
      afterRestart.join() === ['c0=name0-v2', 'c2=name2-v3', 'c3=none', 'c0=name0-v2', 'c2=name2-v3', 'c3=none'].join(),
      'a restarted instance restores the table from its snapshot and the topic after it (changes made while down included) before it processes waiting orders',
    );
    await restarted.close();
    check(states[0] === AppState.rebalancing && states.includes(AppState.running) && states.at(-1) === AppState.notRunning, 'REBALANCING while restoring, then RUNNING, then NOT_RUNNING');
    const topics = await admin.listTopics();
    check(!topics.some((t) => t.startsWith(applicationId) && t.endsWith('-changelog')), 'no changelog topic for the global table: its topic is its changelog');
  } finally {
    await output.close();
    await producer.close();
  }
  return passed;
}
