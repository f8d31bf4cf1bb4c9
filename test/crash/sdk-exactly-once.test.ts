import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiKey } from '../../sdk/protocol/mod.ts';
import { Admin, Producer, stringSerde, TcpTransport } from '../../sdk/mod.ts';
import { type BrokerProcess, startBrokerProcess } from '../helpers/broker-process.ts';
import { type Exit, ManagedProcess, runtimeCommand } from '../helpers/child-process.ts';
import { RawKafkaClient } from '../helpers/raw-kafka-client.ts';
import { fetchOnce, readAllValues } from '../helpers/read-partition.ts';

const FULL = process.env.RILL_CRASH_FULL === '1';
const RECORDS = FULL ? 200_000 : 20_000;
const KILLS = FULL ? 24 : 3;
/** Kill numbers (0-based) at which the broker is killed instead of a worker. */
const BROKER_KILLS: readonly number[] = FULL ? [8, 17] : [];
/** Most commits of the chosen worker to wait for before a kill, and most event-loop turns after. */
const MAX_COMMITS_BEFORE_KILL = FULL ? 8 : 4;
const MAX_TURNS_BEFORE_KILL = 40_000;
/** One worker: with more, the others finish their partitions while one is being killed and restarted. */
const WORKERS = 1;
const INPUT_PARTITIONS = 4;
const OUTPUT_PARTITIONS = 3;
const INPUT = 'ctp-in';
const OUTPUT = 'ctp-out';
const GROUP = 'ctp-group';
/** Bound on workers exiting on their own (after a broker restart) before the test gives up. */
const MAX_UNEXPECTED_EXITS = 50;
const SEED = Number(process.env.RILL_CRASH_SEED ?? Date.now() % 0x7fffffff);

const dataDir = mkdtempSync(join(tmpdir(), 'rill-ctp-crash-'));
let broker: BrokerProcess | undefined;
const slots: WorkerSlot[] = [];

afterAll(async () => {
  for (const slot of slots) await slot.stop();
  await broker?.stop('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

/** The highest committed input offset per partition the workers reported; settles once every partition reaches its end. */
class Progress {
  private readonly committed = new Map<number, number>();
  private done!: () => void;
  readonly caughtUp = new Promise<void>((resolve) => (this.done = resolve));
  isCaughtUp = false;

  constructor(private readonly ends: ReadonlyMap<number, number>) {
    this.check();
  }

  report(partition: number, offset: number): void {
    if (offset > (this.committed.get(partition) ?? -1)) this.committed.set(partition, offset);
    this.check();
  }

  private check(): void {
    if (this.isCaughtUp) return;
    for (const [partition, end] of this.ends) if ((this.committed.get(partition) ?? 0) < end) return;
    this.isCaughtUp = true;
    this.done();
  }
}

/** How the test's broker is doing, for the workers' supervisors. */
interface BrokerLife {
  /** Resolves with the broker once it is (back) up. */
  up(): Promise<BrokerProcess>;
  /** How many times the broker has been killed so far. */
  kills(): number;
}

/**
 * One worker's place: runs test/crash/ctp-worker.ts under Bun, follows its stdout, restarts it
 * when it exits on its own (once the broker is up), and counts its commits across restarts.
 */
class WorkerSlot {
  private proc: ManagedProcess | undefined;
  private procBrokerKills = 0;
  commits = 0;
  starts = 0;
  /** Exits on error, and whether the process had lived through a broker kill (which excuses it). */
  readonly unexpectedExits: { reason: string; excused: boolean }[] = [];
  private waiters: { commits: number; resolve: () => void }[] = [];
  private stopping = false;
  private giveUp!: (error: Error) => void;
  /** Rejects when workers keep exiting on their own. */
  readonly gaveUp = new Promise<never>((_, reject) => (this.giveUp = reject));

  constructor(
    readonly index: number,
    private readonly progress: Progress,
    private readonly broker: BrokerLife,
  ) {
    this.gaveUp.catch(() => undefined);
  }

  start(bootstrap: string): void {
    const [command, args] = runtimeCommand('bun', 'test/crash/ctp-worker.ts', [bootstrap, String(this.index), INPUT, OUTPUT, GROUP]);
    const proc = new ManagedProcess(command, args);
    this.proc = proc;
    this.procBrokerKills = this.broker.kills();
    this.starts++;
    let pending = '';
    proc.child.stdout!.on('data', (chunk: Buffer) => {
      const lines = (pending + chunk.toString()).split('\n');
      pending = lines.pop()!;
      for (const line of lines) this.onLine(line);
    });
    void proc.exit().then((exit) => this.onExit(proc, exit));
  }

  private onLine(line: string): void {
    const [kind, ...rest] = line.split(' ');
    if (kind === 'assigned') {
      for (const entry of rest[0]?.split(',') ?? []) {
        const [partition, offset] = entry.split(':').map(Number);
        this.progress.report(partition!, offset!);
      }
    } else if (kind === 'committed') {
      const [partition, offset] = rest[1]!.split(':').map(Number);
      this.progress.report(partition!, offset!);
      this.commits++;
      this.waiters = this.waiters.filter((w) => {
        if (this.commits < w.commits) return true;
        w.resolve();
        return false;
      });
    }
  }

  private async onExit(proc: ManagedProcess, exit: Exit): Promise<void> {
    if (this.proc !== proc || this.stopping || exit.signal === 'SIGKILL') return;
    const reason = exit.stderr.split('\n').find((l) => l.startsWith('ctp-worker')) ?? exit.stderr.trim().slice(0, 300);
    this.unexpectedExits.push({ reason: `worker ${this.index} exited with ${exit.code ?? exit.signal}: ${reason}`, excused: this.procBrokerKills < this.broker.kills() });
    if (this.unexpectedExits.length > MAX_UNEXPECTED_EXITS) {
      this.giveUp(new Error(`workers exited on their own ${this.unexpectedExits.length} times, the last: ${reason}`));
      return;
    }
    const up = await this.broker.up();
    if (this.proc === proc && !this.stopping) this.start(up.bootstrap);
  }

  /** Resolves once the slot's workers have committed `commits` transactions in all. */
  untilCommits(commits: number): Promise<void> {
    if (this.commits >= commits) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ commits, resolve }));
  }

  /** SIGKILL the running worker, wait for it to die, and start its successor. */
  async kill(bootstrap: string): Promise<void> {
    const proc = this.proc!;
    await proc.stop('SIGKILL');
    this.start(bootstrap);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.proc?.stop('SIGKILL');
  }
}

