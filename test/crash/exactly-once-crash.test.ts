import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiKey } from '../../sdk/protocol/mod.ts';
import { type BrokerProcess, startBrokerProcess } from '../helpers/broker-process.ts';
import { RawKafkaClient } from '../helpers/raw-kafka-client.ts';
import { fetchOnce, readAllValues } from '../helpers/read-partition.ts';

const FULL = process.env.RILL_CRASH_FULL === '1';
const CYCLES = FULL ? 20 : 3;
const TXN_TIMEOUT_MS = 3_000;
const TXN_PARTITIONS = 2;
const dataDir = mkdtempSync(join(tmpdir(), 'rill-crash-'));
let broker: BrokerProcess | undefined;

afterAll(async () => {
  await broker?.stop('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

interface Ledger {
  /** Idempotent sends the broker acknowledged. */
  acked: Set<string>;
  /** Transactions by id: their values and what the client learned of their outcome. */
  txns: Map<string, { values: string[]; outcome: 'committed' | 'aborted' | 'unknown' }>;
}

/** Idempotent sends and transactions (a fifth abort) until the broker dies under them. */
async function workload(kafka: Kafka, cycle: number, ledger: Ledger, stop: Promise<void>): Promise<void> {
  let stopped = false;
  void stop.then(() => (stopped = true));
  const idempotent = kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 2, initialRetryTime: 20 } });
  const transactional = kafka.producer({ transactionalId: `crash-tx-${cycle}`, idempotent: true, maxInFlightRequests: 1, transactionTimeout: TXN_TIMEOUT_MS, retry: { retries: 2, initialRetryTime: 20 } });
  const idempotentLoop = (async () => {
    await idempotent.connect();
    for (let n = 0; !stopped; n++) {
      const value = `i-${cycle}-${n}`;
      await idempotent.send({ topic: 'crash-idem', acks: -1, messages: [{ value }] });
      ledger.acked.add(value);
    }
  })();
  const txnLoop = (async () => {
    await transactional.connect();
    for (let t = 0; !stopped; t++) {
      const id = `t-${cycle}-${t}`;
      const values = Array.from({ length: 4 }, (_, k) => `${id}-${k}`);
      const entry = { values, outcome: 'unknown' as 'committed' | 'aborted' | 'unknown' };
      ledger.txns.set(id, entry);
      const txn = await transactional.transaction();
      await txn.send({ topic: 'crash-txn', messages: values.map((value, k) => ({ value, partition: k % TXN_PARTITIONS })) });
      if (t % 5 === 4) {
        await txn.abort();
        entry.outcome = 'aborted';
      } else {
        await txn.commit();
        entry.outcome = 'committed';
      }
    }
  })();
  await Promise.allSettled([idempotentLoop, txnLoop]);
  await Promise.allSettled([idempotent.disconnect(), transactional.disconnect()]);
}

/** Waits (by long-polling fetches for the markers) until read_committed readers see up to the high watermark. */
async function awaitStable(raw: RawKafkaClient, deadlineMs: number): Promise<void> {
  for (let p = 0; p < TXN_PARTITIONS; p++) {
    for (;;) {
      const latest = async (isolationLevel: number) =>
        (await raw.request(ApiKey.ListOffsets, 3, { replicaId: -1, isolationLevel, topics: [{ name: 'crash-txn', partitions: [{ partitionIndex: p, currentLeaderEpoch: -1, timestamp: -1n, maxNumOffsets: 1 }] }], timeoutMs: 0 })).topics[0]!.partitions[0]!.offset;
      const [stable, high] = [await latest(1), await latest(0)];
      if (stable === high) break;
      if (Date.now() > deadlineMs) throw new Error(`crash-txn-${p} stays unstable at ${stable} (high watermark ${high}) past the transaction timeout`);
      await fetchOnce(raw, 'crash-txn', p, high, 0, 500);
    }
  }
}

describe(`exactly-once across ${CYCLES} SIGKILLs of the broker process`, () => {
  it('loses no acknowledged record, duplicates none, never shows a partial or aborted transaction, and never hangs past the timeout', { timeout: CYCLES * 30_000 }, async () => {
    const ledger: Ledger = { acked: new Set(), txns: new Map() };
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    broker = await startBrokerProcess({ dataDir });
    {
      const kafka = new Kafka({ clientId: 'crash-setup', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: 'crash-idem', numPartitions: 1 }, { topic: 'crash-txn', numPartitions: TXN_PARTITIONS }] });
      await admin.disconnect();
    }
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const kafka = new Kafka({ clientId: `crash-${cycle}`, brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 2, initialRetryTime: 20 } });
      let kill!: () => void;
      const killed = new Promise<void>((resolve) => (kill = resolve));
      let finished = false;
      const running = workload(kafka, cycle, ledger, killed).finally(() => (finished = true));
      // Kill once the workload has made some progress, at a random point after it.
      const target = ledger.acked.size + 20 + Math.floor(random() * 200);
      while (ledger.acked.size < target && !finished) await new Promise((resolve) => setImmediate(resolve));
      expect(finished, 'the workload stopped before the broker was killed').toBe(false);
      await broker.stop('SIGKILL');
      kill();
      await running;
      broker = await startBrokerProcess({ dataDir });

      const raw = await RawKafkaClient.connect(broker.port);
      try {
        await awaitStable(raw, Date.now() + TXN_TIMEOUT_MS + 10_000);
        const idem = await readAllValues(raw, 'crash-idem', 0, 1);
        expect(new Set(idem).size, 'duplicates in crash-idem').toBe(idem.length);
        for (const value of ledger.acked) expect(idem, `acknowledged ${value} lost`).toContain(value);
        const visible = new Set<string>();
        const all: string[] = [];
        for (let p = 0; p < TXN_PARTITIONS; p++) all.push(...(await readAllValues(raw, 'crash-txn', p, 1)));
        for (const v of all) visible.add(v);
        expect(visible.size, 'duplicates in crash-txn').toBe(all.length);
        for (const [id, txn] of ledger.txns) {
          const seen = txn.values.filter((v) => visible.has(v)).length;
          if (txn.outcome === 'committed') expect(seen, `committed ${id}`).toBe(txn.values.length);
          else if (txn.outcome === 'aborted') expect(seen, `aborted ${id}`).toBe(0);
          else expect([0, txn.values.length], `${id} partially visible`).toContain(seen);
        }
      } finally {
        raw.close();
      }
    }
    expect([...ledger.txns.values()].some((t) => t.outcome === 'aborted')).toBe(true);
  });
});
