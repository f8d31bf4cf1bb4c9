import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connectAsync } from 'mqtt';
import { Broker } from '../broker/mod.ts';
import { MqttListener } from '../broker/mqtt/mqtt-listener.ts';
import { percentile } from './peers/latency.ts';
import { publishPipelined } from './peers/mqtt-pipelined-publisher.ts';
import { printTable, runtimeName } from './report.ts';

/**
 * QoS 1 publish throughput and latency: the Rill broker's MQTT listener (PUBACK after fsync,
 * acks=all) against Debian's mosquitto with persistence on (which writes its store periodically,
 * not before PUBACK), side by side, with the same publishers, which run in a child process of
 * their own so the broker under test does not share its event loop with them. `--rounds`
 * alternates the two (both servers stay up) and reports each one's median round: this VM's speed
 * drifts by tens of percent from minute to minute, which one run each cannot tell from a
 * difference between the brokers.
 *
 * Two kinds of publisher (`--publisher`, a list): `mqttjs`, the mqtt.js client a TypeScript
 * application would use, which spends ~14 µs of CPU a message, so one process of it saturates a
 * core before either broker does and both brokers' rows show the client's limit; and `pipelined`
 * (bench/peers/mqtt-pipelined-publisher.ts), a lean MQTT 3.1.1 generator spending ~1 µs a
 * message, whose rows show the brokers' own limit. Each row gives the broker's CPU per message
 * (Rill's process, mosquitto's from /proc) and the publisher process's.
 *
 * `--window` takes a list (`--window 32,64,128,256`): the messages each publisher keeps in flight
 * decide whether a round measures the brokers' capacity or their round trip. With few in flight a
 * publisher mostly waits, and throughput is the window over the round trip (Little's law), where
 * an fsync before PUBACK weighs in full; with enough in flight both brokers and the publishers are
 * busy and throughput stops growing. A list shows where each broker stops growing.
 *
 *   node dist/bench/mqtt.js [--messages 200000] [--rounds 3] [--clients 4] [--window 32,128,256]
 *                           [--publisher mqttjs,pipelined] [--bytes 100]
 */
const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '200000' },
    rounds: { type: 'string', default: '3' },
    clients: { type: 'string', default: '4' },
    window: { type: 'string', default: '32,128,256' },
    publisher: { type: 'string', default: 'mqttjs,pipelined' },
    bytes: { type: 'string', default: '100' },
    /** Internal: run the publishers against this URL and print their result as JSON. */
    client: { type: 'string' },
  },
});
const MESSAGES = Number(values.messages);
const ROUNDS = Number(values.rounds);
const CLIENTS = Number(values.clients);
const WINDOWS = values.window.split(',').map(Number);
if (WINDOWS.some((w) => !Number.isInteger(w) || w < 1)) throw new Error(`--window takes positive integers, got "${values.window}"`);
/** The window of this process's publishers (one with --client). */
const WINDOW = WINDOWS[0]!;
const PublisherKind = { mqttjs: 'mqttjs', pipelined: 'pipelined' } as const;
type PublisherKindValue = (typeof PublisherKind)[keyof typeof PublisherKind];
const PUBLISHERS = values.publisher.split(',').map((kind): PublisherKindValue => {
  if (kind === PublisherKind.mqttjs || kind === PublisherKind.pipelined) return kind;
  throw new Error(`--publisher takes mqttjs and/or pipelined, got "${values.publisher}"`);
});
const PAYLOAD = Buffer.alloc(Number(values.bytes), 0x61);

interface Result {
  messagesPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU time of the publisher process (all its threads) per message. */
  publisherCpuUsPerMsg: number;
  /** CPU time of the broker per message; null when it cannot be read. */
  brokerCpuUsPerMsg: number | null;
}

type PublisherResult = Omit<Result, 'brokerCpuUsPerMsg'>;

function summarize(latencies: Float64Array | number[], seconds: number, cpu: NodeJS.CpuUsage): PublisherResult {
  latencies.sort((a, b) => a - b);
  return {
    messagesPerSecond: Math.round(latencies.length / seconds),
    p50Ms: +percentile(latencies, 0.5).toFixed(2),
    p99Ms: +percentile(latencies, 0.99).toFixed(2),
    publisherCpuUsPerMsg: +((cpu.user + cpu.system) / latencies.length).toFixed(2),
  };
}

