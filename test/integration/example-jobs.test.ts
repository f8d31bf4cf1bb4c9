import { afterEach, describe, expect, it } from 'vitest';
import { jsonSerde, longSerde, stringSerde } from '../../sdk/mod.ts';
import { DeadLetterHeader, deadLetterTopic, jobTestDriver, type TopologyTestDriver } from '../../streams/mod.ts';
import clickSessions, { type Session } from '../../examples/jobs/click-sessions.ts';
import fraudRule, { type Alert, type Payment } from '../../examples/jobs/fraud-rule.ts';
import orderEnrichment, { type Customer, type EnrichedOrder, type Order } from '../../examples/jobs/order-enrichment.ts';
import windowedMetrics, { type MinuteSummary } from '../../examples/jobs/windowed-metrics.ts';
import wordCount from '../../examples/jobs/word-count.ts';
import { ManagedProcess, runtimeCommand, runtimes } from '../helpers/child-process.ts';

const drivers: TopologyTestDriver[] = [];
afterEach(() => {
  for (const driver of drivers.splice(0)) driver.close();
});

async function driverFor(job: Parameters<typeof jobTestDriver>[0]): Promise<TopologyTestDriver> {
  const driver = await jobTestDriver(job);
  drivers.push(driver);
  return driver;
}

const decoder = new TextDecoder();
function header(headers: readonly { key: string; value: Uint8Array | null }[], key: string): string | undefined {
  const found = headers.find((h) => h.key === key);
  return found?.value === null || found === undefined ? undefined : decoder.decode(found.value);
}

