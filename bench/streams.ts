/**
 * Stream jobs side by side against the same broker, under exactly-once, each reading the same
 * input topic from the start under its own group:
 *   rill stateless   filter + mapValues, to an output topic (Rill's StreamsApp)
 *   rill stateful    groupByKey + count, changelogged store, toStream to an output topic
 *   rill windowed    groupByKey + tumbling windows of 1 s + count, changelogged window store, toStream
 *   rill windowed-final  the same, suppressed until each window closes (not run by default)
 *   rill join        stream-table join: each input record looks up its key in a table read from
 *                    a co-partitioned topic of --keys rows (changelogged store), to an output topic
 *   kafkajs loop     kafkajs 2.2.4, eachBatch, one transaction per batch with sendOffsets
 *   librdkafka loop  python3-confluent-kafka, one transaction per polled batch (when installed)
 * A job's rate is the input records over the time from its start until its group's committed
 * offsets reach the input's end (polled every 20 ms).
 * Beside it, records per CPU-second of the bench process over the same span (the embedded broker
 * and the in-process jobs; not the librdkafka loop's own process): steadier than the wall-clock
 * rate when the machine is shared.
 *
 * Two setups: `embedded` (the broker in this process: Rill's jobs over the embedded transport, the
 * Kafka clients over a TCP listener of the same broker) and `tcp` (a broker process: everyone over
 * TCP). Prints a table per setup and one JSON line with every figure.
 *
 *   npm run build && node dist/bench/streams.js [--records 1000000] [--keys 10000] [--partitions 4]
 *        [--value-bytes 100] [--setups embedded,tcp] [--jobs stateless,stateful,windowed,join,kafkajs,librdkafka]
 *        [--commit-interval-ms 100] [--cpu-profile DIR] [--repeat 1]
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { Broker, EmbeddedTransport } from '../broker/mod.ts';
import { KafkaListener } from '../broker/kafka/kafka-listener.ts';
import { Admin, Producer, stringSerde, TcpTransport, type Transport } from '../sdk/mod.ts';
import { BufferConfig, StreamsApp, StreamsBuilder, Suppressed, TimeWindows } from '../streams/mod.ts';
import { printTable, runtimeName } from './report.ts';
import { percentile } from './peers/latency.ts';
import { startRillBroker } from './peers/rill-broker-process.ts';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    keys: { type: 'string', default: '10000' },
    partitions: { type: 'string', default: '4' },
    'value-bytes': { type: 'string', default: '100' },
    setups: { type: 'string', default: 'embedded,tcp' },
    jobs: { type: 'string', default: 'stateless,stateful,windowed,join,kafkajs,librdkafka' },
    'commit-interval-ms': { type: 'string', default: '100' },
    'cpu-profile': { type: 'string' },
    repeat: { type: 'string', default: '1' },
  },
});
const RECORDS = Number(values.records);
const KEYS = Number(values.keys);
const PARTITIONS = Number(values.partitions);
const VALUE_BYTES = Number(values['value-bytes']);
const SETUPS = values.setups.split(',');
const JOBS = values.jobs.split(',');
const COMMIT_INTERVAL_MS = Number(values['commit-interval-ms']);
/** Each job runs this many times (a fresh group and state each time); the best rate is reported, as the machine is shared. */
const REPEAT = Number(values.repeat);
const INPUT = 'bench-in';
const ROOT = fileURLToPath(new URL(import.meta.url.endsWith('.js') ? '../../' : '../', import.meta.url));

interface Setup {
  name: string;
  /** What Rill's jobs use. */
  transport: Transport;
  /** Where the Kafka clients connect. */
  bootstrap: string;
  close(): Promise<void>;
}

async function embeddedSetup(dir: string): Promise<Setup> {
  const broker = await Broker.open({ config: { dataDir: join(dir, 'broker') }, groups: { initialRebalanceDelayMs: 0 } });
  const listener = await KafkaListener.start(broker, { host: '127.0.0.1', port: 0 });
  const transport = new EmbeddedTransport(broker);
  return {
    name: 'embedded',
    transport,
    bootstrap: `127.0.0.1:${listener.port}`,
    async close() {
      await transport.close();
      await listener.close();
      await broker.close();
    },
  };
}

