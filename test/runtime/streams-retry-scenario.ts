import { Admin, Consumer, Producer, stringSerde, type Transport } from '../../sdk/mod.ts';
import { AppState, DeadLetterHeader, RetryHeader, StreamsApp, StreamsBuilder } from '../../streams/mod.ts';
import { readCommittedTopic } from '../helpers/read-committed-topic.ts';

const decoder = new TextDecoder();

/** Resolves once `count` committed records of `topic` were read from its beginning. */
async function waitForRecords(transport: Transport, topic: string, count: number): Promise<void> {
  const [info] = await new Admin(transport).describeTopics([topic]);
  const consumer = new Consumer(transport, { autoOffsetReset: 'earliest', maxWaitMs: 100 });
  consumer.assign(info!.partitions.map((p) => ({ topic, partition: p.partition })));
  let seen = 0;
  try {
    for await (const batch of consumer.batches()) {
      seen += batch.records.length;
      if (seen >= count) return;
    }
  } finally {
    await consumer.close();
  }
}

function check(passed: string[], name: string, ok: boolean, detail: unknown): void {
  if (!ok) throw new Error(`${name}: ${JSON.stringify(detail)}`);
  passed.push(name);
}

/**
 * A stage with a retry ladder of two tiers on a real broker: v3 recovers in tier 1, v6 in tier 2,
 * v9 fails in every tier and is dead-lettered, the rest pass at once. Returns the checks passed;
 * throws on the first that fails.
 */
export async function runStreamsRetryScenario(transport: Transport, stateDir: string): Promise<string[]> {
  const admin = new Admin(transport);
  await admin.createTopics([{ name: 'pay-in', numPartitions: 2 }, { name: 'pay-out', numPartitions: 2 }]);
  const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde });
  await producer.sendBatch(Array.from({ length: 10 }, (_, i) => ({ topic: 'pay-in', key: `k${i}`, value: `v${i}` })));
  await producer.close();
  const failures: Record<string, number> = { v3: 1, v6: 2, v9: 3 };
  const calls = new Map<string, number>();
  const builder = new StreamsBuilder();
  builder
    .stream('pay-in', { key: stringSerde, value: stringSerde })
    .mapValues(
      async (value) => {
        const call = (calls.get(value) ?? 0) + 1;
        calls.set(value, call);
        if (call <= (failures[value] ?? 0)) throw new Error(`paying ${value} failed`);
        return `paid-${value}`;
      },
      { name: 'pay', value: stringSerde, retry: { delaysMs: [50, 100] } },
    )
    .to('pay-out');
  const app = new StreamsApp(builder.build(), { applicationId: 'pay-app', transport, stateDir, commitIntervalMs: 50 });
  const passed: string[] = [];
  try {
    await app.start();
    await app.waitFor(AppState.running);
    await waitForRecords(transport, 'pay-out', 9);
    await waitForRecords(transport, 'pay-app-dlq', 1);
  } finally {
    await app.close();
  }
  const out = (await readCommittedTopic(transport, 'pay-out')).map((r) => decoder.decode(r.value!)).sort();
  const expected = Array.from({ length: 9 }, (_, i) => `paid-v${i}`).sort();
  check(passed, 'recovered records reach the output once', JSON.stringify(out) === JSON.stringify(expected), out);
  const tiers = await Promise.all([1, 2].map(async (n) => (await readCommittedTopic(transport, `pay-app-pay-retry-${n}`)).map((r) => decoder.decode(r.value!)).sort()));
  check(passed, 'failed records moved through the tiers', JSON.stringify(tiers) === JSON.stringify([['v3', 'v6', 'v9'], ['v6', 'v9']]), tiers);
  const dead = await readCommittedTopic(transport, 'pay-app-dlq');
  const headers = dead.map((r) => Object.fromEntries(r.headers.map((h) => [h.key, h.value === null ? '' : decoder.decode(h.value)])));
  check(
    passed,
    'the last failure is dead-lettered with why, where and how many times',
    dead.length === 1 && decoder.decode(dead[0]!.value!) === 'v9' && headers[0]![RetryHeader.attempts] === '3' && headers[0]![DeadLetterHeader.errorKind] === 'retries-exhausted' && headers[0]![DeadLetterHeader.topic] === 'pay-in',
    headers,
  );
  return passed;
}
