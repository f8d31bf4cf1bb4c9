/**
 * The Rill client against the broker (a separate process, TCP on loopback), side by side with
 * NATS JetStream, Redis Streams and RabbitMQ, each through its standard Node client, with the same
 * record count and 100-byte payloads:
 *   produce   records/s until every record is acknowledged durably (settings per peer below)
 *   consume   records/s reading the same records back from the start
 *   latency   p50/p99 from send to receipt at a paced 5,000 records/s, sent one by one (Rill:
 *             linger 0); send time in the payload, received by a subscriber in the same process;
 *             the first --warmup-seconds (2) are not counted: every client here, and Rill's broker,
 *             runs on V8, whose tiering at this rate still shows in the second second (records
 *             slower than 2 ms per 500 ms window of 2,500, two cold Rill runs: 242-287 at 1.0-1.5 s,
 *             105-122 at 1.5-2 s, 48-88 at 2-2.5 s, then mostly under 20)
 * Every measurement runs --repeat times (a fresh stream each time) and the best is reported, because
 * the figures are noisy on a shared machine. Prints a table per system, Rill's advantage over each
 * (throughput: Rill / peer; latency: peer / Rill; above 1 means Rill is better), then one JSON line.
 *
 *   npm run build && node dist/bench/client.js [--records 1000000] [--repeat 2] [--latency-seconds 10]
 *        [--latency-rate 5000] [--warmup-seconds 2] [--partitions 4] [--linger-ms 0] [--batch-kib 256] [--window 20000]
 *        [--peers rill,nats,redis,rabbitmq] [--rabbitmq-queue quorum|classic] [--skip-latency]
 *        [--broker-cpu-prof DIR]   (writes a .cpuprofile of the Node broker to DIR)
 *        [--compression none,lz4,zstd]   (also: Rill's produce and consume per batch codec)
 *
 * --compression adds a table of Rill's throughput runs with each listed codec (none, gzip, snappy,
 * lz4, zstd) and `rill_compression` in the JSON line. Those runs send 4,096 distinct JSON-like
 * 100-byte values in turn (one repeated value would compress to nearly nothing), so they are
 * comparable with each other, not with the main table's rows.
 *
 * The peers are Debian's packages and npm devDependencies (benchmarks only; not in CI):
 *   apt-get update && apt-get install -y nats-server redis-server rabbitmq-server
 *   npm install   (@nats-io/jetstream, @nats-io/transport-node, ioredis, amqplib)
 * The benchmark starts each server itself, bound to 127.0.0.1 with its data in a temp dir, and stops
 * it at the end, also on failure; a peer whose server is missing or does not start is reported as
 * "unavailable: <reason>" and the others still run. Durability per peer:
 *   Rill      acks=all, the broker fsyncs before it answers
 *   Redis     appendonly yes, appendfsync always (the AOF is fsynced before replies are sent)
 *   RabbitMQ  durable quorum queue (default; --rabbitmq-queue classic for a durable classic queue),
 *             persistent messages, publisher confirms
 *   NATS      file storage, publish awaits the PubAck; nats-server 2.9 (Debian 12) has no
 *             sync_interval, so it acks after write() and fsyncs in the background, not before
 *             the ack; with nats-server >= 2.10 the config gets `sync_interval: always`
 */
import { parseArgs } from 'node:util';
import { measureLatency, type LatencyResult } from './peers/latency.ts';
import { natsDriver } from './peers/nats.ts';
import type { PeerDriver } from './peers/peer.ts';
import { rabbitmqDriver } from './peers/rabbitmq.ts';
import { redisDriver } from './peers/redis.ts';
import { rillDriver } from './peers/rill.ts';
import { printTable, runtimeName } from './report.ts';
import { COMPRESSION_NAMES, type CompressionName, compress, RecordBatchBuilder, supportedCompressionType } from '../sdk/mod.ts';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    repeat: { type: 'string', default: '2' },
    'latency-seconds': { type: 'string', default: '10' },
    'latency-rate': { type: 'string', default: '5000' },
    'warmup-seconds': { type: 'string', default: '2' },
    partitions: { type: 'string', default: '4' },
    'linger-ms': { type: 'string', default: '0' },
    'batch-kib': { type: 'string', default: '256' },
    window: { type: 'string', default: '20000' },
    peers: { type: 'string', default: 'rill,nats,redis,rabbitmq' },
    'rabbitmq-queue': { type: 'string', default: 'quorum' },
    'broker-cpu-prof': { type: 'string' },
    'skip-latency': { type: 'boolean', default: false },
    compression: { type: 'string', default: 'none' },
  },
});
const records = Number(values.records);
const repeat = Math.max(1, Number(values.repeat));
const latencyOptions = {
  rate: Number(values['latency-rate']),
  seconds: Number(values['latency-seconds']),
  warmupSeconds: Number(values['warmup-seconds']),
  valueBytes: 100,
};
const VALUE_BYTES = 100;
const window = Number(values.window);
const rabbitQueue = values['rabbitmq-queue'] === 'classic' ? 'classic' : 'quorum';
const cpuProfDir = values['broker-cpu-prof'];