async function tcpSetup(dir: string): Promise<Setup> {
  const { server, bootstrap } = await startRillBroker(join(dir, 'broker'));
  const transport = new TcpTransport({ bootstrapServers: [bootstrap] });
  return {
    name: 'tcp',
    transport,
    bootstrap,
    async close() {
      await transport.close();
      await server.stop();
    },
  };
}

async function seed(setup: Setup): Promise<void> {
  const admin = new Admin(setup.transport);
  await admin.createTopics([{ name: INPUT, numPartitions: PARTITIONS }]);
  const producer = new Producer(setup.transport, { keySerde: stringSerde, valueSerde: stringSerde, lingerMs: 5 });
  const value = 'v'.repeat(VALUE_BYTES);
  for (let from = 0; from < RECORDS; from += 50_000) {
    await producer.sendBatch(Array.from({ length: Math.min(50_000, RECORDS - from) }, (_, i) => ({ topic: INPUT, key: `k${(from + i) % KEYS}`, value })));
  }
  await producer.close();
}

/** Resolves once `group` has committed the input's end on every partition; polls its lag. */
async function untilCaughtUp(admin: Admin, group: string): Promise<void> {
  for (;;) {
    const lag = await admin.groupLag(group, [INPUT]).catch(() => undefined);
    if (lag !== undefined && lag.length === PARTITIONS && lag.every((p) => p.committedOffset >= 0 && p.lag === 0)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** With --cpu-profile DIR (Node), the timed part of each job is profiled into DIR/<group>.cpuprofile. */
async function profiled<T>(group: string, work: () => Promise<T>): Promise<T> {
  const dir = values['cpu-profile'];
  if (dir === undefined) return work();
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await work();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(join(dir, `${group}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
}

/** A job run's rate, and its rate per second of this process's CPU time (user + system, every thread). */
interface Rates {
  recordsPerS: number;
  recordsPerCpuS: number;
}

/**
 * Runs a job and returns records/s, measured from `start` until its group caught up. Also per
 * CPU-second of this process (the embedded setup's broker included): on a shared machine the wall
 * clock rate follows the load of others, the CPU cost of a record much less.
 */
async function timed(setup: Setup, group: string, start: () => Promise<() => Promise<void>>): Promise<Rates> {
  const admin = new Admin(setup.transport);
  const startedMs = performance.now();
  const cpuBefore = process.cpuUsage();
  const stop = await profiled(group, async () => {
    const stopJob = await start();
    await untilCaughtUp(admin, group);
    return stopJob;
  });
  const elapsedMs = performance.now() - startedMs;
  const cpu = process.cpuUsage(cpuBefore);
  await stop();
  return { recordsPerS: RECORDS / (elapsedMs / 1000), recordsPerCpuS: RECORDS / ((cpu.user + cpu.system) / 1e6) };
}

type RillJob = 'stateless' | 'stateful' | 'windowed' | 'windowed-final';
const rillJobs: readonly string[] = ['stateless', 'stateful', 'windowed', 'windowed-final'] satisfies readonly RillJob[];

async function rillJob(setup: Setup, kind: RillJob, stateDir: string, run: number): Promise<Rates> {
  const builder = new StreamsBuilder();
  const input = builder.stream(INPUT, { key: stringSerde, value: stringSerde });
  if (kind === 'stateless') {
    input
      .filter((_k, v) => v.length > 0)
      .mapValues((v) => v.toUpperCase(), { value: stringSerde })
      .to(`out-stateless-${setup.name}-${run}`);
  } else if (kind === 'stateful') {
    input
      .groupByKey()
      .count({ name: 'counts' })
      .toStream()
      .mapValues((n) => String(n), { value: stringSerde })
      .to(`out-stateful-${setup.name}-${run}`);
  } else {
    // The input's timestamps are the seeding's wall clock: each key gets a window per second of it.
    const counts = input.groupByKey().windowedBy(TimeWindows.ofSizeWithNoGrace(1_000)).count({ name: 'window-counts' });
    const changes = kind === 'windowed' ? counts : counts.suppress(Suppressed.untilWindowCloses(BufferConfig.unbounded(), { name: 'window-finals' }));
    changes
      .toStream()
      .mapValues((n) => String(n), { value: stringSerde })
      .to(`out-${kind}-${setup.name}-${run}`);
  }
  const applicationId = `bench-${kind}-${setup.name}-${run}`;
  const admin = new Admin(setup.transport);
  await admin.createTopics([{ name: `out-${kind}-${setup.name}-${run}`, numPartitions: PARTITIONS }]);
  return timed(setup, applicationId, async () => {
    const app = new StreamsApp(builder.build(), { applicationId, transport: setup.transport, stateDir, commitIntervalMs: COMMIT_INTERVAL_MS });
    await app.start();
    return async () => {
      const m = app.metrics();
      console.log(`${applicationId}: ${m.commits} commits (last ${m.lastCommitLatencyMs} ms, max ${m.maxCommitLatencyMs} ms), ${m.rebalances} rebalances`);
      await app.close();
    };
  });
}

/** The table the join job looks up: one row per input key, in a topic co-partitioned with the input. */
const JOIN_TABLE = 'bench-join-table';

async function rillJoinJob(setup: Setup, stateDir: string, run: number): Promise<Rates> {
  const admin = new Admin(setup.transport);
  if (!(await admin.listTopics()).includes(JOIN_TABLE)) {
    await admin.createTopics([{ name: JOIN_TABLE, numPartitions: PARTITIONS }]);
    const producer = new Producer(setup.transport, { keySerde: stringSerde, valueSerde: stringSerde, lingerMs: 5 });
    // Timestamp 0: the join task takes its inputs in timestamp order, so the rows come before every input record.
    await producer.sendBatch(Array.from({ length: KEYS }, (_, i) => ({ topic: JOIN_TABLE, key: `k${i}`, value: `row-${i}`, timestamp: 0 })));
    await producer.close();
  }
  const output = `out-join-${setup.name}-${run}`;
  await admin.createTopics([{ name: output, numPartitions: PARTITIONS }]);
  const builder = new StreamsBuilder();
  const table = builder.table(JOIN_TABLE, { key: stringSerde, value: stringSerde, name: 'rows' });
  builder
    .stream(INPUT, { key: stringSerde, value: stringSerde })
    .join(
      table,
      (v, row) => {
        joined++;
        return `${row}:${v}`;
      },
      { value: stringSerde },
    )
    .to(output);
  let joined = 0;
  const applicationId = `bench-join-${setup.name}-${run}`;
  const rate = await timed(setup, applicationId, async () => {
    const app = new StreamsApp(builder.build(), { applicationId, transport: setup.transport, stateDir, commitIntervalMs: COMMIT_INTERVAL_MS });
    await app.start();
    return async () => {
      const m = app.metrics();
      console.log(`${applicationId}: ${m.commits} commits (last ${m.lastCommitLatencyMs} ms, max ${m.maxCommitLatencyMs} ms), ${m.rebalances} rebalances`);
      await app.close();
    };
  });
  if (joined !== RECORDS) throw new Error(`the join job joined ${joined} of ${RECORDS} records: some found no table row`);
  return rate;
}

async function kafkajsLoop(setup: Setup, run: number): Promise<Rates> {
  const group = `bench-kafkajs-${setup.name}-${run}`;
  const output = `out-kafkajs-${setup.name}-${run}`;
  const kafka = new Kafka({ clientId: 'bench-kafkajs', brokers: [setup.bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: output, numPartitions: PARTITIONS }] });
  await admin.disconnect();
  return timed(setup, group, async () => {
    const consumer = kafka.consumer({ groupId: group, readUncommitted: false, maxWaitTimeInMs: 100 });
    const producer = kafka.producer({ transactionalId: `${group}-tx`, idempotent: true, maxInFlightRequests: 1 });
    await Promise.all([consumer.connect(), producer.connect()]);
    await consumer.subscribe({ topic: INPUT, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset }) => {
        if (batch.messages.length === 0) return;
        const txn = await producer.transaction();
        await txn.send({ topic: output, messages: batch.messages.map((m) => ({ key: m.key, value: m.value!.toString().toUpperCase() })) });
        const next = String(Number(batch.lastOffset()) + 1);
        await txn.sendOffsets({ consumerGroupId: group, topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }] });
        await txn.commit();
        resolveOffset(batch.lastOffset());
      },
    });
    return async () => {
      await consumer.disconnect();
      await producer.disconnect();
    };
  });
}

function librdkafkaAvailable(): boolean {
  return existsSync('/usr/bin/python3') && spawnSync('/usr/bin/python3', ['-c', 'import confluent_kafka']).status === 0;
}

async function librdkafkaLoop(setup: Setup, run: number): Promise<Rates> {
  const group = `bench-librdkafka-${setup.name}-${run}`;
  const output = `out-librdkafka-${setup.name}-${run}`;
  await new Admin(setup.transport).createTopics([{ name: output, numPartitions: PARTITIONS }]);
  return timed(setup, group, async () => {
    const child = spawn('/usr/bin/python3', [join(ROOT, 'bench', 'peers', 'confluent-ctp.py'), setup.bootstrap, INPUT, output, group, String(RECORDS)], { stdio: 'ignore' });
    // Listened for from the start: the loop exits by itself once it has committed every record,
    // possibly before the bench sees its group caught up.
    const closed = new Promise((resolve) => child.once('close', resolve));
    return async () => {
      child.kill('SIGKILL');
      await closed;
    };
  });
}

function median(values: readonly number[]): number {
  return percentile(Float64Array.from(values).sort(), 0.5);
}

const figures: Record<string, number | string> = { bench: 'streams', runtime: runtimeName(), records: RECORDS, keys: KEYS, partitions: PARTITIONS, value_bytes: VALUE_BYTES };
for (const name of SETUPS) {
  const dir = mkdtempSync(join(tmpdir(), `rill-bench-streams-${name}-`));
  const setup = name === 'embedded' ? await embeddedSetup(dir) : await tcpSetup(dir);
  const rows: string[][] = [['job', 'records/s (best)', 'median', 'runs', 'vs kafkajs (best)', 'records/CPU-s (median)']];
  /** Every run's rate per job: the best is the headline (the machine is shared), the median and the runs show the spread. */
  const rates = new Map<string, number[]>();
  const cpuRates = new Map<string, number[]>();
  try {
    await seed(setup);
    for (const job of JOBS) {
      const runs: number[] = [];
      const cpuRuns: number[] = [];
      for (let run = 0; run < REPEAT; run++) {
        let r: Rates | undefined;
        if (rillJobs.includes(job)) r = await rillJob(setup, job as RillJob, join(dir, `state-${job}-${run}`), run);
        else if (job === 'join') r = await rillJoinJob(setup, join(dir, `state-${job}-${run}`), run);
        else if (job === 'kafkajs') r = await kafkajsLoop(setup, run);
        else if (job === 'librdkafka') r = librdkafkaAvailable() ? await librdkafkaLoop(setup, run) : undefined;
        if (r !== undefined) {
          runs.push(r.recordsPerS);
          cpuRuns.push(r.recordsPerCpuS);
        }
      }
      if (runs.length === 0) {
        rows.push([job, 'unavailable: python3-confluent-kafka is not installed', '', '', '']);
        continue;
      }
      rates.set(job, runs);
      figures[`${name}_${job}_records_s`] = Math.round(Math.max(...runs));
      figures[`${name}_${job}_median_records_s`] = Math.round(median(runs));
      cpuRates.set(job, cpuRuns);
      figures[`${name}_${job}_median_records_per_cpu_s`] = Math.round(median(cpuRuns));
    }
  } finally {
    await setup.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const baseline = rates.get('kafkajs');
  for (const [job, runs] of rates) {
    const best = Math.max(...runs);
    rows.push([
      job,
      Math.round(best).toLocaleString('en'),
      Math.round(median(runs)).toLocaleString('en'),
      runs.map((r) => Math.round(r / 1000) + 'k').join(' '),
      baseline === undefined ? '' : `${(best / Math.max(...baseline)).toFixed(1)}x`,
      Math.round(median(cpuRates.get(job)!)).toLocaleString('en'),
    ]);
  }
  printTable(`streams, ${RECORDS.toLocaleString('en')} records (${VALUE_BYTES} B values, ${KEYS} keys, ${PARTITIONS} partitions), exactly-once, setup ${name}`, rows);
}
console.log(JSON.stringify(figures));
