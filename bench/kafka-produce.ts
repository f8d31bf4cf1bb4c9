/**
 * Kafka wire benchmark against the broker as a separate process: a producer sends pre-built
 * batches of 100-byte records over loopback with acks=-1 (fsync before acknowledgement), several
 * requests in flight per connection over several connections, then a fetcher reads everything
 * back, counting records from batch headers only. Reports records/s, MB/s and the broker
 * process's resident memory (from /proc/<pid>/status, not this process's).
 *
 *   node dist/bench/kafka-produce.js [--records 10000000] [--partitions 8] [--connections 4]
 *        [--in-flight 4] [--request-kib 1024] [--batch-kib 16] [--fetch-mib 4] [--broker-runtime node|bun|deno]
 *        [--broker-cpu-prof DIR]   (Node broker only: writes a .cpuprofile of the broker to DIR)
 *   npx bun bench/kafka-produce.ts    |    npx deno run -A bench/kafka-produce.ts
 *
 * The broker runs on the same runtime as the benchmark unless --broker-runtime says otherwise.
 */
import { Buffer } from 'node:buffer';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FrameSplitter } from '../broker/kafka/frame-splitter.ts';
import { ApiKey, decodeResponse, encodeRequest, type RequestBodies, ZERO_UUID } from '../sdk/protocol/mod.ts';
import { BATCH_LOG_OVERHEAD_BYTES, readBatchHeader, RecordBatchBuilder } from '../sdk/record/mod.ts';
import { printTable, runtimeName } from './report.ts';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '10000000' },
    partitions: { type: 'string', default: '8' },
    connections: { type: 'string', default: '4' },
    'in-flight': { type: 'string', default: '4' },
    'request-kib': { type: 'string', default: '1024' },
    'batch-kib': { type: 'string', default: '16' },
    'fetch-mib': { type: 'string', default: '4' },
    'broker-runtime': { type: 'string' },
    'broker-cpu-prof': { type: 'string' },
  },
});
const recordsTarget = Number(values.records);
const partitionCount = Number(values.partitions);
const connectionCount = Math.min(Number(values.connections), partitionCount);
const inFlight = Number(values['in-flight']);
const requestBytes = Number(values['request-kib']) * 1024;
const batchBytes = Number(values['batch-kib']) * 1024;
const fetchMaxBytes = Number(values['fetch-mib']) * 1024 * 1024;
const RECORD_VALUE_BYTES = 100;
const TOPIC = 'bench';
const PRODUCE_VERSION = 7;
const FETCH_VERSION = 11;
/** Offset of the correlation id in a size-prefixed request frame: size(4), api key(2), api version(2). */
const CORRELATION_ID_AT = 8;

type Runtime = 'node' | 'bun' | 'deno';

function currentRuntime(): Runtime {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  return g.Bun !== undefined ? 'bun' : g.Deno !== undefined ? 'deno' : 'node';
}