/** Waits (long-polling fetches for the markers) until read_committed readers of `topic` see up to the high watermark. */
async function awaitStable(raw: RawKafkaClient, topic: string, partitions: number, deadlineMs: number): Promise<void> {
  for (let p = 0; p < partitions; p++) {
    for (;;) {
      const latest = async (isolationLevel: number) =>
        (await raw.request(ApiKey.ListOffsets, 3, { replicaId: -1, isolationLevel, topics: [{ name: topic, partitions: [{ partitionIndex: p, currentLeaderEpoch: -1, timestamp: -1n, maxNumOffsets: 1 }] }], timeoutMs: 0 })).topics[0]!.partitions[0]!.offset;
      const [stable, high] = [await latest(1), await latest(0)];
      if (stable === high) break;
      if (Date.now() > deadlineMs) throw new Error(`${topic}-${p} stays unstable at ${stable} (high watermark ${high})`);
      await fetchOnce(raw, topic, p, high, 0, 500);
    }
  }
}

/** Seeds the input with `in-0` … `in-<RECORDS - 1>` (keyed by number) and returns each partition's end offset. */
async function seed(bootstrap: string): Promise<Map<number, number>> {
  const transport = new TcpTransport({ bootstrapServers: [bootstrap] });
  try {
    const admin = new Admin(transport);
    await admin.createTopics([
      { name: INPUT, numPartitions: INPUT_PARTITIONS },
      { name: OUTPUT, numPartitions: OUTPUT_PARTITIONS },
    ]);
    // Small batches, so that the workers' small fetches hold a few hundred records each.
    const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde, batchSizeBytes: 8 * 1024 });
    const sent = await producer.sendBatch(Array.from({ length: RECORDS }, (_, n) => ({ topic: INPUT, key: String(n), value: `in-${n}` })));
    await producer.close();
    const ends = new Map<number, number>();
    for (let p = 0; p < INPUT_PARTITIONS; p++) ends.set(p, 0);
    for (const m of sent) ends.set(m.partition, Math.max(ends.get(m.partition)!, m.offset + 1));
    return ends;
  } finally {
    await transport.close();
  }
}