/** The examples' logic through the test driver (the runtime's own tasks, operators and stores), asserting their outputs. */
describe('example jobs', () => {
  it('word count: the latest update of each word is its count', async () => {
    const driver = await driverFor(wordCount);
    const lines = driver.inputTopic('lines', { key: stringSerde, value: stringSerde });
    await lines.pipeAll([
      ['1', 'To be, or not to be'],
      ['2', "that is the question: whether 'tis nobler"],
    ]);
    const counts = Object.fromEntries(driver.outputTopic('word-counts', { key: stringSerde, value: longSerde }).readKeyValues());
    expect(counts).toEqual({ to: 2, be: 2, or: 1, not: 1, that: 1, is: 1, the: 1, question: 1, whether: 1, "'tis": 1, nobler: 1 });
  });

  it('order enrichment: orders joined with their customer and priced by the async lookup; an unknown sku is dead-lettered', async () => {
    const driver = await driverFor(orderEnrichment);
    const customers = driver.inputTopic('customers', { key: stringSerde, value: jsonSerde<Customer>() });
    const orders = driver.inputTopic('orders', { key: stringSerde, value: jsonSerde<Order>() });
    await customers.pipe('c1', { name: 'Ada', tier: 'gold' });
    await customers.pipe('c2', { name: 'Bo', tier: 'silver' });
    await orders.pipe('c1', { orderId: 'o1', sku: 'sku-apple', quantity: 3 });
    await orders.pipe('c2', { orderId: 'o2', sku: 'sku-melon', quantity: 2 });
    await orders.pipe('c3', { orderId: 'o3', sku: 'sku-pear', quantity: 1 });
    await orders.pipe('c1', { orderId: 'o4', sku: 'sku-kiwi', quantity: 1 });
    await customers.pipe('c1', { name: 'Ada', tier: 'bronze' });
    await orders.pipe('c1', { orderId: 'o5', sku: 'sku-apple', quantity: 1 });

    expect(driver.outputTopic('orders-enriched', { key: stringSerde, value: jsonSerde<EnrichedOrder>() }).readKeyValues()).toEqual([
      ['c1', { orderId: 'o1', sku: 'sku-apple', quantity: 3, customer: { name: 'Ada', tier: 'gold' }, unitPriceCents: 120, totalCents: 324 }],
      ['c2', { orderId: 'o2', sku: 'sku-melon', quantity: 2, customer: { name: 'Bo', tier: 'silver' }, unitPriceCents: 450, totalCents: 900 }],
      ['c3', { orderId: 'o3', sku: 'sku-pear', quantity: 1, customer: null, unitPriceCents: 95, totalCents: 95 }],
      ['c1', { orderId: 'o5', sku: 'sku-apple', quantity: 1, customer: { name: 'Ada', tier: 'bronze' }, unitPriceCents: 120, totalCents: 120 }],
    ]);
    const [dead, ...more] = driver.outputTopic(deadLetterTopic('order-enrichment'), { key: stringSerde, value: jsonSerde<Order>() }).readRecords();
    expect(more).toEqual([]);
    expect(dead!.key).toBe('c1');
    expect(dead!.value).toEqual({ orderId: 'o4', sku: 'sku-kiwi', quantity: 1 });
    expect(header(dead!.headers, DeadLetterHeader.error)).toBe('unknown sku sku-kiwi');
    expect(header(dead!.headers, DeadLetterHeader.errorKind)).toBe('processing');
    expect(driver.metrics().recordsDeadLettered).toBe(1);
  });

  it('windowed metrics: one summary per host and minute once the minute and its grace passed; later measurements dropped', async () => {
    const driver = await driverFor(windowedMetrics);
    const latencies = driver.inputTopic('latencies', { key: stringSerde, value: jsonSerde<number>() });
    const out = driver.outputTopic('latency-per-minute', { key: stringSerde, value: jsonSerde<MinuteSummary>() });
    await latencies.pipe('h1', 100, { timestamp: 1_000 });
    await latencies.pipe('h1', 300, { timestamp: 20_000 });
    await latencies.pipe('h2', 50, { timestamp: 30_000 });
    await latencies.pipe('h1', 200, { timestamp: 65_000 });
    // Late by 6 s, within the 10 s grace: still counted in the first minute.
    await latencies.pipe('h1', 400, { timestamp: 59_000 });
    expect(out.readKeyValues()).toEqual([]);
    await latencies.pipe('h2', 10, { timestamp: 70_000 });
    expect(out.readKeyValues().sort(([a], [b]) => a.localeCompare(b))).toEqual([
      ['h1', { count: 3, sumMs: 800, maxMs: 400, windowStartMs: 0, meanMs: 800 / 3 }],
      ['h2', { count: 1, sumMs: 50, maxMs: 50, windowStartMs: 0, meanMs: 50 }],
    ]);
    await latencies.pipe('h1', 999, { timestamp: 5_000 });
    await latencies.pipe('h3', 1, { timestamp: 130_000 });
    expect(out.readKeyValues().sort(([a], [b]) => a.localeCompare(b))).toEqual([
      ['h1', { count: 1, sumMs: 200, maxMs: 200, windowStartMs: 60_000, meanMs: 200 }],
      ['h2', { count: 1, sumMs: 10, maxMs: 10, windowStartMs: 60_000, meanMs: 10 }],
    ]);
    expect(driver.metrics().tasks.reduce((sum, t) => sum + t.lateRecordsDropped, 0)).toBe(1);
  });

  it('click sessions: each session once, when over; a click between two sessions merges them', async () => {
    const driver = await driverFor(clickSessions);
    const clicks = driver.inputTopic('clicks', { key: stringSerde, value: stringSerde });
    const out = driver.outputTopic('sessions', { key: stringSerde, value: jsonSerde<Session>() });
    const minute = 60_000;
    await clicks.pipe('u1', '/home', { timestamp: 0 });
    await clicks.pipe('u1', '/shop', { timestamp: 10 * minute });
    await clicks.pipe('u2', '/home', { timestamp: 5 * minute });
    await clicks.pipe('u1', '/home', { timestamp: 20 * minute });
    expect(out.readKeyValues()).toEqual([]);
    await clicks.pipe('u1', '/cart', { timestamp: 120 * minute });
    expect(out.readKeyValues().sort(([a], [b]) => a.localeCompare(b))).toEqual([
      ['u1', { startMs: 0, endMs: 20 * minute, clicks: 3, pages: ['/home', '/shop'] }],
      ['u2', { startMs: 5 * minute, endMs: 5 * minute, clicks: 1, pages: ['/home'] }],
    ]);
    await clicks.pipe('u3', '/a', { timestamp: 180 * minute });
    // 35 minutes apart: two sessions, until /c falls between them.
    await clicks.pipe('u3', '/b', { timestamp: 215 * minute });
    await clicks.pipe('u3', '/c', { timestamp: 200 * minute });
    await clicks.pipe('u9', '/x', { timestamp: 400 * minute });
    expect(out.readKeyValues().sort(([a], [b]) => a.localeCompare(b))).toEqual([
      ['u1', { startMs: 120 * minute, endMs: 120 * minute, clicks: 1, pages: ['/cart'] }],
      ['u3', { startMs: 180 * minute, endMs: 215 * minute, clicks: 3, pages: ['/a', '/b', '/c'] }],
    ]);
  });

  it('fraud rule: alerts for a payment over the limit and for a fourth payment in a minute; malformed payments dead-lettered', async () => {
    const driver = await driverFor(fraudRule);
    const payments = driver.inputTopic('payments', { key: stringSerde, value: jsonSerde<Payment>() });
    const raw = driver.inputTopic('payments', { key: stringSerde, value: stringSerde });
    await payments.pipe('card-1', { paymentId: 'p1', amountCents: 700_000, merchant: 'jeweller' }, { timestamp: 1_000 });
    for (let i = 2; i <= 5; i++) await payments.pipe('card-2', { paymentId: `p${i}`, amountCents: 250, merchant: 'cafe' }, { timestamp: i * 1_000 });
    await payments.pipe('card-2', { paymentId: 'p6', amountCents: 250, merchant: 'cafe' }, { timestamp: 61_000 });
    await raw.pipe('card-3', 'not json at all', { timestamp: 7_000 });
    await payments.pipe('card-3', { paymentId: 'p7', amountCents: -5, merchant: 'refund?' }, { timestamp: 8_000 });

    expect(driver.outputTopic('fraud-alerts', { key: stringSerde, value: jsonSerde<Alert>() }).readKeyValues()).toEqual([
      ['card-1', { rule: 'over-limit', paymentId: 'p1', amountCents: 700_000 }],
      ['card-2', { rule: 'velocity', windowStartMs: 0, payments: 4 }],
    ]);
    const dead = driver.outputTopic(deadLetterTopic('fraud-rule'), { key: stringSerde, value: stringSerde }).readRecords();
    expect(dead.map((r) => [r.key, r.value, header(r.headers, DeadLetterHeader.errorKind), header(r.headers, DeadLetterHeader.topic)])).toEqual([
      ['card-3', 'not json at all', 'deserialization', 'payments'],
      ['card-3', '{"paymentId":"p7","amountCents":-5,"merchant":"refund?"}', 'processing', 'payments'],
    ]);
    expect(header(dead[1]!.headers, DeadLetterHeader.error)).toBe('payment p7 has no positive amountCents');
    expect(driver.metrics().recordsDeadLettered).toBe(2);
  });
});

