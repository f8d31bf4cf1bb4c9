/**
 * Queue consumption with one acknowledgement per record, side by side (issue 17): Rill's share
 * group against RabbitMQ's durable quorum queue, both servers as their own processes on
 * 127.0.0.1, the same `--records` records of `--size` bytes preloaded, `--consumers` consumers over
 * TCP from this process, each record acknowledged on its own.
 *
 *   Rill      bench/peers/rill-share-broker.ts (an embedded broker with a Kafka listener), SDK
 *             ShareConsumers read with `poll()` (`--api iterator`: `for await`, a promise per
 *             record), `record.accept()` per record; the acceptances ride on the next
 *             ShareFetch and are answered only once fsynced to `__share_group_state`, as is
 *             every acquisition. In flight: `--locks` records per partition
 *             (group.share.partition.max.record.locks, Kafka's default 2000), at most
 *             `--fetch-records` per fetch and so per consumer (Kafka's max.poll.records, 500).
 *   RabbitMQ  one durable quorum queue, persistent messages published on a confirm channel before
 *             the clock starts; each consumer on its own connection and channel with
 *             `basic.qos(prefetch)` (default `--fetch-records`: the same unacknowledged records per
 *             consumer) and `basic.ack(multiple=false)` per message.
 *
 * The clock starts once the consumers are connected (RabbitMQ: channel open, prefetch set; Rill:
 * API versions negotiated); subscribing (basic.consume, joining the share group) is on it. It runs
 * until every record has been delivered and each consumer's last acknowledgements are settled
 * (Rill: `commit()` answered, so durable; RabbitMQ: channel closed after its last ack, which the
 * broker processes in order; RabbitMQ does not confirm acks). Afterwards the bench checks that
 * nothing is left: RabbitMQ's queue is empty, and a fresh share consumer gets nothing.
 *
 * `--rounds` runs the peers that many times, alternating which goes first, and reports each one's
 * median round: this VM's speed drifts by tens of percent (up to 2x) from minute to minute, which
 * one run of each cannot tell from a difference between the servers.
 *
 *   npm run build && node dist/bench/queue-consume.js [--records 100000] [--consumers 4] [--size 100]
 *     [--locks 2000] [--fetch-records 500] [--prefetch N] [--rounds 1] [--peers rill,rabbitmq] [--api poll]
 *     [--broker-args="--cpu-prof --cpu-prof-dir=DIR"]
 *   Needs rabbitmq-server (apt-get install -y rabbitmq-server) for the RabbitMQ column.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as amqp from 'amqplib';
import { ShareConsumer, type ShareRecord, TcpTransport } from '../sdk/mod.ts';
import { ApiKey } from '../sdk/protocol/mod.ts';
import { startRabbitmqServer } from './peers/rabbitmq.ts';
import { hasExecutable, ServerProcess } from './peers/server-process.ts';
import { printTable, runtimeName } from './report.ts';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '100000' },
    consumers: { type: 'string', default: '4' },
    size: { type: 'string', default: '100' },
    locks: { type: 'string', default: '2000' },
    // Records one ShareFetch acquires at most (the broker's bound; Kafka's max.poll.records is 500).
    'fetch-records': { type: 'string', default: '500' },
    prefetch: { type: 'string' },
    peers: { type: 'string', default: 'rill,rabbitmq' },
    rounds: { type: 'string', default: '1' },
    api: { type: 'string', default: 'poll' },
    // Extra runtime flags for the Rill broker process, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
    'broker-args': { type: 'string', default: '' },
  },
});
const total = Number(values.records);
const consumerCount = Number(values.consumers);
const size = Number(values.size);
const locks = Number(values.locks);
// A Rill consumer holds at most one fetch's acquisitions (it fetches again once it has handed them
// all out), so RabbitMQ's consumers get the same number of unacknowledged deliveries.
const prefetch = values.prefetch === undefined ? Number(values['fetch-records']) : Number(values.prefetch);
const peers = values.peers.split(',').map((p) => p.trim());
const rounds = Number(values.rounds);
const api = values.api;
if (api !== 'poll' && api !== 'iterator') throw new Error(`unknown --api "${api}" (poll, iterator)`);
for (const peer of peers) if (peer !== 'rill' && peer !== 'rabbitmq') throw new Error(`unknown peer "${peer}" (rill, rabbitmq)`);
const TOPIC = 'bench-queue';

interface Outcome {
  records_per_s: number;
  seconds: number;
  per_consumer: number[];
  /** CPU time of this process (the consumers) from their start to the end of the clock. */
  client_cpu_ms: number;
  /** CPU time of the server process while it served the consumers, when it reports it. */
  server_cpu_ms: number | null;
}

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return Math.round((used.user + used.system) / 1000);
}

