import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Admin, Consumer, Producer, stringSerde, TcpTransport } from '../../sdk/mod.ts';
import { DeadLetterHeader, RetryHeader } from '../../streams/mod.ts';
import { type BrokerProcess, startBrokerProcess } from '../helpers/broker-process.ts';
import { ManagedProcess, type Runtime, runtimeCommand, runtimes } from '../helpers/child-process.ts';
import { readCommittedTopic } from '../helpers/read-committed-topic.ts';
import { runKillSchedule } from '../helpers/kill-schedule.ts';

/**
 * The retry ladder's exactly-once promise under crashes: `examples/streams-retry.ts` (a step
 * failing a deterministic subset of records k times, with tiers of 300 ms and 600 ms) runs as 3
 * processes while one of them is SIGKILLed and restarted every so often and the broker process is
 * SIGKILLed and restarted mid-run. Every input must end exactly once in either the output or the
 * dead-letter topic, never in both: n % 10 = 3 and 6 recover (in tier 1 and 2) and reach the
 * output, n % 10 = 9 fail in every tier and reach the dead-letter topic after 3 attempts.
 *
 * Once every input was seen, both topics are read again to their read_committed end, so a
 * duplicate written after the watch saw an input is counted too.
 *
 * RILL_CRASH_FULL=1: 100,000 records, 12 worker kills and 2 broker kills, on Node, Bun and Deno.
 * Otherwise a short tier on Node. RILL_CRASH_SEED replays a run.
 */
const FULL = process.env.RILL_CRASH_FULL === '1';
const RECORDS = FULL ? 100_000 : 3_000;
const PARTITIONS = 6;
const WORKERS = 3;
const KEYS = 60;
const WORKER_KILLS = FULL ? 12 : 2;
const BROKER_KILLS_AT: readonly number[] = FULL ? [4, 9] : [1];
/** Kills wait for progress (about k/(kills + 1) of the inputs settled, seeded jitter) and at least this long after the previous one. */
const KILL_SPACING_MS = FULL ? 1_000 : 400;
const SEED = Number(process.env.RILL_CRASH_SEED ?? Date.now() % 0x7fffffff);
const DLQ = 'streams-retry-dlq';

/** The example's rule: how often record n fails (3: in every tier, so it is dead-lettered). */
const failuresOf = (n: number): number => [0, 0, 0, 1, 0, 0, 2, 0, 0, 3][n % 10]!;
const deadLettered = (n: number): boolean => failuresOf(n) > 2;

const tiers: readonly Runtime[] = FULL ? runtimes : ['node'];
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Follows the output and the dead-letter topic (read_committed) and settles once every input reached one of them. */
class SettledWatch {
  readonly inOutput = new Uint8Array(RECORDS);
  readonly inDeadLetters = new Uint8Array(RECORDS);
  settled = 0;
  private readonly consumers: Consumer<Uint8Array, Uint8Array>[] = [];
  private done!: () => void;
  readonly complete = new Promise<void>((resolve) => (this.done = resolve));
  private progressWaiters: { at: number; resolve: () => void }[] = [];

  constructor(private readonly transport: TcpTransport) {}

  untilSettled(count: number): Promise<void> {
    if (this.settled >= count) return Promise.resolve();
    return new Promise((resolve) => this.progressWaiters.push({ at: count, resolve }));
  }

  private note(seen: Uint8Array, n: number): void {
    if (!Number.isInteger(n) || n < 0 || n >= RECORDS) return;
    if (seen[n] === 0 && this.inOutput[n]! + this.inDeadLetters[n]! === 0) this.settled++;
    seen[n] = 1;
  }

  private check(): void {
    this.progressWaiters = this.progressWaiters.filter((w) => {
      if (this.settled < w.at) return true;
      w.resolve();
      return false;
    });
    if (this.settled >= RECORDS) this.done();
  }

  async follow(topic: string, partitions: number, onValue: (value: string) => void): Promise<void> {
    const consumer = new Consumer(this.transport, { autoOffsetReset: 'earliest', maxWaitMs: 200 });
    this.consumers.push(consumer);
    consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition })));
    const decoder = new TextDecoder();
    for await (const batch of consumer.batches()) {
      for (const r of batch.records) onValue(decoder.decode(r.value!));
      this.check();
    }
  }

  start(): Promise<void>[] {
    return [
      this.follow('retry-out', PARTITIONS, (value) => this.note(this.inOutput, Number(/^out-(\d+)$/.exec(value)?.[1] ?? NaN))),
      this.follow(DLQ, 1, (value) => this.note(this.inDeadLetters, Number(value))),
    ];
  }

  async stop(): Promise<void> {
    for (const consumer of this.consumers) await consumer.close();
  }
}

