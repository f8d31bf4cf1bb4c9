import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Broker, EmbeddedTransport } from '../../../broker/mod.ts';
import { Admin, Consumer, Producer, stringSerde, TcpTransport, type Transport } from '../../../sdk/mod.ts';
import { AppState, StreamsApp, StreamsBuilder, StreamsError } from '../../../streams/mod.ts';
import { KafkaListener } from '../../../broker/kafka/kafka-listener.ts';
import { ApiKey } from '../../../sdk/protocol/mod.ts';
import { DroppingProxy } from '../../helpers/dropping-proxy.ts';
import { runGlobalTableScenario } from '../../runtime/global-table-scenario.ts';
import { embeddedSetup, tcpSetup } from '../../helpers/streams-setups.ts';

describe.each([embeddedSetup(), tcpSetup()])('GlobalKTable over $name', (setup) => {
  afterAll(() => setup.close());

  async function withTransport(run: (transport: Transport, stateDir: string) => Promise<void>): Promise<void> {
    const stateDir = mkdtempSync(join(tmpdir(), 'rill-global-state-'));
    const transport = await setup.open();
    try {
      await run(transport, stateDir);
    } finally {
      await transport.close();
      rmSync(stateDir, { recursive: true, force: true });
    }
  }

  it('replicates the whole table to two instances splitting the stream, follows updates, and restores before processing on restart', async () => {
    await withTransport(async (transport, stateDir) => {
      expect(await runGlobalTableScenario(transport, stateDir, 'gt-')).toHaveLength(10);
    });
  });

  it('reads the global topic read_committed: aborted records never join, and an open transaction does not hold the restore', async () => {
    await withTransport(async (transport, stateDir) => {
      const admin = new Admin(transport);
      await admin.createTopics([{ name: 'gt-txn-table', numPartitions: 2 }, { name: 'gt-txn-in', numPartitions: 1 }, { name: 'gt-txn-out', numPartitions: 1 }]);
      const txn = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde, transactionalId: 'gt-txn-writer' });
      await txn.beginTransaction();
      await txn.send({ topic: 'gt-txn-table', partition: 1, key: 'k', value: 'committed' });
      await txn.commitTransaction();
      await txn.beginTransaction();
      await txn.send({ topic: 'gt-txn-table', partition: 1, key: 'k', value: 'aborted' });
      await txn.abortTransaction();
      await txn.beginTransaction();
      await txn.send({ topic: 'gt-txn-table', partition: 0, key: 'k', value: 'pending' });
      const builder = new StreamsBuilder();
      const table = builder.globalTable('gt-txn-table', { key: stringSerde, value: stringSerde });
      builder.stream('gt-txn-in', { key: stringSerde, value: stringSerde }).leftJoin(table, (_k, v) => v, (v, t) => `${v}=${t}`, { value: stringSerde }).to('gt-txn-out');
      const app = new StreamsApp(builder.build(), { applicationId: 'gt-txn-app', transport, stateDir, commitIntervalMs: 50 });
      await app.start();
      await app.waitFor(AppState.running);
      const plain = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde });
      await plain.send({ topic: 'gt-txn-in', key: 'r1', value: 'k' });
      const consumer = new Consumer(transport, { keySerde: stringSerde, valueSerde: stringSerde, autoOffsetReset: 'earliest' });
      consumer.assign([{ topic: 'gt-txn-out', partition: 0 }]);
      const outputs = consumer[Symbol.asyncIterator]();
      expect((await outputs.next()).value?.value).toBe('k=committed');
      await txn.commitTransaction();
      // Once the pending transaction committed, its record reaches the table; probe until it shows.
      let seen = 'k=committed';
      for (let probe = 0; seen !== 'k=pending' && probe < 200; probe++) {
        await plain.send({ topic: 'gt-txn-in', key: `p${probe}`, value: 'k' });
        seen = (await outputs.next()).value!.value!;
        expect(['k=committed', 'k=pending']).toContain(seen);
      }
      expect(seen).toBe('k=pending');
      await consumer.close();
      await app.close();
      await Promise.all([txn.close(), plain.close()]);
    });
  });

  it('refuses to start without the global topic, and stops with ERROR when a global record fails to deserialize', async () => {
    await withTransport(async (transport, stateDir) => {
      const admin = new Admin(transport);
      await admin.createTopics([{ name: 'gf-in', numPartitions: 1 }, { name: 'gf-out', numPartitions: 1 }]);
      const topology = (globalTopic: string) => {
        const builder = new StreamsBuilder();
        const rates = builder.globalTable(globalTopic, { key: stringSerde, value: { serialize: (n: number) => new TextEncoder().encode(String(n)), deserialize: parseRate } });
        builder.stream('gf-in', { key: stringSerde, value: stringSerde }).join(rates, (_k, v) => v, (v, rate) => `${v}=${rate}`, { value: stringSerde }).to('gf-out');
        return builder.build();
      };
      const missing = new StreamsApp(topology('gf-rates-missing'), { applicationId: 'gf-missing', transport, stateDir: join(stateDir, 'missing') });
      await expect(missing.start()).rejects.toSatisfy((e: unknown) => e instanceof StreamsError && e.code === 'TOPIC_MISMATCH' && /gf-rates-missing/.test(e.message));
      expect(missing.state).toBe(AppState.error);
      // close() of an app whose start failed has nothing left to close, as Kafka Streams' close() in ERROR.
      await missing.close();
      expect(missing.state).toBe(AppState.error);

      await admin.createTopics([{ name: 'gf-rates', numPartitions: 2 }]);
      const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde });
      await producer.send({ topic: 'gf-rates', partition: 1, key: 'EUR', value: '2' });
      const app = new StreamsApp(topology('gf-rates'), { applicationId: 'gf-fail', transport, stateDir: join(stateDir, 'fail'), commitIntervalMs: 50 });
      await app.start();
      await app.waitFor(AppState.running);
      await producer.send({ topic: 'gf-rates', partition: 1, key: 'EUR', value: 'not a number' });
      await expect(app.stopped).rejects.toThrow(/global store .* gf-rates-1 at offset 1 failed to deserialize/);
      expect(app.state).toBe(AppState.error);
      await producer.close();
    });
  });
});