/** CLIENTS mqtt.js publishers, each keeping WINDOW QoS 1 messages in flight, MESSAGES in all. */
async function runMqttJs(url: string): Promise<PublisherResult> {
  const cpuBefore = process.cpuUsage();
  const clients = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => connectAsync(url, { clientId: `bench-${i}`, reconnectPeriod: 0, protocolVersion: 5 })));
  const latencies: number[] = [];
  const perClient = Math.ceil(MESSAGES / CLIENTS);
  const started = performance.now();
  await Promise.all(
    clients.map(async (client, c) => {
      let sent = 0;
      const lane = async (): Promise<void> => {
        while (sent < perClient) {
          sent++;
          const t = performance.now();
          await client.publishAsync(`bench/device-${c}/reading`, PAYLOAD, { qos: 1 });
          latencies.push(performance.now() - t);
        }
      };
      await Promise.all(Array.from({ length: WINDOW }, lane));
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  await Promise.all(clients.map((client) => client.endAsync()));
  return summarize(latencies, seconds, cpu);
}

async function runPipelined(url: string): Promise<PublisherResult> {
  const { hostname, port } = new URL(url);
  const cpuBefore = process.cpuUsage();
  const { latenciesMs, seconds } = await publishPipelined({ host: hostname, port: Number(port), clients: CLIENTS, window: WINDOW, messages: MESSAGES, payload: PAYLOAD });
  return summarize(latenciesMs, seconds, process.cpuUsage(cpuBefore));
}

/** Runs the publishers in a child process of this runtime (this script with --client). */
async function runClients(url: string, kind: PublisherKindValue, window: number): Promise<PublisherResult> {
  const args = [...process.execArgv, process.argv[1]!, '--client', url, '--publisher', kind, '--messages', String(MESSAGES), '--clients', String(CLIENTS), '--window', String(window), '--bytes', String(PAYLOAD.length)];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`the publisher process exited with ${code}`);
  return JSON.parse(out.trim().split('\n').at(-1)!) as PublisherResult;
}

/** A round of publishers against a broker whose CPU time so far `brokerCpuUs` reads (null where it cannot). */
async function measure(url: string, kind: PublisherKindValue, window: number, brokerCpuUs: () => number | null): Promise<Result> {
  const before = brokerCpuUs();
  const result = await runClients(url, kind, window);
  const after = brokerCpuUs();
  const perMessage = before === null || after === null ? null : +((after - before) / (Math.ceil(MESSAGES / CLIENTS) * CLIENTS)).toFixed(2);
  return { ...result, brokerCpuUsPerMsg: perMessage };
}

/** This process's CPU time in µs: the Rill broker runs in it, and the bench's own work between rounds is idle. */
function ownCpuUs(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/**
 * CPU time of process `pid` in µs from /proc/<pid>/stat (utime and stime, fields 14 and 15, in
 * clock ticks of USER_HZ, which Linux fixes at 100 a second for this file); null off Linux.
 */
function procCpuUs(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return null;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

/** Starts mosquitto with persistence in `dir`; undefined when it is not installed. */
async function startMosquitto(dir: string): Promise<{ url: string; cpuUs: () => number | null; stop: () => void } | undefined> {
  const port = await freePort();
  const config = join(dir, 'mosquitto.conf');
  writeFileSync(config, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location ${dir}/\nmax_inflight_messages 0\nmax_queued_messages 0\n`);
  const mosquitto = spawn('mosquitto', ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  const failed = new Promise<undefined>((resolve) => mosquitto.once('error', () => resolve(undefined)));
  const ready = new Promise<true>((resolve) => mosquitto.stderr.on('data', (chunk: Buffer) => chunk.toString().includes('running') && resolve(true)));
  if ((await Promise.race([ready, failed])) === undefined) return undefined;
  return { url: `mqtt://127.0.0.1:${port}`, cpuUs: () => (mosquitto.pid === undefined ? null : procCpuUs(mosquitto.pid)), stop: () => mosquitto.kill('SIGTERM') };
}

function median(results: readonly Result[]): Result {
  const sorted = [...results].sort((a, b) => a.messagesPerSecond - b.messagesPerSecond);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

if (values.client !== undefined) {
  const result = PUBLISHERS[0] === PublisherKind.pipelined ? await runPipelined(values.client) : await runMqttJs(values.client);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

const dataDir = mkdtempSync(join(tmpdir(), 'rill-bench-mqtt-'));
const mosquittoDir = mkdtempSync(join(tmpdir(), 'mosquitto-bench-'));
const broker = await Broker.open({ config: { dataDir } });
const listener = await MqttListener.start(broker, { host: '127.0.0.1', port: 0, limits: { receiveMaximum: 65_535 } });
const mosquittoServer = await startMosquitto(mosquittoDir);
try {
  const rows: string[][] = [['publisher', 'in flight', 'rill (fsync before PUBACK)', 'mosquitto (persistence on)', 'rill / mosquitto']];
  const figures = [];
  const rillUrl = `mqtt://127.0.0.1:${listener.port}`;
  for (const kind of PUBLISHERS) {
    for (const window of WINDOWS) {
      const rillRounds: Result[] = [];
      const mosquittoRounds: Result[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        // Alternating which goes first, so neither always runs on a machine the other just warmed.
        const order = round % 2 === 0 ? (['rill', 'mosquitto'] as const) : (['mosquitto', 'rill'] as const);
        for (const which of order) {
          if (which === 'rill') rillRounds.push(await measure(rillUrl, kind, window, ownCpuUs));
          else if (mosquittoServer !== undefined) mosquittoRounds.push(await measure(mosquittoServer.url, kind, window, mosquittoServer.cpuUs));
        }
        const last = (rounds: Result[]) => rounds.at(-1)?.messagesPerSecond;
        console.log(`${kind} ${CLIENTS} x ${window}, round ${round + 1}: rill ${last(rillRounds)} msg/s, mosquitto ${last(mosquittoRounds) ?? 'not run'} msg/s`);
      }
      const rill = median(rillRounds);
      const mosquitto = mosquittoRounds.length === 0 ? undefined : median(mosquittoRounds);
      const cell = (r: Result): string =>
        `${r.messagesPerSecond} msg/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, cpu/msg broker ${r.brokerCpuUsPerMsg ?? '?'} µs, publisher ${r.publisherCpuUsPerMsg} µs`;
      const ratio = mosquitto === undefined ? '' : `${(rill.messagesPerSecond / mosquitto.messagesPerSecond).toFixed(2)}x`;
      rows.push([kind, `${CLIENTS} x ${window}`, cell(rill), mosquitto === undefined ? 'not run: mosquitto is not installed' : cell(mosquitto), ratio]);
      figures.push({
        publisher: kind,
        window,
        rill_qos1_msg_s: rill.messagesPerSecond,
        rill_qos1_p50_ms: rill.p50Ms,
        rill_qos1_p99_ms: rill.p99Ms,
        rill_broker_cpu_us_per_msg: rill.brokerCpuUsPerMsg,
        rill_publisher_cpu_us_per_msg: rill.publisherCpuUsPerMsg,
        mosquitto_qos1_msg_s: mosquitto?.messagesPerSecond ?? null,
        mosquitto_qos1_p50_ms: mosquitto?.p50Ms ?? null,
        mosquitto_qos1_p99_ms: mosquitto?.p99Ms ?? null,
        mosquitto_broker_cpu_us_per_msg: mosquitto?.brokerCpuUsPerMsg ?? null,
        mosquitto_publisher_cpu_us_per_msg: mosquitto?.publisherCpuUsPerMsg ?? null,
        rill_rounds_msg_s: rillRounds.map((r) => r.messagesPerSecond),
        mosquitto_rounds_msg_s: mosquittoRounds.map((r) => r.messagesPerSecond),
      });
    }
  }
  printTable(`MQTT QoS 1 publish, ${MESSAGES} messages of ${PAYLOAD.length} B, ${CLIENTS} clients x the window in flight, median of ${ROUNDS} alternating rounds`, rows);
  console.log(JSON.stringify({ bench: 'mqtt', runtime: runtimeName(), messages: MESSAGES, rounds: ROUNDS, clients: CLIENTS, payload_bytes: PAYLOAD.length, windows: figures }));
} finally {
  mosquittoServer?.stop();
  await listener.close();
  await broker.close();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(mosquittoDir, { recursive: true, force: true });
}
