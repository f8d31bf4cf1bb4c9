import { Admin } from '../../sdk/client/admin/admin.ts';
import { Consumer } from '../../sdk/client/consumer/consumer.ts';
import { Producer } from '../../sdk/client/producer/producer.ts';
import { longSerde, stringSerde } from '../../sdk/serde/basic-serdes.ts';
import type { Serde } from '../../sdk/serde/serde.ts';
import type { Transport } from '../../sdk/transport/transport.ts';
import {
  BufferConfig,
  JoinWindows,
  SessionWindows,
  sessionWindowedSerde,
  SlidingWindows,
  StreamsApp,
  StreamsBuilder,
  Suppressed,
  TimeWindows,
  timeWindowedSerde,
  type Windowed,
} from '../../streams/mod.ts';

const PARTITIONS = 2;
const WAIT_MS = 30_000;
/** Far ahead of every input: one per partition closes every window, session and join window of the inputs. */
const FLUSH_MS = 100_000;

/** Orders of two customers, in timestamp order: [key, order, timestamp]. */
const ORDERS: readonly (readonly [string, string, number])[] = [
  ['c1', 'a', 1_000],
  ['c1', 'b', 1_500],
  ['c2', 'd', 2_000],
  ['c1', 'c', 12_000],
];

/**
 * The event-time features of the stream runtime in one job, the same under Node, Bun and Deno,
 * on a real broker: per-customer tumbling counts suppressed until their windows close, session
 * counts, sliding counts, an order-payment left join within a window (the unmatched emitted at
 * window close) and an order-customer table join, all from one input read once. The expected
 * outputs are computed by hand. Returns the names of the checks that passed.
 */