describe('GlobalKTable restore', () => {
  it('close() during the restore stops it, and the stream thread never starts (it never joins the group)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'rill-global-restore-'));
    const broker = await Broker.open({ config: { dataDir: join(dataDir, 'broker') }, groups: { initialRebalanceDelayMs: 0 } });
    // Every Fetch response is lost on the way to the application: its restore cannot finish.
    let listener: KafkaListener | undefined;
    let fetching!: () => void;
    const restoreFetched = new Promise<void>((resolve) => (fetching = resolve));
    const proxy = await DroppingProxy.start(
      () => listener!.port,
      (apiKey) => {
        if (apiKey !== ApiKey.Fetch) return false;
        fetching();
        return true;
      },
    );
    listener = await KafkaListener.start(broker, { host: '127.0.0.1', port: 0, advertisedPort: proxy.port });
    const direct = new EmbeddedTransport(broker);
    const viaProxy = new TcpTransport({ bootstrapServers: [proxy.bootstrap] });
    try {
      await broker.createTopic('gr-table', { partitions: 2 });
      await broker.createTopic('gr-in', { partitions: 1 });
      const producer = new Producer(direct, { keySerde: stringSerde, valueSerde: stringSerde });
      await producer.sendBatch([0, 1].map((partition) => ({ topic: 'gr-table', partition, key: `k${partition}`, value: 'v' })));
      await producer.close();
      const builder = new StreamsBuilder();
      const table = builder.globalTable('gr-table', { key: stringSerde, value: stringSerde });
      builder.stream('gr-in', { key: stringSerde, value: stringSerde }).join(table, (k) => k, (v, t) => `${v}${t}`).to('gr-out', { key: stringSerde, value: stringSerde });
      const app = new StreamsApp(builder.build(), { applicationId: 'gr-app', transport: viaProxy, stateDir: join(dataDir, 'state') });
      const states: string[] = [];
      app.onStateChange((now) => states.push(now));
      await app.start();
      await restoreFetched;
      await app.close();
      expect(states).toEqual([AppState.rebalancing, AppState.pendingShutdown, AppState.notRunning]);
      expect((await new Admin(direct).listGroups()).map((g) => g.groupId)).not.toContain('gr-app');
    } finally {
      await viaProxy.close();
      await direct.close();
      await proxy.close();
      await listener.close();
      await broker.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

function parseRate(bytes: Uint8Array): number {
  const n = Number(new TextDecoder().decode(bytes));
  if (Number.isNaN(n)) throw new Error('not a number');
  return n;
}