describe.each(tiers)(`streams retry ladder on %s: ${RECORDS} records, ${WORKER_KILLS} worker kills, ${BROKER_KILLS_AT.length} broker kills`, (runtime) => {
  it('ends every input exactly once in the output or the dead-letter topic', { timeout: FULL ? 1_500_000 : 120_000 }, async () => {
    console.log(`streams-retry-ladder ${runtime}: seed ${SEED} (rerun with RILL_CRASH_SEED=${SEED})`);
    let state = SEED;
    const random = () => (state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const root = mkdtempSync(join(tmpdir(), 'rill-streams-retry-crash-'));
    dirs.push(root);
    let broker: BrokerProcess = await startBrokerProcess({ dataDir: join(root, 'broker') });
    const { port, httpPort } = broker;
    const transport = new TcpTransport({ bootstrapServers: [broker.bootstrap] });
    const workers: (ManagedProcess | undefined)[] = [];
    const exits: string[] = [];
    let brokerUp = Promise.resolve(broker);
    const startWorker = async (i: number): Promise<void> => {
      const up = await brokerUp;
      const [command, args] = runtimeCommand(runtime, 'examples/streams-retry.ts', [up.bootstrap, join(root, `worker-${i}`), `w${i}`]);
      const proc = new ManagedProcess(command, args);
      workers[i] = proc;
      void proc.exit().then((exit) => {
        if (workers[i] !== proc || exit.signal === 'SIGKILL') return;
        const lines = exit.stderr.split('\n').filter((l) => l.length > 0);
        exits.push(`worker ${i} exited with ${exit.code ?? exit.signal}: ${lines.slice(-3).join(' | ')}`);
        console.log(`streams-retry-ladder ${runtime}: ${exits.at(-1)}`);
        void startWorker(i);
      });
    };
    try {
      const admin = new Admin(transport);
      await admin.createTopics([
        { name: 'retry-in', numPartitions: PARTITIONS },
        { name: 'retry-out', numPartitions: PARTITIONS },
        // Created here rather than by the first worker, so the watch can follow it from the start.
        { name: DLQ, numPartitions: 1 },
      ]);
      const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde, lingerMs: 5 });
      for (let from = 0; from < RECORDS; from += 50_000) {
        await producer.sendBatch(Array.from({ length: Math.min(50_000, RECORDS - from) }, (_, i) => ({ topic: 'retry-in', key: `k${(from + i) % KEYS}`, value: String(from + i) })));
      }
      await producer.close();

      const watch = new SettledWatch(transport);
      for (let i = 0; i < WORKERS; i++) await startWorker(i);
      const following = watch.start();
      const startedMs = Date.now();
      const { brokerKills } = await runKillSchedule({
        workerKills: WORKER_KILLS,
        workers: WORKERS,
        records: RECORDS,
        brokerKillsAt: BROKER_KILLS_AT,
        spacingMs: KILL_SPACING_MS,
        random,
        untilProgress: (records) => watch.untilSettled(records),
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
      const settledMs = Date.now() - startedMs;
      await watch.stop();
      await Promise.all(following);
      const readStartedMs = Date.now();

      const decoder = new TextDecoder();
      const outputs = new Uint16Array(RECORDS);
      const deadLetters = new Uint16Array(RECORDS);
      const strays: string[] = [];
      for (const r of await readCommittedTopic(transport, 'retry-out')) {
        const n = Number(/^out-(\d+)$/.exec(decoder.decode(r.value!))?.[1] ?? NaN);
        if (Number.isInteger(n) && n < RECORDS) outputs[n]!++;
        else strays.push(decoder.decode(r.value!));
      }
      const badHeaders: string[] = [];
      for (const r of await readCommittedTopic(transport, DLQ)) {
        const n = Number(decoder.decode(r.value!));
        if (!Number.isInteger(n) || n >= RECORDS) {
          strays.push(decoder.decode(r.value!));
          continue;
        }
        deadLetters[n]!++;
        const headers = Object.fromEntries(r.headers.map((h) => [h.key, h.value === null ? '' : decoder.decode(h.value)]));
        if (headers[RetryHeader.attempts] !== '3' || headers[DeadLetterHeader.errorKind] !== 'retries-exhausted' || headers[DeadLetterHeader.topic] !== 'retry-in' || headers[DeadLetterHeader.error] !== `charging ${n} failed`) {
          badHeaders.push(`${n}: ${JSON.stringify(headers)}`);
        }
      }
      const misplaced: string[] = [];
      const twice: string[] = [];
      for (let n = 0; n < RECORDS; n++) {
        const [expectedOut, expectedDead] = deadLettered(n) ? [0, 1] : [1, 0];
        if (outputs[n]! > 1 || deadLetters[n]! > 1 || outputs[n]! + deadLetters[n]! > 1) twice.push(`${n}: ${outputs[n]} in the output, ${deadLetters[n]} dead-lettered`);
        else if (outputs[n] !== expectedOut || deadLetters[n] !== expectedDead) misplaced.push(`${n}: ${outputs[n]} in the output, ${deadLetters[n]} dead-lettered`);
      }
      const recovered = Array.from({ length: RECORDS }, (_, n) => n).filter((n) => failuresOf(n) > 0 && !deadLettered(n)).length;
      console.log(
        `streams-retry-ladder ${runtime}: seed ${SEED}, ${RECORDS} records (${recovered} recovered by a retry, ${RECORDS / 10} dead-lettered), ` +
          `${WORKER_KILLS} worker kills, ${brokerKills} broker kills, all settled after ${settledMs} ms (read back in ${Date.now() - readStartedMs} ms), ${exits.length} exits on error${exits.length > 0 ? `:\n  ${exits.join('\n  ')}` : ''}`,
      );
      expect(strays.slice(0, 10), `records that are no input (seed ${SEED})`).toEqual([]);
      expect(twice.slice(0, 10), `inputs written twice, or to both topics (seed ${SEED})`).toEqual([]);
      expect(misplaced.slice(0, 10), `inputs missing or in the wrong topic (seed ${SEED})`).toEqual([]);
      expect(badHeaders.slice(0, 5), `dead letters without why, where and how many times (seed ${SEED})`).toEqual([]);
      expect(exits, `workers exited on their own (seed ${SEED})`).toEqual([]);
    } finally {
      for (const w of workers) await w?.stop('SIGKILL');
      await transport.close();
      await broker.stop('SIGKILL');
    }
  });
});