describe(`consume-transform-produce with the SDK client across ${KILLS} SIGKILLs (${RECORDS} records, ${BROKER_KILLS.length} of them the broker)`, () => {
  it('reflects every input record in the read_committed output exactly once', { timeout: FULL ? 1_200_000 : 120_000 }, async () => {
    console.log(`sdk-exactly-once: seed ${SEED} (rerun with RILL_CRASH_SEED=${SEED})`);
    let state = SEED;
    const random = () => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const startedMs = Date.now();

    broker = await startBrokerProcess({ dataDir });
    const { port, httpPort } = broker;
    let brokerUp: Promise<BrokerProcess> = Promise.resolve(broker);
    let brokerKills = 0;
    const life: BrokerLife = { up: () => brokerUp, kills: () => brokerKills };
    const ends = await seed(broker.bootstrap);
    const progress = new Progress(ends);
    for (let w = 0; w < WORKERS; w++) slots.push(new WorkerSlot(w, progress, life));
    for (const slot of slots) slot.start(broker.bootstrap);

    for (let kill = 0; kill < KILLS; kill++) {
      const slot = slots[Math.floor(random() * WORKERS)]!;
      const target = slot.commits + 1 + Math.floor(random() * MAX_COMMITS_BEFORE_KILL);
      await Promise.race([slot.untilCommits(target), progress.caughtUp, slot.gaveUp]);
      expect(progress.isCaughtUp, `the output caught up before kill ${kill + 1} of ${KILLS} (seed ${SEED}): too few records for the kills`).toBe(false);
      const turns = Math.floor(random() * MAX_TURNS_BEFORE_KILL);
      for (let t = 0; t < turns; t++) await new Promise((resolve) => setImmediate(resolve));
      if (BROKER_KILLS.includes(kill)) {
        await broker.stop('SIGKILL');
        brokerKills++;
        brokerUp = startBrokerProcess({ dataDir, port, httpPort });
        broker = await brokerUp;
      } else {
        await slot.kill(broker.bootstrap);
      }
    }
    await Promise.race([progress.caughtUp, ...slots.map((s) => s.gaveUp)]);
    const processedMs = Date.now() - startedMs;
    for (const slot of slots) await slot.stop();

    const raw = await RawKafkaClient.connect(broker.port);
    const output: string[] = [];
    try {
      await awaitStable(raw, OUTPUT, OUTPUT_PARTITIONS, Date.now() + 30_000);
      for (let p = 0; p < OUTPUT_PARTITIONS; p++) output.push(...(await readAllValues(raw, OUTPUT, p, 1)));
    } finally {
      raw.close();
    }
    const seen = new Uint32Array(RECORDS);
    const strays: string[] = [];
    for (const value of output) {
      const n = Number(/^out-(\d+)$/.exec(value)?.[1] ?? NaN);
      if (Number.isInteger(n) && n < RECORDS) seen[n]!++;
      else strays.push(value);
    }
    const missing: number[] = [];
    const duplicated: number[] = [];
    seen.forEach((count, n) => (count === 0 ? missing : count > 1 ? duplicated : []).push(n));
    const exits = slots.flatMap((s) => s.unexpectedExits);
    console.log(
      `sdk-exactly-once: seed ${SEED}, ${RECORDS} records, ${KILLS} kills (${BROKER_KILLS.length} broker), ` +
        `worker starts ${slots.map((s) => s.starts).join('+')}, commits ${slots.map((s) => s.commits).join('+')}, ` +
        `processed in ${processedMs} ms, ${exits.length} exits on error${exits.length > 0 ? `:\n  ${exits.map((e) => `${e.reason}${e.excused ? ' (lived through a broker kill)' : ''}`).join('\n  ')}` : ''}`,
    );
    expect(exits.filter((e) => !e.excused).map((e) => e.reason), `workers exited on error without a broker kill (seed ${SEED})`).toEqual([]);
    expect(strays, `records that are no transformed input (seed ${SEED})`).toEqual([]);
    expect(missing.slice(0, 20), `${missing.length} inputs missing from the output (seed ${SEED})`).toEqual([]);
    expect(duplicated.slice(0, 20), `${duplicated.length} inputs duplicated in the output (seed ${SEED})`).toEqual([]);
    expect(output).toHaveLength(RECORDS);
  });
});
