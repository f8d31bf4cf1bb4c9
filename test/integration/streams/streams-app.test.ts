import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Admin, Consumer, longSerde, Producer, stringSerde, type Transport } from '../../../sdk/mod.ts';
import { Effect } from 'effect';
import { murmur2Partitioner } from '../../../sdk/client/producer/partitioner.ts';
import { AppState, type KeyValueStore, type ProcessorContext, PunctuationType, StreamRecord, StreamsApp, StreamsBuilder, streamsApp, TimeWindows, timeWindowedSerde } from '../../../streams/mod.ts';
import { embeddedSetup, setupHooks, tcpSetup } from '../../helpers/streams-setups.ts';

/** Reads `count` records of `topic` (read_committed) from the beginning. */
async function readCommitted(transport: Transport, topic: string, count: number): Promise<[string, string][]> {
  const consumer = new Consumer(transport, { keySerde: stringSerde, valueSerde: stringSerde, autoOffsetReset: 'earliest' });
  const admin = new Admin(transport);
  const [info] = await admin.describeTopics([topic]);
  consumer.assign(info!.partitions.map((p) => ({ topic, partition: p.partition })));
  const out: [string, string][] = [];
  try {
    for await (const record of consumer) {
      out.push([record.key!, record.value!]);
      if (out.length >= count) break;
    }
  } finally {
    await consumer.close();
  }
  return out;
}

/** Every committed record of `topic` up to its current read_committed end. */
async function readAllCommitted(transport: Transport, topic: string): Promise<[string, string][]> {
  const admin = new Admin(transport);
  const ends = await admin.topicOffsets(topic, 1);
  const consumer = new Consumer(transport, { keySerde: stringSerde, valueSerde: stringSerde, autoOffsetReset: 'earliest' });
  const open = ends.filter((e) => e.latest > e.earliest);
  const out: [string, string][] = [];
  if (open.length === 0) return out;
  consumer.assign(open.map((e) => ({ topic, partition: e.partition })));
  const done = new Set<number>();
  try {
    for await (const batch of consumer.batches({ includeEmpty: true })) {
      for (const r of batch.records) out.push([r.key!, r.value!]);
      if ((consumer.position(batch) ?? 0) >= ends.find((e) => e.partition === batch.partition)!.latest) done.add(batch.partition);
      if (done.size === open.length) break;
    }
  } finally {
    await consumer.close();
  }
  return out;
}