const EXAMPLES = ['word-count', 'order-enrichment', 'windowed-metrics', 'click-sessions', 'fraud-rule'] as const;

/** Each example loads as a job module under `rill run` on each runtime (Node from dist/). */
describe.each(runtimes)('example jobs under rill run --describe on %s', (runtime) => {
  const processes: ManagedProcess[] = [];
  afterEach(async () => {
    await Promise.all(processes.splice(0).map((p) => p.stop('SIGKILL')));
  });

  it('loads each and prints its topology', async () => {
    const exits = await Promise.all(
      EXAMPLES.map((name) => {
        const module = runtime === 'node' ? `dist/examples/jobs/${name}.js` : `examples/jobs/${name}.ts`;
        const [command, args] = runtimeCommand(runtime, 'broker/cli/main.ts', ['run', module, '--describe']);
        const proc = new ManagedProcess(command, args);
        processes.push(proc);
        return proc.exit();
      }),
    );
    for (const exit of exits) {
      expect(exit.code, exit.stderr).toBe(0);
      expect(exit.stdout).toMatch(/^Topologies:\n/);
    }
    expect(exits[1]!.stdout).toContain('sub-topology 0: [customers, orders]');
    expect(exits[2]!.stdout).toContain('latency-finals-store (');
    expect(exits[3]!.stdout).toContain('click-visits (session');
    expect(exits[4]!.stdout).toContain('payments-per-minute (');
  });
});
