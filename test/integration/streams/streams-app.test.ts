import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Broker, EmbeddedTransport } from '../../../broker/mod.ts';
import { Admin, Consumer, Producer, stringSerde } from '../../../sdk/mod.ts';
import { Effect } from 'effect';
import { AppState, StreamsApp, StreamsBuilder, streamsApp } from '../../../streams/mod.ts';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function embeddedBroker(): Promise<{ broker: Broker; transport: EmbeddedTransport; stateDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'rill-streams-broker-'));
  const stateDir = mkdtempSync(join(tmpdir(), 'rill-streams-state-'));
  const broker = await Broker.open({ config: { dataDir }, groups: { initialRebalanceDelayMs: 0 } });
  const transport = new EmbeddedTransport(broker);
  cleanup.push(async () => {
    await transport.close();
    await broker.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(stateDir, { recursive: true, force: true });
  });
  return { broker, transport, stateDir };
}

/** Reads `count` records of `topic` (read_committed) from the beginning. */
async function readCommitted(transport: EmbeddedTransport, topic: string, count: number): Promise<[string, string][]> {
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

describe('StreamsApp over the embedded broker', () => {
  it('runs a stateless job exactly once: outputs and input offsets commit together', async () => {
    const { transport, stateDir } = await embeddedBroker();
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
    const { transport, stateDir } = await embeddedBroker();
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
    const { transport, stateDir } = await embeddedBroker();
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
});