describe.each([embeddedSetup(), tcpSetup()])('StreamsApp over $name', (setup) => {
  const { openSetup, cleanup } = setupHooks(setup);

  it('runs a stateless job exactly once: outputs and input offsets commit together', async () => {
    const { transport, stateDir } = await openSetup();
    const admin = new Admin(transport);
    await admin.createTopics([{ name: 'words', numPartitions: 3 }, { name: 'upper', numPartitions: 2 }]);
    const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde });
    await producer.sendBatch(Array.from({ length: 300 }, (_, i) => ({ topic: 'words', key: `k${i % 17}`, value: `word-${i}` })));

    const builder = new StreamsBuilder();
    builder
      .stream('words', { key: stringSerde, value: stringSerde })
      .filter((_k, v) => !v.endsWith('7'))
      .mapValues(async (v) => v.toUpperCase(), { value: stringSerde })
      .to('upper');
    const app = new StreamsApp(builder.build(), { applicationId: 'upper-app', transport, stateDir, commitIntervalMs: 50 });
    const states: string[] = [];
    app.onStateChange((now) => states.push(now));
    await app.start();
    await app.waitFor(AppState.running);
    const expected = 300 - 30;
    const out = await readCommitted(transport, 'upper', expected);
    expect(new Set(out.map(([, v]) => v)).size).toBe(expected);
    expect(out.every(([, v]) => v === v.toUpperCase())).toBe(true);
    await app.close();
    expect(states).toEqual([AppState.rebalancing, AppState.running, AppState.pendingShutdown, AppState.notRunning]);
    const lag = await admin.groupLag('upper-app', ['words']);
    expect(lag.reduce((sum, p) => sum + p.lag, 0)).toBe(0);
    expect(app.metrics().recordsIn).toBe(300);
    await producer.close();
  });

  it('spreads tasks over two instances, and hands them all to one when the other closes, each record once', async () => {
    const { transport, stateDir } = await openSetup();
    const admin = new Admin(transport);
    await admin.createTopics([{ name: 'in', numPartitions: 4 }, { name: 'out', numPartitions: 1 }]);
    const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde });
    const send = (from: number, count: number) => producer.sendBatch(Array.from({ length: count }, (_, i) => ({ topic: 'in', key: `k${(from + i) % 13}`, value: `v${from + i}` })));
    await send(0, 400);
    const topology = () => {
      const builder = new StreamsBuilder();
      builder.stream('in', { key: stringSerde, value: stringSerde }).to('out');
      return builder.build();
    };
    const apps = ['a', 'b'].map((n) => new StreamsApp(topology(), { applicationId: 'spread', transport, stateDir: join(stateDir, n), commitIntervalMs: 50 }));
    await apps[0]!.start();
    await apps[0]!.waitFor(AppState.running);
    await apps[1]!.start();
    await Promise.all(apps.map((a) => a.waitFor(AppState.running)));
    await send(400, 400);
    expect(new Set((await readCommitted(transport, 'out', 800)).map(([, v]) => v)).size).toBe(800);
    const tasks = apps.map((a) => a.metrics().tasks.map((t) => t.taskId));
    expect(tasks.flat().sort()).toEqual(['0_0', '0_1', '0_2', '0_3']);
    expect(tasks.map((t) => t.length)).toEqual([2, 2]);
    await apps[1]!.close();
    await apps[0]!.waitFor(AppState.running);
    await send(800, 400);
    const out = await readCommitted(transport, 'out', 1200);
    expect(new Set(out.map(([, v]) => v)).size).toBe(1200);
    await apps[0]!.close();
    expect(out).toHaveLength(1200);
    await producer.close();
  });

  it('runs as a scoped Effect: started on acquire, closed with its scope', async () => {
    const { transport, stateDir } = await openSetup();
    await new Admin(transport).createTopics([{ name: 'e-in', numPartitions: 1 }, { name: 'e-out', numPartitions: 1 }]);
    const builder = new StreamsBuilder();
    builder.stream('e-in', { key: stringSerde, value: stringSerde }).mapValues((v) => Effect.succeed(`${v}!`), { value: stringSerde }).to('e-out');
    const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde });
    await producer.send({ topic: 'e-in', key: 'k', value: 'hello' });
    const app = await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const running = yield* streamsApp(builder.build(), { applicationId: 'effect-app', transport, stateDir, commitIntervalMs: 50 });
          yield* Effect.promise(() => readCommitted(transport, 'e-out', 1));
          return running;
        }),
      ),
    );
    expect(app.state).toBe(AppState.notRunning);
    expect(await readCommitted(transport, 'e-out', 1)).toEqual([['k', 'hello!']]);
    await producer.close();
  });

  it('dead-letters failing records inside the transaction, and stops with ERROR when the policy says fail (its partial output never commits)', async () => {
    const { transport, stateDir } = await openSetup();
    const admin = new Admin(transport);
    await admin.createTopics([{ name: 'f-in', numPartitions: 1 }, { name: 'f-out', numPartitions: 1 }]);
    const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde });
    await producer.sendBatch(['1', 'x', '3'].map((value, i) => ({ topic: 'f-in', key: `k${i}`, value })));
    const topology = () => {
      const builder = new StreamsBuilder();
      builder
        .stream('f-in', { key: stringSerde, value: stringSerde })
        .mapValues((v) => {
          if (Number.isNaN(Number(v))) throw new Error(`"${v}" is not a number`);
          return String(Number(v) * 10);
        }, { value: stringSerde })
        .to('f-out');
      return builder.build();
    };
    const dlqApp = new StreamsApp(topology(), { applicationId: 'dlq-app', transport, stateDir: join(stateDir, 'dlq'), commitIntervalMs: 50, failures: { processing: 'dlq' } });
    await dlqApp.start();
    expect(await readCommitted(transport, 'f-out', 2)).toEqual([['k0', '10'], ['k2', '30']]);
    const dead = await readCommitted(transport, 'dlq-app-dlq', 1);
    expect(dead).toEqual([['k1', 'x']]);
    await dlqApp.close();
    expect(dlqApp.metrics().recordsDeadLettered).toBe(1);

    const failApp = new StreamsApp(topology(), { applicationId: 'fail-app', transport, stateDir: join(stateDir, 'fail'), commitIntervalMs: 60_000 });
    await failApp.start();
    await expect(failApp.stopped).rejects.toThrow(/processing of f-in-0 at offset 1 failed .*"x" is not a number/);
    expect(failApp.state).toBe(AppState.error);
    const lag = await admin.groupLag('fail-app', ['f-in']);
    expect(lag.map((p) => p.committedOffset)).toEqual([-1]);
    expect(await readAllCommitted(transport, 'f-out')).toEqual([['k0', '10'], ['k2', '30']]);
    await producer.close();
  });

  it('runs at-least-once without transactions: outputs flushed before offsets are committed', async () => {
    const { transport, stateDir } = await openSetup();
    const admin = new Admin(transport);
    await admin.createTopics([{ name: 'a-in', numPartitions: 2 }, { name: 'a-out', numPartitions: 2 }]);
    const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde });
    await producer.sendBatch(Array.from({ length: 50 }, (_, i) => ({ topic: 'a-in', key: `k${i}`, value: `v${i}` })));
    const builder = new StreamsBuilder();
    builder.stream('a-in', { key: stringSerde, value: stringSerde }).to('a-out');
    const app = new StreamsApp(builder.build(), { applicationId: 'alos-app', transport, stateDir, commitIntervalMs: 50, guarantee: 'at_least_once' });
    await app.start();
    expect(new Set((await readCommitted(transport, 'a-out', 50)).map(([, v]) => v)).size).toBe(50);
    await app.close();
    expect((await admin.groupLag('alos-app', ['a-in'])).reduce((sum, p) => sum + p.lag, 0)).toBe(0);
    await producer.close();
  });

  it('keeps counts in a changelogged store through a restart: snapshot at close, nothing replayed, then counts on', async () => {
    const { transport, stateDir } = await openSetup();
    const admin = new Admin(transport);
    await admin.createTopics([{ name: 'clicks', numPartitions: 2 }, { name: 'click-counts', numPartitions: 2 }]);
    const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde });
    const send = (from: number, count: number) => producer.sendBatch(Array.from({ length: count }, (_, i) => ({ topic: 'clicks', key: `page-${(from + i) % 5}`, value: 'x' })));
    const topology = () => {
      const builder = new StreamsBuilder();
      builder
        .stream('clicks', { key: stringSerde, value: stringSerde })
        .groupBy((_k, _v) => 'all', { key: stringSerde, value: stringSerde })
        .count({ name: 'click-count' })
        .toStream()
        .to('click-counts', { key: stringSerde, value: longSerde });
      return builder.build();
    };
    const latest = async (expected: number): Promise<number> => {
      const consumer = new Consumer(transport, { keySerde: stringSerde, valueSerde: longSerde, autoOffsetReset: 'earliest' });
      consumer.assign([0, 1].map((partition) => ({ topic: 'click-counts', partition })));
      try {
        for await (const r of consumer) if (r.value === expected) return r.value;
      } finally {
        await consumer.close();
      }
      return -1;
    };
    await send(0, 120);
    const first = new StreamsApp(topology(), { applicationId: 'counts', transport, stateDir, commitIntervalMs: 50 });
    await first.start();
    expect(await latest(120)).toBe(120);
    await first.close();

    await send(120, 30);
    const second = new StreamsApp(topology(), { applicationId: 'counts', transport, stateDir, commitIntervalMs: 50 });
    await second.start();
    expect(await latest(150)).toBe(150);
    const restored = second.metrics().tasks.reduce((sum, t) => sum + t.restoredRecords, 0);
    await second.close();
    expect(restored).toBe(0);
    await producer.close();
  });

  it('emits per-key totals from a store on a wall-clock punctuator, committed with the inputs (read_committed)', async () => {
    const { transport, stateDir } = await openSetup();
    const admin = new Admin(transport);
    await admin.createTopics([{ name: 'p-amounts', numPartitions: 2 }, { name: 'p-totals', numPartitions: 1 }]);
    const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde });
    const keys = ['a', 'b', 'c', 'd', 'e'];
    const send = (from: number, count: number) => producer.sendBatch(Array.from({ length: count }, (_, i) => ({ topic: 'p-amounts', key: keys[(from + i) % keys.length]!, value: '1' })));
    const builder = new StreamsBuilder();
    builder.addStateStore({ name: 'p-sums', key: stringSerde, value: longSerde });
    builder
      .stream('p-amounts', { key: stringSerde, value: stringSerde })
      .process<string, string>(
        () => {
          let sums!: KeyValueStore<string, number>;
          return {
            init(context) {
              sums = context.getStateStore('p-sums');
              context.schedule(30, PunctuationType.WALL_CLOCK_TIME, (timestampMs) => {
                for (const [key, total] of sums.all()) context.forward(new StreamRecord(key, String(total), timestampMs));
              });
            },
            process(record) {
              sums.put(record.key, (sums.get(record.key) ?? 0) + Number(record.value));
            },
          };
        },
        { stores: ['p-sums'], key: stringSerde, value: stringSerde },
      )
      .to('p-totals');
    /** Reads p-totals (read_committed) from the beginning until every key's total reached `expected`; returns what it read. */
    const totalsUntil = async (expected: number): Promise<[string, string][]> => {
      const consumer = new Consumer(transport, { keySerde: stringSerde, valueSerde: stringSerde, autoOffsetReset: 'earliest' });
      consumer.assign([{ topic: 'p-totals', partition: 0 }]);
      const read: [string, string][] = [];
      const reached = new Set<string>();
      try {
        for await (const record of consumer) {
          read.push([record.key!, record.value!]);
          if (Number(record.value) === expected) reached.add(record.key!);
          if (reached.size === keys.length) break;
        }
      } finally {
        await consumer.close();
      }
      return read;
    };
    await send(0, 100);
    const app = new StreamsApp(builder.build(), { applicationId: 'punctuating', transport, stateDir, commitIntervalMs: 50 });
    await app.start();
    const first = await totalsUntil(20);
    await send(100, 50);
    const second = await totalsUntil(30);
    await app.close();
    // Totals only grow, never past what was sent: each punctuation saw a committed prefix of the
    // inputs per partition, and nothing was emitted twice from state counted twice.
    for (const key of keys) {
      const seen = second.filter(([k]) => k === key).map(([, v]) => Number(v));
      expect(seen.every((v, i) => v >= 1 && v <= 30 && (i === 0 || v >= seen[i - 1]!))).toBe(true);
    }
    expect(second.slice(0, first.length)).toEqual(first);
    expect((await admin.groupLag('punctuating', ['p-amounts'])).reduce((sum, p) => sum + p.lag, 0)).toBe(0);
    await producer.close();
  });

  it('fires a stream-time punctuator once per interval that records move stream time past', async () => {
    const { transport, stateDir } = await openSetup();
    await new Admin(transport).createTopics([{ name: 's-in', numPartitions: 1 }, { name: 's-ticks', numPartitions: 1 }]);
    const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde });
    // Stream time jumps from 41 to 95: one punctuation for it, not five.
    const timestamps = [...Array.from({ length: 42 }, (_, i) => i), 95, 96, 120];
    await producer.sendBatch(timestamps.map((timestamp) => ({ topic: 's-in', key: 'k', value: 'v', timestamp })));
    const builder = new StreamsBuilder();
    builder
      .stream('s-in', { key: stringSerde, value: stringSerde })
      .process<string, string>(
        () => ({
          init(context) {
            context.schedule(10, PunctuationType.STREAM_TIME, (timestampMs) => context.forward(new StreamRecord('tick', String(timestampMs), timestampMs)));
          },
          process: () => undefined,
        }),
        { key: stringSerde, value: stringSerde },
      )
      .to('s-ticks');
    const app = new StreamsApp(builder.build(), { applicationId: 'stream-ticks', transport, stateDir, commitIntervalMs: 50 });
    await app.start();
    const expected = ['0', '10', '20', '30', '40', '95', '120'];
    expect((await readCommitted(transport, 's-ticks', expected.length)).map(([, v]) => v)).toEqual(expected);
    await app.close();
    expect((await readAllCommitted(transport, 's-ticks')).map(([, v]) => v)).toEqual(expected);
    await producer.close();
  });

  it('resumes a task in another process with its committed stream time, and its stores restored before processors init()', async () => {
    const { transport, stateDir } = await openSetup();
    await new Admin(transport).createTopics([{ name: 'st-in', numPartitions: 1 }, { name: 'st-out', numPartitions: 1 }]);
    const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde });
    const topology = () => {
      const builder = new StreamsBuilder();
      builder.addStateStore({ name: 'seen', key: stringSerde, value: stringSerde });
      builder
        .stream('st-in', { key: stringSerde, value: stringSerde })
        .process<string, string>(
          () => {
            let context: ProcessorContext<string, string>;
            let store: KeyValueStore<string, string>;
            let seenAtInit = 0;
            return {
              init: (c) => {
                context = c;
                store = c.getStateStore<KeyValueStore<string, string>>('seen');
                for (const _ of store.all()) seenAtInit++;
              },
              process: (record) => {
                store.put(record.value, record.key);
                context.forward(record.withValue(`${record.value}@${context.currentStreamTimeMs()}#${seenAtInit}`));
              },
            };
          },
          { key: stringSerde, value: stringSerde, stores: ['seen'] },
        )
        .to('st-out');
      return builder.build();
    };
    await producer.sendBatch([5_000, 9_000, 7_000].map((timestamp, i) => ({ topic: 'st-in', key: 'k', value: `a${i}`, timestamp })));
    const first = new StreamsApp(topology(), { applicationId: 'stream-time', transport, stateDir: join(stateDir, 'first'), commitIntervalMs: 50 });
    await first.start();
    expect((await readCommitted(transport, 'st-out', 3)).map(([, v]) => v)).toEqual(['a0@5000#0', 'a1@9000#0', 'a2@9000#0']);
    await first.close();
    // The second process has no local state: the store comes back from its changelog, stream time from the offsets' metadata.
    await producer.sendBatch([{ topic: 'st-in', key: 'k', value: 'b0', timestamp: 8_000 }]);
    const second = new StreamsApp(topology(), { applicationId: 'stream-time', transport, stateDir: join(stateDir, 'second'), commitIntervalMs: 50 });
    await second.start();
    expect((await readCommitted(transport, 'st-out', 4)).map(([, v]) => v)).toEqual(['a0@5000#0', 'a1@9000#0', 'a2@9000#0', 'b0@9000#3']);
    await second.close();
    await producer.close();
  });

  it('processes a task reading two topics in timestamp order across them, waiting maxTaskIdleMs for one that is merely late', async () => {
    const { transport, stateDir } = await openSetup();
    await new Admin(transport).createTopics(['m-left', 'm-right', 'm-out'].map((name) => ({ name, numPartitions: 1 })));
    const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde });
    const send = (topic: string, timestamps: number[]) => producer.sendBatch(timestamps.map((timestamp) => ({ topic, key: 'k', value: `${topic.slice(2)}@${timestamp}`, timestamp })));
    const topology = () => {
      const builder = new StreamsBuilder();
      const text = { key: stringSerde, value: stringSerde };
      builder.stream('m-left', text).merge(builder.stream('m-right', text)).to('m-out');
      return builder.build();
    };
    const outputs = (count: number) => readCommitted(transport, 'm-out', count).then((read) => read.map(([, v]) => v));
    await send('m-left', [1, 3, 5]);
    await send('m-right', [2, 4, 6]);
    // Both topics hold their records: the task takes them in timestamp order, not topic by topic.
    const ordered = new StreamsApp(topology(), { applicationId: 'merge-ordered', transport, stateDir: join(stateDir, 'a'), commitIntervalMs: 50 });
    await ordered.start();
    expect(await outputs(6)).toEqual(['left@1', 'right@2', 'left@3', 'right@4', 'left@5', 'right@6']);
    await ordered.close();

    // "right" has nothing beyond 6 yet: the task waits for it (up to a minute) instead of running
    // ahead on "left", so the record sent late to "right" still goes before left's later one (and
    // right@10 then waits for "left").
    await send('m-left', [7, 9]);
    const waiting = new StreamsApp(topology(), { applicationId: 'merge-ordered', transport, stateDir: join(stateDir, 'b'), commitIntervalMs: 50, maxTaskIdleMs: 60_000 });
    await waiting.start();
    await waiting.waitFor(AppState.running);
    await send('m-right', [8, 10]);
    expect((await outputs(9)).slice(6)).toEqual(['left@7', 'right@8', 'left@9']);
    await waiting.close();
    await producer.close();
  });

  it('counts per tumbling window, dead-letters a late record, and restores the window store from its changelog, and from a snapshot plus the changelog after it', async () => {
    const { transport, stateDir } = await openSetup();
    const admin = new Admin(transport);
    await admin.createTopics([{ name: 'events', numPartitions: 2 }, { name: 'window-counts', numPartitions: 2 }]);
    const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde });
    const sizeMs = 1_000;
    const base = Math.floor(Date.now() / sizeMs) * sizeMs;
    const expected = new Map<string, number>();
    const send = async (offsets: readonly number[]): Promise<void> => {
      const records = offsets.map((at, i) => ({ topic: 'events', key: `k${i % 4}`, value: 'x', timestamp: base + at }));
      for (const r of records) expected.set(`${r.key}@${Math.floor(r.timestamp / sizeMs) * sizeMs}`, (expected.get(`${r.key}@${Math.floor(r.timestamp / sizeMs) * sizeMs}`) ?? 0) + 1);
      await producer.sendBatch(records);
    };
    const topology = () => {
      const builder = new StreamsBuilder();
      builder
        .stream('events', { key: stringSerde, value: stringSerde })
        .groupByKey()
        .windowedBy(TimeWindows.ofSizeWithNoGrace(sizeMs))
        .count({ name: 'window-count' })
        .toStream()
        .to('window-counts', { key: timeWindowedSerde(stringSerde, sizeMs), value: longSerde });
      return builder.build();
    };
    /** Reads the output until every window's latest count is the expected one. */
    const converged = async (): Promise<void> => {
      const consumer = new Consumer(transport, { keySerde: timeWindowedSerde(stringSerde, sizeMs), valueSerde: longSerde, autoOffsetReset: 'earliest' });
      consumer.assign([0, 1].map((partition) => ({ topic: 'window-counts', partition })));
      const latest = new Map<string, number>();
      const done = (): boolean => [...expected].every(([window, count]) => latest.get(window) === count);
      try {
        for await (const r of consumer) {
          expect(r.key!.window.endMs - r.key!.window.startMs).toBe(sizeMs);
          // Windows go to their inner key's partition, as Kafka Streams' WindowedStreamPartitioner puts them.
          expect(r.partition).toBe(murmur2Partitioner.partition({ topic: 'window-counts', key: stringSerde.serialize(r.key!.key), partitionCount: 2 }));
          latest.set(`${r.key!.key}@${r.key!.window.startMs}`, r.value!);
          if (done()) return;
        }
      } finally {
        await consumer.close();
      }
    };

    await send(Array.from({ length: 40 }, (_, i) => i * 100));
    const first = new StreamsApp(topology(), { applicationId: 'windows', transport, stateDir, commitIntervalMs: 50, failures: { lateRecords: 'dlq' } });
    await first.start();
    await converged();
    // k0's task has seen 3,600 ms: the window [0, 1,000) has closed, so this record is dropped and dead-lettered.
    await producer.sendBatch([{ topic: 'events', key: 'k0', value: 'late', timestamp: base + 10 }]);
    const [dead] = await readCommitted(transport, 'windows-dlq', 1);
    expect(dead).toEqual(['k0', 'late']);
    expect(first.metrics().tasks.reduce((sum, t) => sum + t.lateRecordsDropped, 0)).toBe(1);
    expect(first.metricsText()).toMatch(/rill_streams_task_late_records_dropped_total\{application_id="windows",task_id="0_\d"\} 1/);
    await first.close();

    await send(Array.from({ length: 20 }, (_, i) => 3_000 + i * 100));
    const freshStateDir = mkdtempSync(join(tmpdir(), 'rill-streams-state-'));
    cleanup.push(() => rmSync(freshStateDir, { recursive: true, force: true }));
    const second = new StreamsApp(topology(), { applicationId: 'windows', transport, stateDir: freshStateDir, commitIntervalMs: 50 });
    await second.start();
    await converged();
    expect(second.metrics().tasks.reduce((sum, t) => sum + t.restoredRecords, 0)).toBeGreaterThan(0);
    await second.close();

    // The first state directory holds the snapshot the first app wrote at close: the third app loads
    // it and replays only the changelog the second app wrote after it.
    await send(Array.from({ length: 8 }, (_, i) => 4_500 + i * 100));
    const third = new StreamsApp(topology(), { applicationId: 'windows', transport, stateDir, commitIntervalMs: 50 });
    await third.start();
    await converged();
    const replayed = third.metrics().tasks.reduce((sum, t) => sum + t.restoredRecords, 0);
    expect(replayed).toBeGreaterThan(0);
    const changelogEnd = (await admin.topicOffsets('windows-window-count-changelog', 1)).reduce((sum, o) => sum + o.latest, 0);
    expect(replayed).toBeLessThan(changelogEnd);
    await third.close();
    await producer.close();
  });
});
