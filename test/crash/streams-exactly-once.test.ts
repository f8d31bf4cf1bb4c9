import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Admin, Consumer, longSerde, Producer, stringSerde, TcpTransport } from '../../sdk/mod.ts';
import { timeWindowedSerde } from '../../streams/mod.ts';
import { type BrokerProcess, startBrokerProcess } from '../helpers/broker-process.ts';
import { ManagedProcess, type Runtime, runtimeCommand, runtimes } from '../helpers/child-process.ts';
import { runKillSchedule } from '../helpers/kill-schedule.ts';

/**
 * The streams runtime's exactly-once promise under crashes: `examples/streams-totals.ts` (a
 * stateless transform, per-group sums behind a repartition, and per-key tumbling-window counts
 * suppressed until each window closes) runs as 3 processes while one of them is SIGKILLed and
 * restarted every few seconds and the broker process is SIGKILLed and restarted mid-run. At the end
 * the read_committed outputs hold every input exactly once, every group's last total equals the
 * sum computed from the input, and every window has exactly one final count, the one computed from
 * the input.
 *
 * Input record n has key `k<n % KEYS>` and timestamp BASE + n less a jitter below the grace period
 * (out of order, never late), so windows close as the run goes; after the data, one record per
 * partition far ahead (value `end`, not a number) closes the last windows.
 *
 * RILL_CRASH_FULL=1: 1,000,000 records, ≥ 15 worker kills and 2 broker kills, on Node, Bun and
 * Deno. Otherwise a short tier on Node. RILL_CRASH_SEED replays a run.
 */
const FULL = process.env.RILL_CRASH_FULL === '1';
const RECORDS = FULL ? 1_000_000 : 30_000;
const PARTITIONS = 6;
const WORKERS = 3;
const GROUPS = 100;
const KEYS = 60;
/** The example's windows: tumbling, 1,000 ms, grace 100 ms. */
const WINDOW_MS = 1_000;
const GRACE_MS = 100;
const BASE_MS = Math.floor((Date.now() - 86_400_000) / WINDOW_MS) * WINDOW_MS;
const timestampOf = (n: number): number => BASE_MS + n - ((n * 7919) % 50);
const windowedKey = timeWindowedSerde(stringSerde, WINDOW_MS);
const WORKER_KILLS = FULL ? 16 : 3;
const BROKER_KILLS_AT: readonly number[] = FULL ? [5, 11] : [2];
/**
 * Kills are spread over the run by progress: kill k waits until about k/(kills + 1) of the inputs
 * reached the stateless output (seeded jitter), and at least KILL_SPACING_MS after the previous
 * one, so every kill lands mid-run however fast the job goes.
 */
const KILL_SPACING_MS = FULL ? 1_000 : 500;
const SEED = Number(process.env.RILL_CRASH_SEED ?? Date.now() % 0x7fffffff);

