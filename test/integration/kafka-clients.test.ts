import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrokerProcess, startBrokerProcess } from '../helpers/broker-process.ts';
import { ManagedProcess, repoRoot } from '../helpers/child-process.ts';

let broker: BrokerProcess;
let kafka: Kafka;

beforeAll(async () => {
  broker = await startBrokerProcess();
  kafka = new Kafka({ clientId: 'clients-test', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
});

afterAll(async () => {
  await broker.dispose();
});

/** Numbered records keyed so each partition receives a known, ordered subsequence. */
async function produceNumbered(topic: string, partitions: number, count: number): Promise<string[][]> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }] });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  const expected: string[][] = Array.from({ length: partitions }, () => []);
  for (let i = 0; i < count; i += 100) {
    const messages = Array.from({ length: 100 }, (_, j) => ({ partition: (i + j) % partitions, value: `n-${i + j}` }));
    await producer.send({ topic, acks: -1, messages });
    for (const m of messages) expected[m.partition]!.push(m.value);
  }
  await producer.disconnect();
  return expected;
}

async function consumeAll(topic: string, groupId: string, count: number, fromBeginning: boolean): Promise<string[][]> {
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning });
  const got: string[][] = [];
  let read = 0;
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ partition, message }) => {
        (got[partition] ??= []).push(message.value!.toString());
        if (++read === count) resolve();
      },
    });
  });
  await consumer.disconnect();
  return got;
}

describe('Kafka clients against the broker process', () => {
  it('kafkajs creates a topic, produces with acks=all and consumes every record in order across partitions', async () => {
    const expected = await produceNumbered('ordered', 4, 2000);
    const got = await consumeAll('ordered', 'ordered-readers', 2000, true);
    expect(got).toEqual(expected);
  });

  it('kafkajs applies its reset policy when its committed offset is out of range', async () => {
    const expected = await produceNumbered('reset', 2, 400);
    const admin = kafka.admin();
    await admin.connect();
    await admin.setOffsets({ groupId: 'resetters', topic: 'reset', partitions: [{ partition: 0, offset: '5000' }, { partition: 1, offset: '5000' }] });
    await admin.disconnect();
    // The committed offsets are past the end: the fetch gets OFFSET_OUT_OF_RANGE and kafkajs resets to earliest.
    const got = await consumeAll('reset', 'resetters', 400, true);
    expect(got).toEqual(expected);
  });

  it.each(['Bun', 'Deno'] as const)('@platformatic/kafka under %s consumes a multi-partition topic in a group', async (runtime) => {
    const topic = `pf-consume-${runtime.toLowerCase()}`;
    const expected = await produceNumbered(topic, 3, 300);
    const script = 'test/integration/platformatic/consumer-smoke.ts';
    const args = [broker.bootstrap, topic, `pf-group-${runtime}`, '300'];
    const proc =
      runtime === 'Bun'
        ? new ManagedProcess(`${repoRoot}/node_modules/.bin/bun`, [script, ...args])
        : new ManagedProcess(`${repoRoot}/node_modules/.bin/deno`, ['run', '--allow-all', '--no-lock', script, ...args]);
    const exit = await proc.exit();
    expect(exit.code, exit.stderr).toBe(0);
    const report = JSON.parse(exit.stdout.trim().split('\n').at(-1)!) as { byPartition: Record<string, string[]> };
    expect([0, 1, 2].map((p) => report.byPartition[p])).toEqual(expected);
    // @platformatic/kafka opens a fetch session (KIP-227) when the broker offers one; kafkajs never does.
    const metrics = await (await fetch(`${broker.httpUrl}/metrics`)).text();
    expect(Number(/^rill_fetch_sessions (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
  });
});
