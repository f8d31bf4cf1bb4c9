/**
 * Delayed delivery benchmark: `--records` records (100-byte values, batches of 500, 4 partitions)
 * each with `rill.deliver.at` uniformly random in 1–5 s after the last one is produced, so all of
 * them are pending at once. A consumer over TCP reads them as they become due and measures
 * lateness = arrival minus `rill.deliver.at` (negative would be early). With `--restart` (default)
 * the broker is closed and reopened on the same data directory mid-schedule; records the restart
 * caught are reported apart, since their lateness is the downtime: those due while it was down,
 * and those due within the target's 100 ms before it went down (not late yet when it stopped, so
 * not on time through no fault of the schedule). The p99 of every record is printed too.
 *
 *   node dist/bench/delay.js [--records 100000] [--restart true] [--index 200000]
 *   bun bench/delay.ts    |    deno run -A bench/delay.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Broker } from '../broker/mod.ts';
import { KafkaListener } from '../broker/kafka/kafka-listener.ts';
import { Consumer, RecordBatchBuilder, TcpTransport } from '../sdk/mod.ts';
import { printTable, runtimeName } from './report.ts';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '100000' },
    restart: { type: 'string', default: 'true' },
    index: { type: 'string', default: '200000' },
  },
});
const total = Number(values.records);
const restart = values.restart === 'true';
const partitions = 4;
/** The bound on lateness: a record due this long before a stop was not late yet when it came. */
const TARGET_LATE_MS = 100;
const topic = 'bench-delay';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const dataDir = mkdtempSync(join(tmpdir(), 'rill-bench-delay-'));
const brokerOptions = { config: { dataDir }, delayedDelivery: { indexMaxEntries: Number(values.index) } };

interface Running {
  broker: Broker;
  listener: KafkaListener;
  transport: TcpTransport;
  consumer: Consumer;
  loop: Promise<void>;
}

const lateness: { dueMs: number; lateMs: number }[] = [];
const positions = new Map<number, number>(Array.from({ length: partitions }, (_, p) => [p, 0]));
let finish!: () => void;
const allIn = new Promise<void>((resolve) => (finish = resolve));

async function start(): Promise<Running> {
  const broker = await Broker.open(brokerOptions);
  const listener = await KafkaListener.start(broker, { host: '127.0.0.1', port: 0 });
  const transport = new TcpTransport({ bootstrapServers: [`127.0.0.1:${listener.port}`] });
  const consumer = new Consumer(transport, { maxWaitMs: 20 });
  consumer.assign([...positions].map(([partition, offset]) => ({ topic, partition, offset })));
  const loop = (async () => {
    for await (const batch of consumer.batches()) {
      const atMs = Date.now();
      for (const record of batch.records) {
        const due = record.headers.find((h) => h.key === 'rill.deliver.at');
        const dueMs = Number(decoder.decode(due!.value!));
        lateness.push({ dueMs, lateMs: atMs - dueMs });
        positions.set(record.partition, record.offset + 1);
      }
      if (lateness.length >= total) finish();
    }
  })();
  return { broker, listener, transport, consumer, loop };
}

async function stop(running: Running): Promise<void> {
  await running.consumer.close();
  await running.loop.catch(() => undefined);
  await running.transport.close();
  await running.listener.close();
  await running.broker.close();
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function summary(samples: readonly { lateMs: number }[]): { count: number; early: number; p50: number; p99: number; max: number } {
  const sorted = samples.map((s) => s.lateMs).sort((a, b) => a - b);
  return { count: sorted.length, early: sorted.filter((l) => l < 0).length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? Number.NaN };
}

let running = await start();
try {
  await running.broker.createTopic(topic, { partitions, config: { 'rill.delayed.delivery': 'true' } });
  const value = new Uint8Array(100).fill(7);
  // Estimated generously so every record is still pending when the last is produced.
  const produceStartMs = Date.now();
  const baseMs = produceStartMs + 3000 + total / 20;
  for (let written = 0, p = 0; written < total; p = (p + 1) % partitions) {
    const builder = new RecordBatchBuilder({});
    for (let i = 0; i < 500 && written < total; i++, written++) {
      const dueMs = baseMs + 1000 + Math.floor(Math.random() * 4000);
      builder.append({ value, headers: [{ key: 'rill.deliver.at', value: encoder.encode(String(dueMs)) }] });
    }
    await running.broker.append(topic, p, builder.seal());
  }
  const producedMs = Date.now();
  const stats = running.broker.delayedDelivery.stats();
  const heapMb = process.memoryUsage().heapUsed / 1024 / 1024;
  const pendingAtProduceEnd = total - lateness.length;

  let downFromMs = Number.POSITIVE_INFINITY;
  let downToMs = Number.NEGATIVE_INFINITY;
  if (restart) {
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, baseMs + 2500 - Date.now())));
    downFromMs = Date.now();
    await stop(running);
    running = await start();
    downToMs = Date.now();
  }
  await allIn;
  const all = summary(lateness);
  const caught = (s: { dueMs: number }): boolean => s.dueMs >= downFromMs - TARGET_LATE_MS && s.dueMs <= downToMs;
  const live = summary(lateness.filter((s) => !caught(s)));
  const down = summary(lateness.filter(caught));
  const figures = {
    bench: 'delay',
    runtime: runtimeName(),
    records: total,
    partitions,
    produce_s: Number(((producedMs - produceStartMs) / 1000).toFixed(2)),
    pending_at_produce_end: pendingAtProduceEnd,
    index_entries: stats.indexed,
    heap_mb_at_produce_end: Number(heapMb.toFixed(1)),
    restart,
    restart_ms: restart ? downToMs - downFromMs : 0,
    delivered: all.count,
    early: all.early,
    late_p50_ms: live.p50,
    late_p99_ms: live.p99,
    late_max_ms: live.max,
    all_late_p99_ms: all.p99,
    due_during_restart: down.count,
    due_during_restart_late_max_ms: down.count === 0 ? 0 : down.max,
  };
  printTable('delayed delivery: lateness seen by a consumer (arrival minus rill.deliver.at)', [
    ['records', total.toLocaleString('en'), `${partitions} partitions, due 1–5 s after produce ends; ${pendingAtProduceEnd.toLocaleString('en')} pending at once`],
    ['produce', `${figures.produce_s} s`, `index ${stats.indexed.toLocaleString('en')} keys, heap ${figures.heap_mb_at_produce_end} MB`],
    ['early', String(all.early), 'arrived before due (must be 0)'],
    ['late p50 / p99 / max', `${live.p50} / ${live.p99} / ${live.max} ms`, restart ? 'records the restart did not catch' : 'all records'],
    ['restart', restart ? `${figures.restart_ms} ms` : 'off', restart ? `${down.count} records due while down or within ${TARGET_LATE_MS} ms before, max ${figures.due_during_restart_late_max_ms} ms late; p99 of all records ${all.p99} ms` : ''],
  ]);
  console.log(JSON.stringify(figures));
} finally {
  await stop(running);
  rmSync(dataDir, { recursive: true, force: true });
}