const rillOptions = {
  partitions: Number(values.partitions),
  lingerMs: Number(values['linger-ms']),
  batchSizeBytes: Number(values['batch-kib']) * 1024,
  window,
  brokerNodeArgs: cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`],
};
const codecs = values.compression.split(',').map((c) => c.trim()).filter((c) => c.length > 0) as CompressionName[];
for (const codec of codecs) if (!COMPRESSION_NAMES.includes(codec)) throw new Error(`unknown compression "${codec}"; known: ${COMPRESSION_NAMES.join(', ')}`);

const drivers: Record<string, PeerDriver> = {
  rill: rillDriver(rillOptions),
  nats: natsDriver({ window: Math.min(window, 20_000) }),
  redis: redisDriver({ window: Math.min(window, 20_000) }),
  rabbitmq: rabbitmqDriver({ queueType: rabbitQueue, window: Math.min(window, 20_000) }),
};

interface Figures {
  produce_records_s: number;
  consume_records_s: number;
  latency_p50_ms: number;
  latency_p99_ms: number;
  latency_max_ms: number;
  ack_p50_ms: number;
  ack_p99_ms: number;
  latency_samples: number;
  latency_lost: number;
  produce_runs_records_s: number[];
  consume_runs_records_s: number[];
  latency_runs_p50_p99_ms: [number, number][];
  durability: string;
  shape: string;
}
type Outcome = Figures | { unavailable: string } | { failed: string };

const fmtRate = (n: number): string => `${Math.round(n).toLocaleString('en')} records/s`;
const fmtMs = (n: number): string => `${n.toFixed(3)} ms`;
const round = (n: number, digits: number): number => +n.toFixed(digits);

async function runPeer(driver: PeerDriver): Promise<Outcome> {
  const missing = await driver.unavailable();
  if (missing !== undefined) return { unavailable: missing };
  let session;
  try {
    session = await driver.open();
  } catch (error) {
    return { unavailable: error instanceof Error ? error.message : String(error) };
  }
  try {
    const value = new Uint8Array(VALUE_BYTES).fill(0x61);
    const produceRuns: number[] = [];
    const consumeRuns: number[] = [];
    for (let run = 1; run <= repeat; run++) {
      const stream = `bench-throughput-${run}`;
      let start = performance.now();
      await session.produce(stream, records, value);
      produceRuns.push(records / ((performance.now() - start) / 1000));
      start = performance.now();
      const bytes = await session.consume(stream, records);
      consumeRuns.push(records / ((performance.now() - start) / 1000));
      if (bytes !== records * VALUE_BYTES) throw new Error(`consumed ${bytes} payload bytes, expected ${records * VALUE_BYTES}`);
      console.log(`  ${driver.name} run ${run}: produce ${fmtRate(produceRuns.at(-1)!)}, consume ${fmtRate(consumeRuns.at(-1)!)}`);
    }
    const latencyRuns: LatencyResult[] = [];
    for (let run = 1; run <= (values['skip-latency'] ? 0 : repeat); run++) {
      const result = await measureLatency(session, `bench-latency-${run}`, latencyOptions);
      latencyRuns.push(result);
      console.log(
        `  ${driver.name} latency run ${run}: p50 ${fmtMs(result.p50Ms)}, p99 ${fmtMs(result.p99Ms)}, max ${fmtMs(result.maxMs)} (send to ack p50 ${fmtMs(result.ackP50Ms)}, p99 ${fmtMs(result.ackP99Ms)}), ${result.received}/${result.sent} received`,
      );
    }
    const noLatency: LatencyResult = { sent: 0, received: 0, samples: 0, p50Ms: NaN, p99Ms: NaN, maxMs: NaN, ackP50Ms: NaN, ackP99Ms: NaN, sendErrors: 0 };
    const bestLatency = latencyRuns.reduce((a, b) => (b.p99Ms < a.p99Ms ? b : a), latencyRuns[0] ?? noLatency);
    return {
      produce_records_s: Math.round(Math.max(...produceRuns)),
      consume_records_s: Math.round(Math.max(...consumeRuns)),
      latency_p50_ms: round(bestLatency.p50Ms, 3),
      latency_p99_ms: round(bestLatency.p99Ms, 3),
      latency_max_ms: round(bestLatency.maxMs, 3),
      ack_p50_ms: round(bestLatency.ackP50Ms, 3),
      ack_p99_ms: round(bestLatency.ackP99Ms, 3),
      latency_samples: bestLatency.samples,
      latency_lost: bestLatency.sent - bestLatency.received,
      produce_runs_records_s: produceRuns.map(Math.round),
      consume_runs_records_s: consumeRuns.map(Math.round),
      latency_runs_p50_p99_ms: latencyRuns.map((r) => [round(r.p50Ms, 3), round(r.p99Ms, 3)]),
      durability: driver.durability,
      shape: driver.shape,
    };
  } catch (error) {
    return { failed: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  } finally {
    await session.close();
  }
}

const selected = values.peers.split(',').map((k) => k.trim()).filter((k) => k.length > 0);
for (const key of selected) if (drivers[key] === undefined) throw new Error(`unknown peer "${key}"; known: ${Object.keys(drivers).join(', ')}`);
const outcomes: Record<string, Outcome> = {};
for (const key of selected) {
  const driver = drivers[key]!;
  console.log(`${driver.name}: ${driver.shape}`);
  outcomes[key] = await runPeer(driver);
}

const isFigures = (o: Outcome | undefined): o is Figures => o !== undefined && 'produce_records_s' in o;
const rill = outcomes.rill;
const ratios: Record<string, Record<string, number>> = {};
const rows: string[][] = [['system', 'produce', 'consume', 'latency p50', 'latency p99', 'Rill advantage (produce / consume / p50 / p99)']];
for (const key of selected) {
  const outcome = outcomes[key]!;
  const name = drivers[key]!.name;
  if (!isFigures(outcome)) {
    rows.push([name, 'unavailable' in outcome ? `unavailable: ${outcome.unavailable}` : `failed: ${outcome.failed.split('\n')[0]}`, '', '', '', '']);
    continue;
  }
  let advantage = '';
  if (key !== 'rill' && isFigures(rill)) {
    ratios[key] = {
      produce: round(rill.produce_records_s / outcome.produce_records_s, 2),
      consume: round(rill.consume_records_s / outcome.consume_records_s, 2),
      latency_p50: round(outcome.latency_p50_ms / rill.latency_p50_ms, 2),
      latency_p99: round(outcome.latency_p99_ms / rill.latency_p99_ms, 2),
    };
    const r = ratios[key]!;
    advantage = `${r.produce}x / ${r.consume}x / ${r.latency_p50}x / ${r.latency_p99}x`;
  }
  rows.push([name, fmtRate(outcome.produce_records_s), fmtRate(outcome.consume_records_s), fmtMs(outcome.latency_p50_ms), fmtMs(outcome.latency_p99_ms), advantage]);
}
printTable(
  `client benchmark: ${records.toLocaleString('en')} records of ${VALUE_BYTES} bytes, best of ${repeat}; latency at ${latencyOptions.rate.toLocaleString('en')} records/s for ${latencyOptions.seconds} s after ${latencyOptions.warmupSeconds} s of warm-up`,
  rows,
);
for (const key of selected) {
  const outcome = outcomes[key]!;
  if (isFigures(outcome)) console.log(`  ${drivers[key]!.name}: ${outcome.durability}`);
  else if ('failed' in outcome) console.log(`  ${drivers[key]!.name} failed:\n${outcome.failed}`);
}
if (isFigures(rill)) {
  const targets = [
    ['produce >= 1,000,000 records/s', rill.produce_records_s >= 1_000_000],
    ['consume >= 2,000,000 records/s', rill.consume_records_s >= 2_000_000],
    ['latency p50 <= 0.5 ms', rill.latency_p50_ms <= 0.5],
    ['latency p99 <= 2 ms', rill.latency_p99_ms <= 2],
  ] as const;
  console.log(`  Rill targets: ${targets.map(([t, ok]) => `${t}: ${ok ? 'met' : 'NOT met'}`).join('; ')}`);
}
/** 4,096 distinct 100-byte JSON-like values, as a stream of events would carry. */
function valuePool(): Uint8Array[] {
  const encoder = new TextEncoder();
  let x = 2024;
  const next = (): number => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
  return Array.from({ length: 4096 }, (_, i) => {
    const json = JSON.stringify({ id: 100000 + i, user: `user-${next() % 10000}`, event: ['view', 'click', 'buy', 'share'][next() % 4], amount: (next() % 100000) / 100 });
    return encoder.encode(json.padEnd(VALUE_BYTES, ' ').slice(0, VALUE_BYTES));
  });
}

interface CompressionFigures {
  produce_records_s: number;
  consume_records_s: number;
  /** Uncompressed over compressed size of one 256 KiB batch of the pool's values. */
  batch_ratio: number;
  produce_runs_records_s: number[];
  consume_runs_records_s: number[];
}

const compressionOutcomes: Record<string, CompressionFigures | { failed: string }> = {};
if (selected.includes('rill') && codecs.some((c) => c !== 'none')) {
  const pool = valuePool();
  const sample = new RecordBatchBuilder({ maxBatchBytes: 1 << 20 });
  for (let i = 0; sample.sizeEstimate < 256 * 1024; i++) sample.append({ value: pool[i % pool.length]!, timestamp: 1_700_000_000_000 + i });
  const records256k = sample.seal().subarray(61);
  for (const codec of codecs) {
    console.log(`Rill with ${codec} batches (pooled JSON-like values)`);
    const session = await rillDriver({ ...rillOptions, compression: codec, valuePool: pool }).open();
    try {
      const produceRuns: number[] = [];
      const consumeRuns: number[] = [];
      for (let run = 1; run <= repeat; run++) {
        const stream = `bench-${codec}-${run}`;
        let start = performance.now();
        await session.produce(stream, records, pool[0]!);
        produceRuns.push(records / ((performance.now() - start) / 1000));
        start = performance.now();
        const bytes = await session.consume(stream, records);
        consumeRuns.push(records / ((performance.now() - start) / 1000));
        if (bytes !== records * VALUE_BYTES) throw new Error(`consumed ${bytes} payload bytes, expected ${records * VALUE_BYTES}`);
        console.log(`  ${codec} run ${run}: produce ${fmtRate(produceRuns.at(-1)!)}, consume ${fmtRate(consumeRuns.at(-1)!)}`);
      }
      compressionOutcomes[codec] = {
        produce_records_s: Math.round(Math.max(...produceRuns)),
        consume_records_s: Math.round(Math.max(...consumeRuns)),
        batch_ratio: round(records256k.length / compress(supportedCompressionType(codec), records256k).length, 2),
        produce_runs_records_s: produceRuns.map(Math.round),
        consume_runs_records_s: consumeRuns.map(Math.round),
      };
    } catch (error) {
      compressionOutcomes[codec] = { failed: error instanceof Error ? (error.stack ?? error.message) : String(error) };
    } finally {
      await session.close();
    }
  }
  const compressionRows = [['codec', 'produce', 'consume', 'batch ratio']];
  for (const codec of codecs) {
    const outcome = compressionOutcomes[codec]!;
    if ('failed' in outcome) compressionRows.push([codec, `failed: ${outcome.failed.split('\n')[0]}`, '', '']);
    else compressionRows.push([codec, fmtRate(outcome.produce_records_s), fmtRate(outcome.consume_records_s), `${outcome.batch_ratio}`]);
  }
  printTable(`Rill by batch compression: ${records.toLocaleString('en')} distinct JSON-like records of ${VALUE_BYTES} bytes, best of ${repeat}`, compressionRows);
}

console.log('');
console.log(
  JSON.stringify({
    bench: 'client',
    runtime: runtimeName(),
    records,
    value_bytes: VALUE_BYTES,
    repeat,
    latency_rate_per_s: latencyOptions.rate,
    latency_seconds: latencyOptions.seconds,
    latency_warmup_seconds: latencyOptions.warmupSeconds,
    ...outcomes,
    rill_advantage: ratios,
    ...(Object.keys(compressionOutcomes).length === 0 ? {} : { rill_compression: compressionOutcomes }),
  }),
);
if (!isFigures(rill) && selected.includes('rill')) process.exitCode = 1;