function shareBrokerMain(): string {
  const compiled = import.meta.url.endsWith('.js');
  return fileURLToPath(new URL(compiled ? './peers/rill-share-broker.js' : './peers/rill-share-broker.ts', import.meta.url));
}

async function runRill(): Promise<Outcome> {
  const dataDir = mkdtempSync(join(tmpdir(), 'rill-bench-queue-'));
  const transports: TcpTransport[] = [];
  let server: ServerProcess | undefined;
  try {
    server = await ServerProcess.start({
      name: 'rill share broker',
      command: process.execPath,
      args: [...('Deno' in globalThis ? ['run', '-A'] : []), ...values['broker-args'].split(' ').filter((a) => a !== ''), shareBrokerMain(), '--data-dir', dataDir, '--records', String(total), '--size', String(size), '--locks', String(locks), '--max-records-per-fetch', values['fetch-records']],
      ready: /share broker ready on \S+:\d+/,
      readyTimeoutMs: 120_000,
    });
    const bootstrap = /share broker ready on (\S+:\d+)/.exec(server.output())![1]!;
    const open = (groupId: string): ShareConsumer => {
      const transport = new TcpTransport({ bootstrapServers: [bootstrap] });
      transports.push(transport);
      return new ShareConsumer(transport, { groupId, topics: [TOPIC], maxWaitMs: 100 });
    };
    const consumers = Array.from({ length: consumerCount }, () => open('bench'));
    // Connected (and versions negotiated) before the clock, as RabbitMQ's channels are; joining
    // the share group, like basic.consume, runs on the clock.
    await Promise.all(consumers.map((c) => c.transport.supports(ApiKey.ShareFetch)));
    const perConsumer = consumers.map(() => 0);
    let consumed = 0;
    let finish!: () => void;
    const done = new Promise<void>((resolve) => (finish = resolve));
    const take = (record: ShareRecord<Uint8Array, Uint8Array>, i: number): void => {
      record.accept();
      perConsumer[i]!++;
      if (++consumed === total) finish();
    };
    const startCpu = process.cpuUsage();
    const startMs = performance.now();
    const runs = consumers.map(async (c, i) => {
      if (api === 'iterator') {
        for await (const record of c) take(record, i);
        return;
      }
      for (let records = await c.poll(); records.length > 0; records = await c.poll()) for (const record of records) take(record, i);
    });
    await done;
    await Promise.all(consumers.map((c) => c.commit()));
    const seconds = (performance.now() - startMs) / 1000;
    const clientCpuMs = cpuMsSince(startCpu);
    await Promise.all(consumers.map((c) => c.close()));
    await Promise.all(runs);
    await assertRillDrained(open('bench'));
    for (const t of transports.splice(0)) await t.close();
    await server.stop();
    const serverCpu = /share broker cpu (\d+) ms/.exec(server.output());
    return { records_per_s: Math.round(total / seconds), seconds, per_consumer: perConsumer, client_cpu_ms: clientCpuMs, server_cpu_ms: serverCpu === null ? null : Number(serverCpu[1]) };
  } finally {
    for (const t of transports) await t.close();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Every record was accepted: a new member of the group acquires nothing. */
async function assertRillDrained(consumer: ShareConsumer): Promise<void> {
  const iterator = consumer[Symbol.asyncIterator]();
  const next = iterator.next();
  const timeout = new Promise<'empty'>((resolve) => setTimeout(() => resolve('empty'), 1_000));
  const first = await Promise.race([next, timeout]);
  await consumer.close();
  if (first !== 'empty' && first.done !== true) throw new Error(`rill: offset ${first.value.offset} was delivered again after every record was accepted`);
}

async function runRabbitmq(): Promise<Outcome> {
  const server = await startRabbitmqServer();
  const connections: amqp.ChannelModel[] = [];
  try {
    const connect = async (): Promise<amqp.ChannelModel> => {
      const c = await amqp.connect(server.url, { noDelay: true });
      connections.push(c);
      return c;
    };
    const publisher = await (await connect()).createConfirmChannel();
    await publisher.assertQueue(TOPIC, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    const content = Buffer.alloc(size, 7);
    for (let sent = 0; sent < total; ) {
      for (let i = 0; i < 2_000 && sent < total; i++, sent++) publisher.sendToQueue(TOPIC, content, { persistent: true });
      await publisher.waitForConfirms();
    }
    const channels = await Promise.all(Array.from({ length: consumerCount }, async () => (await connect()).createChannel()));
    for (const ch of channels) await ch.prefetch(prefetch);
    const perConsumer = channels.map(() => 0);
    let consumed = 0;
    const startCpu = process.cpuUsage();
    const startMs = performance.now();
    await new Promise<void>((resolve, reject) => {
      channels.forEach((ch, i) => {
        ch.on('error', reject);
        void ch.consume(
          TOPIC,
          (message) => {
            if (message === null) return reject(new Error('rabbitmq: the consumer was cancelled'));
            ch.ack(message, false);
            perConsumer[i]!++;
            if (++consumed === total) resolve();
          },
          { noAck: false },
        );
      });
    });
    // A round trip on each channel after its last ack (the broker handles a channel's frames in order), then close.
    await Promise.all(channels.map((ch) => ch.checkQueue(TOPIC)));
    await Promise.all(channels.map((ch) => ch.close()));
    const seconds = (performance.now() - startMs) / 1000;
    const clientCpuMs = cpuMsSince(startCpu);
    // A quorum queue returns deliveries whose settlement it had not applied when the channel
    // closed: count what is ready again (it should be nothing) and report it.
    let left = (await publisher.checkQueue(TOPIC)).messageCount;
    for (const deadline = performance.now() + 5_000; left !== 0 && performance.now() < deadline; left = (await publisher.checkQueue(TOPIC)).messageCount) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    if (left !== 0) console.log(`rabbitmq: ${left} messages are ready again after every one was acknowledged and the channels closed`);
    return { records_per_s: Math.round(total / seconds), seconds, per_consumer: perConsumer, client_cpu_ms: clientCpuMs, server_cpu_ms: null };
  } finally {
    for (const c of connections) await c.close().catch(() => undefined);
    await server.stop();
  }
}

const rabbitmqMissing = 'unavailable: rabbitmq-server not installed (apt-get install -y rabbitmq-server)';
const hasRabbitmq = peers.includes('rabbitmq') && (await hasExecutable('/usr/lib/rabbitmq/bin/rabbitmq-server'));
const roundsByPeer = new Map<string, Outcome[]>(peers.map((peer) => [peer, []]));
for (let round = 0; round < rounds; round++) {
  // Alternating which goes first, so neither always runs on a machine the other just warmed.
  for (const peer of round % 2 === 0 ? peers : [...peers].reverse()) {
    if (peer === 'rill') roundsByPeer.get(peer)!.push(await runRill());
    else if (hasRabbitmq) roundsByPeer.get(peer)!.push(await runRabbitmq());
  }
  if (rounds > 1) console.log(`round ${round + 1}: ${[...roundsByPeer].map(([peer, outcomes]) => `${peer} ${outcomes.at(-1)?.records_per_s.toLocaleString('en') ?? '-'} records/s`).join(', ')}`);
}

/** The round with the median records/s (the lower middle one of an even count). */
function median(outcomes: readonly Outcome[]): Outcome {
  const sorted = [...outcomes].sort((a, b) => a.records_per_s - b.records_per_s);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

const results: Record<string, Outcome | string> = {};
for (const [peer, outcomes] of roundsByPeer) results[peer] = outcomes.length === 0 ? rabbitmqMissing : median(outcomes);

const rows: string[][] = [['', 'records/s', 'seconds', 'client CPU ms', 'server CPU ms', 'per consumer']];
for (const [name, r] of Object.entries(results)) {
  rows.push(
    typeof r === 'string'
      ? [name, r, '', '', '', '']
      : [name, r.records_per_s.toLocaleString('en'), r.seconds.toFixed(2), String(r.client_cpu_ms), r.server_cpu_ms === null ? '-' : String(r.server_cpu_ms), r.per_consumer.join(' / ')],
  );
}
const rill = results.rill;
const rabbit = results.rabbitmq;
const ratio = typeof rill === 'object' && typeof rabbit === 'object' ? rill.records_per_s / rabbit.records_per_s : undefined;
if (ratio !== undefined) rows.push(['rill / rabbitmq', `${ratio.toFixed(2)}x`, '', '', '', 'target >= 5x']);
printTable(
  `queue consume, ${total.toLocaleString('en')} records of ${size} B, ${consumerCount} consumers, one ack per record (rill: ${locks} record locks, ${api === 'poll' ? 'poll()' : 'for await'}; rabbitmq: quorum queue, prefetch ${prefetch})${rounds > 1 ? `, median of ${rounds} alternating rounds` : ''}`,
  rows,
);
console.log(
  JSON.stringify({
    bench: 'queue-consume',
    runtime: runtimeName(),
    records: total,
    size_bytes: size,
    consumers: consumerCount,
    rill_record_locks: locks,
    rill_api: api,
    rabbitmq_prefetch: prefetch,
    rounds,
    ...Object.fromEntries([...roundsByPeer].map(([peer, outcomes]) => [`${peer}_rounds_records_per_s`, outcomes.map((o) => o.records_per_s)])),
    ...Object.fromEntries(Object.entries(results).map(([k, r]) => [k, typeof r === 'string' ? null : { records_per_s: r.records_per_s, seconds: Number(r.seconds.toFixed(2)), client_cpu_ms: r.client_cpu_ms, server_cpu_ms: r.server_cpu_ms }])),
    rill_over_rabbitmq: ratio === undefined ? null : Number(ratio.toFixed(2)),
  }),
);