/** The broker's command line: Node runs the compiled dist/, Bun and Deno run the sources. */
function brokerCommand(runtime: Runtime, dataDir: string, cpuProfDir: string | undefined): [string, string[]] {
  const compiled = import.meta.url.endsWith('.js');
  const root = fileURLToPath(new URL(compiled ? '../../' : '../', import.meta.url));
  const args = ['start', '--data-dir', dataDir, '--host', '127.0.0.1', '--kafka-port', '0', '--http-port', '0'];
  const runtimeBin = (name: string): string => (currentRuntime() === name ? process.execPath : join(root, 'node_modules', '.bin', name));
  switch (runtime) {
    case 'node':
      return [
        currentRuntime() === 'node' ? process.execPath : 'node',
        [...(cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`]), join(root, 'dist', 'broker', 'cli', 'main.js'), ...args],
      ];
    case 'bun':
      return [runtimeBin('bun'), [join(root, 'broker', 'cli', 'main.ts'), ...args]];
    case 'deno':
      return [runtimeBin('deno'), ['run', '-A', '--no-lock', join(root, 'broker', 'cli', 'main.ts'), ...args]];
  }
}

interface BrokerChild {
  child: ChildProcess;
  port: number;
  stderr: () => string;
}

async function startBroker(runtime: Runtime, dataDir: string, cpuProfDir: string | undefined): Promise<BrokerChild> {
  const [command, args] = brokerCommand(runtime, dataDir, cpuProfDir);
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Uint8Array) => (stderr += new TextDecoder().decode(d)));
  const port = await new Promise<number>((resolve, reject) => {
    let stdout = '';
    child.stdout!.on('data', (d: Uint8Array) => {
      stdout += new TextDecoder().decode(d);
      const listening = /kafka listening on \S+:(\d+)/.exec(stdout);
      if (listening !== null && /broker ready/.test(stdout)) resolve(Number(listening[1]));
    });
    child.once('exit', (code) => reject(new Error(`broker exited with ${code} before it was ready: ${stdout}${stderr}`)));
  });
  return { child, port, stderr: () => stderr };
}

/** Samples another process's VmRSS (Linux /proc) on a timer and keeps the maximum. */
class ProcessRssSampler {
  private timer: ReturnType<typeof setInterval> | undefined;
  maxBytes = 0;

  constructor(private readonly pid: number) {}

  start(intervalMs = 25): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  sample(): number {
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'))?.[1];
    const bytes = Number(kb ?? 0) * 1024;
    this.maxBytes = Math.max(this.maxBytes, bytes);
    return bytes;
  }

  get maxMb(): number {
    return this.maxBytes / 1e6;
  }
}

/** A connection with pipelined requests: responses are matched to requests in order (Kafka's guarantee). */
class Pipeline {
  private readonly splitter = new FrameSplitter(1024 * 1024 * 1024);
  private readonly waiting: { correlationId: number; resolve: (frame: Uint8Array) => void; reject: (e: Error) => void }[] = [];
  private nextCorrelationId = 1;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Uint8Array) => {
      for (const frame of this.splitter.push(chunk)) {
        const waiter = this.waiting.shift();
        if (waiter === undefined) throw new Error('invariant: a response arrived with no request waiting');
        const correlationId = new DataView(frame.buffer, frame.byteOffset).getInt32(0);
        if (correlationId !== waiter.correlationId) waiter.reject(new Error(`correlation id ${correlationId} answered ${waiter.correlationId}`));
        else waiter.resolve(frame);
      }
    });
    const fail = (error: Error): void => {
      for (const waiter of this.waiting.splice(0)) waiter.reject(error);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('the broker closed the connection')));
  }

  static open(port: number): Promise<Pipeline> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1', noDelay: true }, () => {
        socket.off('error', reject);
        resolve(new Pipeline(socket));
      });
      socket.once('error', reject);
    });
  }

  /** Sends a size-prefixed request after patching its correlation id in place; resolves with the response frame. */
  send(prefixedFrame: Uint8Array): Promise<Uint8Array> {
    const correlationId = this.nextCorrelationId++;
    new DataView(prefixedFrame.buffer, prefixedFrame.byteOffset).setInt32(CORRELATION_ID_AT, correlationId);
    const response = new Promise<Uint8Array>((resolve, reject) => this.waiting.push({ correlationId, resolve, reject }));
    this.socket.write(prefixedFrame);
    return response;
  }

  close(): void {
    this.socket.destroy();
  }
}

function sizePrefixed(frame: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + frame.length);
  new DataView(out.buffer).setInt32(0, frame.length);
  out.set(frame, 4);
  return out;
}

/** One RecordBatch of 100-byte records, as close to `targetBytes` as it fits. */
function buildBatch(targetBytes: number): { bytes: Uint8Array; records: number } {
  const builder = new RecordBatchBuilder({});
  const value = new Uint8Array(RECORD_VALUE_BYTES);
  let records = 0;
  while (builder.sizeEstimate + RECORD_VALUE_BYTES + 16 < targetBytes) {
    value.fill(records & 0xff);
    builder.append({ key: null, value, headers: [], timestamp: 1_700_000_000_000 + records });
    records++;
  }
  return { bytes: builder.seal(), records };
}

async function request<K extends ApiKey>(pipeline: Pipeline, apiKey: K, version: number, body: RequestBodies[K]) {
  const frame = sizePrefixed(encodeRequest(apiKey, version, { correlationId: 0, clientId: 'bench' }, body));
  return decodeResponse(apiKey, version, (await pipeline.send(frame)).slice()).body;
}

const runtime = (values['broker-runtime'] as Runtime | undefined) ?? currentRuntime();
const dataDir = mkdtempSync(join(tmpdir(), 'rill-bench-kafka-'));
const broker = await startBroker(runtime, dataDir, values['broker-cpu-prof']);
const rss = new ProcessRssSampler(broker.child.pid!);
rss.start();
try {
  const admin = await Pipeline.open(broker.port);
  const created = await request(admin, ApiKey.CreateTopics, 4, {
    topics: [{ name: TOPIC, numPartitions: partitionCount, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 30_000,
    validateOnly: false,
  });
  if (created.topics[0]!.errorCode !== 0) throw new Error(`CreateTopics failed with error ${created.topics[0]!.errorCode}`);
  const rssIdleMb = rss.sample() / 1e6;

  // Each connection owns a fixed set of partitions; each of its requests carries ~requestBytes of
  // batches spread over them. One pre-encoded frame per in-flight slot: a frame is reused only
  // after its response arrived, so patching its correlation id never touches bytes still queued.
  const batch = buildBatch(batchBytes);
  const partitionsOf = Array.from({ length: connectionCount }, (_, c) =>
    Array.from({ length: partitionCount }, (_, p) => p).filter((p) => p % connectionCount === c),
  );
  const batchesPerPartition = partitionsOf.map((ps) => Math.max(1, Math.round(requestBytes / batch.bytes.length / ps.length)));
  const recordsPerRequest = partitionsOf.map((ps, c) => ps.length * batchesPerPartition[c]! * batch.records);
  const requestsPerConnection = Math.ceil(recordsTarget / recordsPerRequest.reduce((a, b) => a + b, 0));
  const frameOf = (c: number): Uint8Array => {
    const records = Buffer.concat(Array.from({ length: batchesPerPartition[c]! }, () => batch.bytes));
    return sizePrefixed(
      encodeRequest(ApiKey.Produce, PRODUCE_VERSION, { correlationId: 0, clientId: 'bench' }, {
        transactionalId: null,
        acks: -1,
        timeoutMs: 30_000,
        topicData: [{ name: TOPIC, partitionData: partitionsOf[c]!.map((index) => ({ index, records })) }],
      }),
    );
  };

  let producedRecords = 0;
  let producedBytes = 0;
  const producer = async (c: number): Promise<void> => {
    const pipeline = await Pipeline.open(broker.port);
    const slots = Array.from({ length: inFlight }, () => frameOf(c));
    let sent = 0;
    const lane = async (slot: Uint8Array): Promise<void> => {
      while (sent < requestsPerConnection) {
        sent++;
        const response = decodeResponse(ApiKey.Produce, PRODUCE_VERSION, await pipeline.send(slot)).body;
        for (const topic of response.responses) {
          for (const p of topic.partitionResponses) {
            if (p.errorCode !== 0) throw new Error(`produce to ${topic.name}-${p.index} failed with error ${p.errorCode}: ${p.errorMessage}`);
          }
        }
        producedRecords += recordsPerRequest[c]!;
        producedBytes += slot.length;
      }
    };
    await Promise.all(slots.map(lane));
    pipeline.close();
  };
  const produceStart = performance.now();
  await Promise.all(partitionsOf.map((_, c) => producer(c)));
  const produceSeconds = (performance.now() - produceStart) / 1000;
  const rssProduceMb = rss.maxMb;

  // One connection per partition, each walking its partition with large fetches.
  let fetchedRecords = 0;
  let fetchedBytes = 0;
  let fetchedBatches = 0;
  const fetcher = async (partition: number): Promise<void> => {
    const pipeline = await Pipeline.open(broker.port);
    let fetchOffset = 0;
    for (;;) {
      const frame = sizePrefixed(
        encodeRequest(ApiKey.Fetch, FETCH_VERSION, { correlationId: 0, clientId: 'bench' }, {
          clusterId: null,
          replicaId: -1,
          replicaState: { replicaId: -1, replicaEpoch: -1n },
          maxWaitMs: 0,
          minBytes: 0,
          maxBytes: fetchMaxBytes,
          isolationLevel: 0,
          sessionId: 0,
          sessionEpoch: -1,
          topics: [
            {
              topic: TOPIC,
              topicId: ZERO_UUID,
              partitions: [
                {
                  partition,
                  currentLeaderEpoch: -1,
                  fetchOffset: BigInt(fetchOffset),
                  lastFetchedEpoch: -1,
                  logStartOffset: -1n,
                  partitionMaxBytes: fetchMaxBytes,
                  replicaDirectoryId: ZERO_UUID,
                },
              ],
            },
          ],
          forgottenTopicsData: [],
          rackId: '',
        }),
      );
      const response = decodeResponse(ApiKey.Fetch, FETCH_VERSION, await pipeline.send(frame)).body;
      const data = response.responses[0]!.partitions[0]!;
      if (data.errorCode !== 0) throw new Error(`fetch from ${TOPIC}-${partition} failed with error ${data.errorCode}`);
      const records = data.records;
      if (records === null || records.length === 0) break;
      fetchedBytes += records.length;
      for (let at = 0; at + 61 <= records.length; ) {
        const header = readBatchHeader(records, at);
        if (at + header.batchLength + BATCH_LOG_OVERHEAD_BYTES > records.length) break;
        fetchedRecords += header.recordsCount;
        fetchedBatches++;
        fetchOffset = header.baseOffset + header.lastOffsetDelta + 1;
        at += header.batchLength + BATCH_LOG_OVERHEAD_BYTES;
      }
      if (BigInt(fetchOffset) >= data.highWatermark) break;
    }
    pipeline.close();
  };
  const fetchStart = performance.now();
  await Promise.all(Array.from({ length: partitionCount }, (_, p) => fetcher(p)));
  const fetchSeconds = (performance.now() - fetchStart) / 1000;
  admin.close();
  rss.stop();
  rss.sample();

  const figures = {
    bench: 'kafka-produce',
    runtime: runtimeName(),
    broker_runtime: runtime,
    partitions: partitionCount,
    connections: connectionCount,
    in_flight_per_connection: inFlight,
    request_bytes: frameOf(0).length,
    batch_bytes: batch.bytes.length,
    records_per_batch: batch.records,
    record_value_bytes: RECORD_VALUE_BYTES,
    produced_records: producedRecords,
    produce_records_s: Math.round(producedRecords / produceSeconds),
    produce_mb_s: +(producedBytes / 1e6 / produceSeconds).toFixed(1),
    produce_seconds: +produceSeconds.toFixed(2),
    fetched_records: fetchedRecords,
    fetched_match: fetchedRecords === producedRecords,
    fetch_records_s: Math.round(fetchedRecords / fetchSeconds),
    fetch_mb_s: +(fetchedBytes / 1e6 / fetchSeconds).toFixed(1),
    fetch_seconds: +fetchSeconds.toFixed(2),
    fetch_max_bytes: fetchMaxBytes,
    broker_rss_idle_mb: +rssIdleMb.toFixed(1),
    broker_rss_max_mb_produce: +rssProduceMb.toFixed(1),
    broker_rss_max_mb: +rss.maxMb.toFixed(1),
  };
  printTable('kafka produce/fetch benchmark (broker as a separate process, loopback)', [
    ['produce (acks=-1, fsync)', `${figures.produce_records_s.toLocaleString('en')} records/s`, `${figures.produce_mb_s} MB/s`, `${producedRecords.toLocaleString('en')} records in ${figures.produce_seconds} s`],
    ['fetch (batch headers only)', `${figures.fetch_records_s.toLocaleString('en')} records/s`, `${figures.fetch_mb_s} MB/s`, `${fetchedRecords.toLocaleString('en')} records in ${figures.fetch_seconds} s`],
    ['records fetched == produced', String(figures.fetched_match), '', ''],
    ['broker resident memory, max', `${figures.broker_rss_max_mb} MB`, `${figures.broker_rss_max_mb_produce} MB during produce`, `${figures.broker_rss_idle_mb} MB idle`],
    ['shape', `${partitionCount} partitions`, `${connectionCount} conns x ${inFlight} in flight`, `${(figures.request_bytes / 1024).toFixed(0)} KiB requests of ${batch.records}-record batches`],
  ]);
  console.log(JSON.stringify(figures));
  if (!figures.fetched_match) process.exitCode = 1;
} catch (error) {
  console.error(`broker stderr:\n${broker.stderr()}`);
  throw error;
} finally {
  rss.stop();
  // SIGTERM: a clean shutdown, which also lets a CPU profile be written.
  const exited = new Promise((resolve) => broker.child.once('close', resolve));
  broker.child.kill('SIGTERM');
  await exited;
  rmSync(dataDir, { recursive: true, force: true });
}
