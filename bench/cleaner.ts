/**
 * Log cleaner benchmark through the broker object: fills a compacted topic with `--mb` of keyed
 * records (100-byte values over `--keys` keys, 16 KiB batches, gzip with `--gzip`), then measures
 * produce latency (small acks=all appends to another topic from `--producers` concurrent
 * producers) and event-loop lag (how late a 1 ms timer fires) first with the cleaner idle, then while one cleaner pass compacts the topic, and
 * reports the pass's throughput. `--throttle-mb` sets log.cleaner.io.max.bytes.per.second.
 *
 *   node dist/bench/cleaner.js [--mb 256] [--keys 100000] [--producers 4] [--gzip] [--throttle-mb 0]
 *   bun bench/cleaner.ts    |    deno run -A bench/cleaner.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Acks, Broker } from '../broker/mod.ts';
import { RecordBatchBuilder } from '../sdk/mod.ts';
import { printTable, runtimeName } from './report.ts';
import { RssSampler } from './rss-sampler.ts';
import { percentile } from './peers/latency.ts';

const { values } = parseArgs({
  options: {
    mb: { type: 'string', default: '256' },
    keys: { type: 'string', default: '100000' },
    producers: { type: 'string', default: '4' },
    gzip: { type: 'boolean', default: false },
    'throttle-mb': { type: 'string', default: '0' },
    'idle-seconds': { type: 'string', default: '3' },
    dir: { type: 'string' },
  },
});
const totalBytesTarget = Number(values.mb) * 1024 * 1024;
const keySpace = Number(values.keys);
const producers = Number(values.producers);
const throttleMb = Number(values['throttle-mb']);
const idleSeconds = Number(values['idle-seconds']);
const VALUE_BYTES = 100;
const BATCH_TARGET_BYTES = 16 * 1024;
const encoder = new TextEncoder();

let nextKey = 0;

/** A batch of records whose keys go round the key space in order, so every key has about as many versions. */
function keyedBatch(): { bytes: Uint8Array; records: number } {
  const builder = new RecordBatchBuilder({ compression: values.gzip ? 'gzip' : 'none' });
  const value = new Uint8Array(VALUE_BYTES);
  let n = 0;
  while (builder.sizeEstimate + VALUE_BYTES + 32 < BATCH_TARGET_BYTES) {
    const key = nextKey++ % keySpace;
    value.fill(key & 0xff);
    builder.append({ key: encoder.encode(`key-${key}`), value, timestamp: 1_700_000_000_000 + n });
    n++;
  }
  return { bytes: builder.seal(), records: n };
}

/** acks=all appends of one small batch from `producers` concurrent producers until `done` resolves; latencies in ms. */
async function produceLatencies(broker: Broker, done: Promise<unknown>): Promise<number[]> {
  const latencies: number[] = [];
  let finished = false;
  void done.then(() => (finished = true));
  const small = new RecordBatchBuilder({});
  small.append({ key: encoder.encode('probe'), value: new Uint8Array(200), timestamp: 1_700_000_000_000 });
  const bytes = small.seal();
  const producer = async (): Promise<void> => {
    while (!finished) {
      const start = performance.now();
      await broker.append('latency', 0, bytes.slice(), Acks.all);
      latencies.push(performance.now() - start);
    }
  };
  await Promise.all(Array.from({ length: producers }, producer));
  return latencies.sort((a, b) => a - b);
}

/** How late 1 ms timers fire until `done` resolves, in ms, sorted: what the cleaner costs every other task on the thread. */
async function eventLoopLags(done: Promise<unknown>): Promise<number[]> {
  const lags: number[] = [];
  let finished = false;
  void done.then(() => (finished = true));
  while (!finished) {
    const start = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 1));
    lags.push(Math.max(0, performance.now() - start - 1));
  }
  return lags.sort((a, b) => a - b);
}

