import { describe, expect, it } from 'vitest';
import { Admin, Consumer, type ConsumerRecord, Producer, stringSerde, type Transport } from '../../../sdk/mod.ts';
import type { RecordHeader } from '../../../sdk/record/record.ts';
import { AppState, DeadLetterHeader, resetApplication, RetryHeader, StreamsApp, StreamsBuilder } from '../../../streams/mod.ts';
import { readCommittedTopic } from '../../helpers/read-committed-topic.ts';
import { embeddedSetup, setupHooks } from '../../helpers/streams-setups.ts';

const decoder = new TextDecoder();
const serdes = { key: stringSerde, value: stringSerde };

function headerMap(headers: readonly RecordHeader[]): Record<string, string> {
  return Object.fromEntries(headers.map((h) => [h.key, h.value === null ? '' : decoder.decode(h.value)]));
}

const valueOf = (r: ConsumerRecord<Uint8Array, Uint8Array>): string => decoder.decode(r.value!);

/** Resolves once `count` committed records of `topic` were read (from its beginning). */
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

/** A step failing the first `failures(value)` calls per value, noting when each call started. */
function flakyStep(failures: (value: string) => number): { calls: Map<string, number[]>; step: (value: string) => Promise<string> } {
  const calls = new Map<string, number[]>();
  return {
    calls,
    step: async (value) => {
      const times = calls.get(value) ?? [];
      times.push(Date.now());
      calls.set(value, times);
      await Promise.resolve();
      if (times.length <= failures(value)) throw new Error(`call ${times.length} of ${value} failed`);
      return `done-${value}`;
    },
  };
}