const tiers: readonly Runtime[] = FULL ? runtimes : ['node'];
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Each (key, window start)'s count, as `k<i>@<start>`. */
function expectedWindowCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (let n = 0; n < RECORDS; n++) {
    const id = `k${n % KEYS}@${Math.floor(timestampOf(n) / WINDOW_MS) * WINDOW_MS}`;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

function expectedTotals(): Map<string, number> {
  const totals = new Map<string, number>();
  for (let n = 0; n < RECORDS; n++) totals.set(`g${n % GROUPS}`, (totals.get(`g${n % GROUPS}`) ?? 0) + n);
  return totals;
}

/** Follows both outputs (read_committed) and settles once they hold what the input implies. */
class OutputWatch {
  readonly seen = new Uint8Array(RECORDS);
  duplicates = 0;
  strays: string[] = [];
  readonly totals = new Map<string, number>();
  private readonly expected = expectedTotals();
  /** Final window counts seen, and those seen again (a duplicate final result). */
  readonly windowCounts = new Map<string, number>();
  readonly windowDuplicates: string[] = [];
  private readonly expectedWindows = expectedWindowCounts();
  private windowsComplete = 0;
  private readonly consumers: Consumer<Uint8Array, Uint8Array>[] = [];
  private done!: () => void;
  readonly complete = new Promise<void>((resolve) => (this.done = resolve));
  distinct = 0;
  private progressWaiters: { at: number; resolve: () => void }[] = [];

  /** Resolves once `count` distinct inputs reached the stateless output. */
  untilDistinct(count: number): Promise<void> {
    if (this.distinct >= count) return Promise.resolve();
    return new Promise((resolve) => this.progressWaiters.push({ at: count, resolve }));
  }

  constructor(private readonly transport: TcpTransport) {}

  private check(): void {
    this.progressWaiters = this.progressWaiters.filter((w) => {
      if (this.distinct < w.at) return true;
      w.resolve();
      return false;
    });
    if (this.distinct < RECORDS || this.windowsComplete < this.expectedWindows.size) return;
    for (const [group, sum] of this.expected) if (this.totals.get(group) !== sum) return;
    this.done();
  }

  async follow(topic: string, onRecord: (key: Uint8Array, value: Uint8Array) => void): Promise<void> {
    const consumer = new Consumer(this.transport, { autoOffsetReset: 'earliest', maxWaitMs: 200 });
    this.consumers.push(consumer);
    consumer.assign(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition })));
    for await (const batch of consumer.batches()) {
      for (const r of batch.records) onRecord(r.key!, r.value!);
      this.check();
    }
  }

  start(): Promise<void>[] {
    const decoder = new TextDecoder();
    return [
      this.follow('numbers-out', (_key, value) => {
        const text = decoder.decode(value);
        const n = Number(/^out-(\d+)$/.exec(text)?.[1] ?? NaN);
        if (!Number.isInteger(n) || n >= RECORDS) return void this.strays.push(text);
        if (this.seen[n] === 1) this.duplicates++;
        else this.distinct++;
        this.seen[n] = 1;
      }),
      this.follow('totals', (key, value) => void this.totals.set(decoder.decode(key), longSerde.deserialize(value))),
      this.follow('window-counts', (key, value) => {
        const { key: inner, window } = windowedKey.deserialize(key);
        if (inner.startsWith('end-')) return;
        const id = `${inner}@${window.startMs}`;
        if (this.windowCounts.has(id)) this.windowDuplicates.push(`${id}=${longSerde.deserialize(value)}`);
        else if (this.expectedWindows.has(id)) this.windowsComplete++;
        this.windowCounts.set(id, longSerde.deserialize(value));
      }),
    ];
  }

  /** Closes the consumers, which ends both iterations. */
  async stop(): Promise<void> {
    for (const consumer of this.consumers) await consumer.close();
  }

  mismatchedTotals(): string[] {
    return [...this.expected].filter(([g, sum]) => this.totals.get(g) !== sum).map(([g, sum]) => `${g}: ${this.totals.get(g)} != ${sum}`);
  }

  /** Windows whose final count differs from the input's, is missing, or that the input does not have. */
  mismatchedWindows(): string[] {
    const wrong = [...this.expectedWindows].filter(([id, count]) => this.windowCounts.get(id) !== count).map(([id, count]) => `${id}: ${this.windowCounts.get(id)} != ${count}`);
    const extra = [...this.windowCounts.keys()].filter((id) => !this.expectedWindows.has(id)).map((id) => `${id}: not in the input`);
    return [...wrong, ...extra];
  }
}