const dataDir = values.dir ?? mkdtempSync(join(tmpdir(), 'rill-bench-cleaner-'));
const rss = new RssSampler();
rss.start();
const broker = await Broker.open({
  config: { dataDir, cleanerEnable: false, cleanerIoMaxBytesPerSecond: throttleMb > 0 ? throttleMb * 1024 * 1024 : Number.POSITIVE_INFINITY },
});
try {
  await broker.createTopic('compacted', { config: { 'cleanup.policy': 'compact', 'segment.bytes': String(64 * 1024 * 1024) } });
  await broker.createTopic('latency', { config: { 'retention.bytes': String(64 * 1024 * 1024) } });
  let filled = 0;
  let records = 0;
  while (filled < totalBytesTarget) {
    const batch = keyedBatch();
    await broker.append('compacted', 0, batch.bytes, Acks.leader);
    filled += batch.bytes.byteLength;
    records += batch.records;
  }
  // One record more in a fresh segment, so everything before it is sealed and cleanable.
  await broker.alterTopicConfig('compacted', { 'segment.ms': '1' });
  await new Promise((resolve) => setTimeout(resolve, 5));
  await broker.append('compacted', 0, keyedBatch().bytes, Acks.all);
  await broker.alterTopicConfig('compacted', { 'segment.ms': null });

  const idleDone = new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
  const [idle, idleLags] = await Promise.all([produceLatencies(broker, idleDone), eventLoopLags(idleDone)]);
  const passStart = performance.now();
  const pass = broker.logCleaner.runRound();
  const [busy, busyLags] = await Promise.all([produceLatencies(broker, pass), eventLoopLags(pass)]);
  const cleaned = await pass;
  const passSeconds = (performance.now() - passStart) / 1000;
  const status = broker.describeTopic('compacted').partitions[0]!.cleaner!;
  if (cleaned === undefined || status.lastPass === null) throw new Error(`the cleaner did not clean the topic: ${JSON.stringify(status)}`);
  const last = status.lastPass;

  const figures = {
    bench: 'cleaner',
    runtime: runtimeName(),
    dirty_mb: +(filled / 1e6).toFixed(1),
    dirty_records: records,
    keys: keySpace,
    gzip: values.gzip,
    throttle_mb_s: throttleMb > 0 ? throttleMb : null,
    pass_seconds: +passSeconds.toFixed(2),
    clean_read_mb_s: +(last.bytesRead / 1e6 / passSeconds).toFixed(1),
    clean_written_mb: +(last.bytesWritten / 1e6).toFixed(1),
    records_removed: last.recordsRemoved,
    records_read: last.recordsRead,
    produce_idle_count: idle.length,
    produce_idle_p50_ms: +percentile(idle, 0.5).toFixed(2),
    produce_idle_p99_ms: +percentile(idle, 0.99).toFixed(2),
    produce_cleaning_count: busy.length,
    produce_cleaning_p50_ms: +percentile(busy, 0.5).toFixed(2),
    produce_cleaning_p99_ms: +percentile(busy, 0.99).toFixed(2),
    produce_cleaning_max_ms: +(busy.at(-1) ?? 0).toFixed(2),
    loop_lag_idle_p99_ms: +percentile(idleLags, 0.99).toFixed(2),
    loop_lag_cleaning_p50_ms: +percentile(busyLags, 0.5).toFixed(2),
    loop_lag_cleaning_p99_ms: +percentile(busyLags, 0.99).toFixed(2),
    loop_lag_cleaning_max_ms: +(busyLags.at(-1) ?? 0).toFixed(2),
    rss_max_mb: +rss.maxMb.toFixed(1),
  };
  printTable('log cleaner benchmark', [
    ['dirty log', `${figures.dirty_mb} MB`, `${figures.dirty_records.toLocaleString('en')} records over ${keySpace.toLocaleString('en')} keys${values.gzip ? ', gzip' : ''}`],
    ['cleaner pass', `${figures.clean_read_mb_s} MB/s read`, `${figures.pass_seconds} s, ${figures.clean_written_mb} MB written, ${figures.records_removed.toLocaleString('en')} records removed`],
    ['produce, cleaner idle', `p50 ${figures.produce_idle_p50_ms} ms`, `p99 ${figures.produce_idle_p99_ms} ms (${figures.produce_idle_count} appends)`],
    ['produce, cleaner running', `p50 ${figures.produce_cleaning_p50_ms} ms`, `p99 ${figures.produce_cleaning_p99_ms} ms, max ${figures.produce_cleaning_max_ms} ms (${figures.produce_cleaning_count} appends)`],
    ['event loop lag, idle', `p99 ${figures.loop_lag_idle_p99_ms} ms`, ''],
    ['event loop lag, cleaning', `p50 ${figures.loop_lag_cleaning_p50_ms} ms`, `p99 ${figures.loop_lag_cleaning_p99_ms} ms, max ${figures.loop_lag_cleaning_max_ms} ms`],
    ['resident memory, max', `${figures.rss_max_mb} MB`, ''],
  ]);
  console.log(JSON.stringify(figures));
} finally {
  await broker.close();
  rss.stop();
  if (values.dir === undefined) rmSync(dataDir, { recursive: true, force: true });
}