describe.each([embeddedSetup()])('retry ladder in a stream job over $name', (setup) => {
  const { openSetup, cleanup } = setupHooks(setup);

  it('moves failed records through the tiers after their delays, outputs recovered ones once and dead-letters the rest, all exactly once', async () => {
    const { transport, stateDir } = await openSetup();
    const admin = new Admin(transport);
    await admin.createTopics([{ name: 'orders', numPartitions: 2 }, { name: 'enriched', numPartitions: 2 }]);
    const failuresOf = (v: string): number => (v.startsWith('once') ? 1 : v.startsWith('twice') ? 2 : v.startsWith('never') ? 99 : 0);
    const values = [...Array.from({ length: 30 }, (_, i) => `ok-${i}`), ...['once', 'twice'].flatMap((p) => Array.from({ length: 4 }, (_, i) => `${p}-${i}`)), 'never-0', 'never-1'];
    const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde });
    await producer.sendBatch(values.map((value, i) => ({ topic: 'orders', key: `k${i % 5}`, value })));
    await producer.close();

    const { calls, step } = flakyStep(failuresOf);
    const builder = new StreamsBuilder();
    builder.stream('orders', serdes).mapValues(step, { name: 'enrich', value: stringSerde, retry: { delaysMs: [200, 400] } }).to('enriched');
    const app = new StreamsApp(builder.build(), { applicationId: 'retry-app', transport, stateDir, commitIntervalMs: 50 });
    cleanup.push(() => app.close());
    await app.start();
    await app.waitFor(AppState.running);
    await waitForRecords(transport, 'enriched', values.length - 2);
    await waitForRecords(transport, 'retry-app-dlq', 2);
    await app.close();

    const enriched = (await readCommittedTopic(transport, 'enriched')).map(valueOf).sort();
    expect(enriched).toEqual(values.filter((v) => !v.startsWith('never')).map((v) => `done-${v}`).sort());
    const tier1 = await readCommittedTopic(transport, 'retry-app-enrich-retry-1');
    const tier2 = await readCommittedTopic(transport, 'retry-app-enrich-retry-2');
    expect(tier1.map(valueOf).sort()).toEqual(values.filter((v) => failuresOf(v) >= 1).sort());
    expect(tier2.map(valueOf).sort()).toEqual(values.filter((v) => failuresOf(v) >= 2).sort());
    // Each tier record waits in the partition of its task, and a retry runs no earlier than its tier's delay after the failure.
    for (const [tier, records, delayMs] of [[1, tier1, 200], [2, tier2, 400]] as const) {
      for (const record of records) {
        const headers = headerMap(record.headers);
        expect(headers[RetryHeader.attempts]).toBe(String(tier));
        expect(headers[DeadLetterHeader.task]).toBe(`0_${record.partition}`);
        const retriedAtMs = calls.get(valueOf(record))![tier]!;
        expect(retriedAtMs).toBeGreaterThanOrEqual(Number(headers[RetryHeader.failedAtMs]) + delayMs);
      }
    }
    const dead = await readCommittedTopic(transport, 'retry-app-dlq');
    expect(dead.map(valueOf).sort()).toEqual(['never-0', 'never-1']);
    for (const record of dead) {
      const headers = headerMap(record.headers);
      expect(headers).toMatchObject({
        [DeadLetterHeader.errorKind]: 'retries-exhausted',
        [DeadLetterHeader.error]: `call 3 of ${valueOf(record)} failed`,
        [DeadLetterHeader.topic]: 'orders',
        [RetryHeader.attempts]: '3',
        [RetryHeader.stage]: 'enrich',
      });
      expect(Number(headers[DeadLetterHeader.offset])).toBeGreaterThanOrEqual(0);
    }
    expect(calls.get('never-0')).toHaveLength(3);
    expect(calls.get('ok-0')).toHaveLength(1);
    const lag = await admin.groupLag('retry-app', ['orders']);
    expect(lag.reduce((sum, p) => sum + p.lag, 0)).toBe(0);
    // Every tier record was taken: the committed offsets are past each partition's last record (a commit marker may follow it).
    const committed = await admin.groupLag('retry-app', ['retry-app-enrich-retry-1', 'retry-app-enrich-retry-2']);
    for (const record of [...tier1, ...tier2]) {
      expect(committed.find((c) => c.topic === record.topic && c.partition === record.partition)!.committedOffset).toBeGreaterThan(record.offset);
    }
  });

  it("holds a tier's partition without holding back the input, keeps its records through a restart, and reads the delay from the running topology", async () => {
    const { transport, stateDir } = await openSetup();
    const admin = new Admin(transport);
    await admin.createTopics([{ name: 'jobs', numPartitions: 1 }, { name: 'jobs-done', numPartitions: 1 }]);
    const { calls, step } = flakyStep((v) => (v === 'slow' ? 1 : 0));
    const topology = (delayMs: number) => {
      const builder = new StreamsBuilder();
      builder.stream('jobs', serdes).mapValues(step, { value: stringSerde, retry: { name: 'work', delaysMs: [delayMs] } }).to('jobs-done');
      return builder.build();
    };
    const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde });
    cleanup.push(() => producer.close());
    const first = new StreamsApp(topology(600_000), { applicationId: 'hold-app', transport, stateDir, commitIntervalMs: 50 });
    cleanup.push(() => first.close());
    await first.start();
    await producer.send({ topic: 'jobs', key: 'a', value: 'slow' });
    await waitForRecords(transport, 'hold-app-work-retry-1', 1);
    await producer.send({ topic: 'jobs', key: 'a', value: 'after' });
    await waitForRecords(transport, 'jobs-done', 1);
    await first.close();
    expect((await readCommittedTopic(transport, 'jobs-done')).map(valueOf)).toEqual(['done-after']);
    expect(calls.get('slow')).toHaveLength(1);

    // The held record was never taken: the next run reads it from the committed offset, due under its delay of 0.
    const second = new StreamsApp(topology(0), { applicationId: 'hold-app', transport, stateDir, commitIntervalMs: 50 });
    cleanup.push(() => second.close());
    await second.start();
    await waitForRecords(transport, 'jobs-done', 2);
    await second.close();
    expect((await readCommittedTopic(transport, 'jobs-done')).map(valueOf)).toEqual(['done-after', 'done-slow']);
    expect(calls.get('slow')).toHaveLength(2);
    expect(calls.get('after')).toHaveLength(1);

    // A reset takes the tiers for internal topics (their waiting records belong to the run reset), not for inputs.
    const plan = await resetApplication(transport, { applicationId: 'hold-app', to: 'earliest' });
    expect(plan.inputs.map((p) => p.topic)).toEqual(['jobs']);
    expect(plan.internalTopics.map((t) => [t.topic, t.kind, t.action])).toEqual([['hold-app-work-retry-1', 'retry', 'delete']]);
    expect(await admin.listTopics()).not.toContain('hold-app-work-retry-1');
  });
});