describe.each(tiers)(`streams exactly-once on %s: ${RECORDS} records, ${WORKER_KILLS} worker kills, ${BROKER_KILLS_AT.length} broker kills`, (runtime) => {
  it('counts every input once in the outputs and in the state', { timeout: FULL ? 1_500_000 : 180_000 }, async () => {
    console.log(`streams-exactly-once ${runtime}: seed ${SEED} (rerun with RILL_CRASH_SEED=${SEED})`);
    let state = SEED;
    const random = () => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const root = mkdtempSync(join(tmpdir(), 'rill-streams-crash-'));
    dirs.push(root);
    let broker: BrokerProcess = await startBrokerProcess({ dataDir: join(root, 'broker') });
    const { port, httpPort } = broker;
    const transport = new TcpTransport({ bootstrapServers: [broker.bootstrap] });
    const workers: (ManagedProcess | undefined)[] = [];
    const exits: string[] = [];
    let brokerUp = Promise.resolve(broker);
    const startWorker = async (i: number): Promise<void> => {
      const up = await brokerUp;
      const [command, args] = runtimeCommand(runtime, 'examples/streams-totals.ts', [up.bootstrap, join(root, `worker-${i}`), `w${i}`]);
      const proc = new ManagedProcess(command, args);
      workers[i] = proc;
      void proc.exit().then((exit) => {
        if (workers[i] !== proc || exit.signal === 'SIGKILL') return;
        const lines = exit.stderr.split('\n').filter((l) => l.length > 0);
        const cause = lines.filter((l) => /error|stopped/i.test(l)).slice(0, 2);
        exits.push(`worker ${i} exited with ${exit.code ?? exit.signal}: ${(cause.length > 0 ? cause : lines.slice(-3)).join(' | ')}`);
        console.log(`streams-exactly-once ${runtime}: ${exits.at(-1)}`);
        void startWorker(i);
      });
    };
    try {
      const admin = new Admin(transport);
      await admin.createTopics([
        { name: 'numbers', numPartitions: PARTITIONS },
        { name: 'numbers-out', numPartitions: PARTITIONS },
        { name: 'totals', numPartitions: PARTITIONS },
        { name: 'window-counts', numPartitions: PARTITIONS },
      ]);
      const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde, lingerMs: 5 });
      for (let from = 0; from < RECORDS; from += 50_000) {
        await producer.sendBatch(Array.from({ length: Math.min(50_000, RECORDS - from) }, (_, i) => ({ topic: 'numbers', key: `k${(from + i) % KEYS}`, value: String(from + i), timestamp: timestampOf(from + i) })));
      }
      const endMs = timestampOf(RECORDS) + 50 + WINDOW_MS + GRACE_MS;
      await producer.sendBatch(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: 'numbers', partition, key: `end-${partition}`, value: 'end', timestamp: endMs })));
      await producer.close();

      const watch = new OutputWatch(transport);
      const following = watch.start();
      for (let i = 0; i < WORKERS; i++) await startWorker(i);
      const startedMs = Date.now();
      const { brokerKills } = await runKillSchedule({
        workerKills: WORKER_KILLS,
        workers: WORKERS,
        records: RECORDS,
        brokerKillsAt: BROKER_KILLS_AT,
        spacingMs: KILL_SPACING_MS,
        random,
        untilProgress: (records) => watch.untilDistinct(records),
        restartBroker: async () => {
          await broker.stop('SIGKILL');
          brokerUp = startBrokerProcess({ dataDir: join(root, 'broker'), port, httpPort });
          broker = await brokerUp;
        },
        restartWorker: async (victim) => {
          const proc = workers[victim]!;
          workers[victim] = undefined;
          await proc.stop('SIGKILL');
          await startWorker(victim);
        },
      });
      await watch.complete;
      const processedMs = Date.now() - startedMs;
      await watch.stop();
      await Promise.all(following);
      console.log(
        `streams-exactly-once ${runtime}: seed ${SEED}, ${RECORDS} records, ${WORKER_KILLS} worker kills, ${brokerKills} broker kills, ` +
          `${watch.windowCounts.size} final window counts, complete after ${processedMs} ms, ${exits.length} exits on error${exits.length > 0 ? `:\n  ${exits.join('\n  ')}` : ''}`,
      );
      expect(watch.strays.slice(0, 10), `records that are no transformed input (seed ${SEED})`).toEqual([]);
      expect(watch.duplicates, `inputs duplicated in numbers-out (seed ${SEED})`).toBe(0);
      expect(watch.mismatchedTotals(), `totals that differ from the input's sums (seed ${SEED})`).toEqual([]);
      expect(watch.windowDuplicates.slice(0, 10), `windows with more than one final count (seed ${SEED})`).toEqual([]);
      expect(watch.mismatchedWindows().slice(0, 10), `window counts that differ from the input's (seed ${SEED})`).toEqual([]);
      expect(exits, `workers exited on their own (seed ${SEED})`).toEqual([]);
    } finally {
      for (const w of workers) await w?.stop('SIGKILL');
      await transport.close();
      await broker.stop('SIGKILL');
    }
  });
});