export async function runStreamsTimeScenario(transport: Transport, stateDir: string, prefix: string): Promise<string[]> {
  const topic = (name: string) => `${prefix}time-${name}`;
  const admin = new Admin(transport);
  await admin.createTopics(['orders', 'payments', 'customers', 'finals', 'sessions', 'sliding', 'paid', 'enriched'].map((name) => ({ name: topic(name), numPartitions: PARTITIONS })));
  const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde });
  // Table rows and the payment come first in timestamp order, so every order sees them.
  await producer.sendBatch([
    { topic: topic('customers'), key: 'c1', value: 'gold', timestamp: 0 },
    { topic: topic('customers'), key: 'c2', value: 'silver', timestamp: 0 },
    { topic: topic('payments'), key: 'c1', value: 'p1', timestamp: 1_200 },
    ...ORDERS.map(([key, value, timestamp]) => ({ topic: topic('orders'), key, value, timestamp })),
  ]);
  for (let partition = 0; partition < PARTITIONS; partition++) {
    for (const name of ['orders', 'payments']) await producer.send({ topic: topic(name), partition, key: 'flush', value: 'flush', timestamp: FLUSH_MS });
  }
  await producer.close();

  const builder = new StreamsBuilder();
  const orders = builder.stream(topic('orders'), { key: stringSerde, value: stringSerde });
  const grouped = orders.groupByKey();
  grouped
    .windowedBy(TimeWindows.ofSizeWithNoGrace(10_000))
    .count({ name: 'tumbling' })
    .suppress(Suppressed.untilWindowCloses(BufferConfig.unbounded()))
    .toStream()
    .to(topic('finals'), { key: timeWindowedSerde(stringSerde, 10_000), value: longSerde });
  grouped.windowedBy(SessionWindows.ofInactivityGapWithNoGrace(5_000)).count({ name: 'session' }).toStream().to(topic('sessions'), { key: sessionWindowedSerde(stringSerde), value: longSerde });
  grouped.windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(1_000, 0)).count({ name: 'sliding' }).toStream().to(topic('sliding'), { key: timeWindowedSerde(stringSerde, 1_000), value: longSerde });
  const payments = builder.stream(topic('payments'), { key: stringSerde, value: stringSerde });
  orders
    .leftJoin(payments, (order, payment) => `${order}+${payment ?? 'none'}`, JoinWindows.ofTimeDifferenceWithNoGrace(1_000))
    .to(topic('paid'), { value: stringSerde });
  const customers = builder.table(topic('customers'), { key: stringSerde, value: stringSerde });
  orders.join(customers, (order, tier) => `${order}/${tier}`).to(topic('enriched'), { value: stringSerde });

  const app = new StreamsApp(builder.build(), { applicationId: `${prefix}time-app`, transport, stateDir, commitIntervalMs: 50 });
  await app.start();
  const passed: string[] = [];
  try {
    const windowText = (w: Windowed<string>) => `${w.key}@${w.window.startMs}-${w.window.endMs}`;
    // Tumbling 10 s, no grace, suppressed: one final count per window, nothing else.
    const finals = await latest(transport, topic('finals'), timeWindowedSerde(stringSerde, 10_000), longSerde, windowText, 3);
    expect('suppressed tumbling counts', finals.all, ['c1@0-10000=2', 'c1@10000-20000=1', 'c2@0-10000=1']);
    passed.push('suppressed tumbling counts');
    // Sessions with a 5 s gap: c1's 1000 and 1500 in one session, 12000 alone.
    const sessions = await latest(transport, topic('sessions'), sessionWindowedSerde(stringSerde), longSerde, windowText, 3);
    expect('session counts', sessions.last, ['c1@1000-1500=2', 'c1@12000-12000=1', 'c2@2000-2000=1']);
    passed.push('session counts');
    // Sliding windows of 1 s: [0,1000] and [500,1500] for c1's first two, right window [1001,2001] holds 1500 alone.
    const sliding = await latest(transport, topic('sliding'), timeWindowedSerde(stringSerde, 1_000), longSerde, windowText, 5);
    expect('sliding counts', sliding.last, ['c1@0-1000=1', 'c1@1001-2001=1', 'c1@11000-12000=1', 'c1@500-1500=2', 'c2@1000-2000=1']);
    passed.push('sliding counts');
    // Orders within 1 s of the payment joined; the others emitted once their windows closed.
    const paid = await latest(transport, topic('paid'), stringSerde, stringSerde, (customer) => customer, 4, 'records');
    expect('stream-stream left join', paid.all, ['c1=a+p1', 'c1=b+p1', 'c1=c+none', 'c2=d+none']);
    passed.push('stream-stream left join');
    const enriched = await latest(transport, topic('enriched'), stringSerde, stringSerde, (customer) => customer, 4, 'records');
    expect('stream-table join', enriched.all, ['c1=a/gold', 'c1=b/gold', 'c1=c/gold', 'c2=d/silver']);
    passed.push('stream-table join');
  } finally {
    await app.close();
  }
  return passed;
}

function expect(what: string, actual: readonly string[], expected: readonly string[]): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

/**
 * Reads `topic` (read_committed) until it holds `count` keys (`by: 'keys'`, as `text` renders them)
 * or records other than the flush records', then returns every record (`key=value`, sorted) and
 * the last value per key (sorted).
 */
async function latest<K, V>(transport: Transport, topic: string, keySerde: Serde<K>, valueSerde: Serde<V>, text: (key: K) => string, count: number, by: 'keys' | 'records' = 'keys'): Promise<{ all: string[]; last: string[] }> {
  const consumer = new Consumer(transport, { keySerde, valueSerde, autoOffsetReset: 'earliest', maxWaitMs: 50 });
  consumer.assign(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition })));
  const all: string[] = [];
  const last = new Map<string, string>();
  const deadline = setTimeout(() => void consumer.close(), WAIT_MS);
  try {
    for await (const batch of consumer.batches({ includeEmpty: true })) {
      for (const record of batch.records) {
        const key = text(record.key!);
        if (key.startsWith('flush')) continue;
        all.push(`${key}=${String(record.value)}`);
        if (record.value === null) last.delete(key);
        else last.set(key, `${key}=${String(record.value)}`);
      }
      if ((by === 'keys' ? last.size : all.length) >= count) break;
    }
  } finally {
    clearTimeout(deadline);
    await consumer.close();
  }
  if ((by === 'keys' ? last.size : all.length) < count) throw new Error(`${topic}: fewer than ${count} ${by} after ${WAIT_MS} ms: ${JSON.stringify(all)}`);
  return { all: all.sort(), last: [...last.values()].sort() };
}
