import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { Broker } from '../../broker/broker.ts';
import { KafkaListener } from '../../broker/kafka/kafka-listener.ts';
import { ApiKey } from '../../sdk/protocol/mod.ts';
import { repoRoot } from '../helpers/child-process.ts';
import { type DropPolicy, DroppingProxy } from '../helpers/dropping-proxy.ts';
import { RawKafkaClient } from '../helpers/raw-kafka-client.ts';
import { readAllValues } from '../helpers/read-partition.ts';

const SCRIPT = 'test/integration/platformatic/exactly-once.ts';
const launchers = {
  Bun: [`${repoRoot}/node_modules/.bin/bun`, [SCRIPT]],
  Deno: [`${repoRoot}/node_modules/.bin/deno`, ['run', '--allow-all', '--no-lock', SCRIPT]],
} as const satisfies Record<string, readonly [string, readonly string[]]>;
type RuntimeName = keyof typeof launchers;

/** The script as a child process with stdin open, so a test can let it continue after checking a midpoint. */
class Script {
  private readonly child: ChildProcess;
  private stdout = '';
  private stderr = '';
  private readonly exited: Promise<number | null>;
  private onLine: (() => void) | undefined;

  constructor(runtime: RuntimeName, args: readonly string[]) {
    const [command, prefix] = launchers[runtime];
    this.child = spawn(command, [...prefix, ...args], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d: Buffer) => {
      this.stdout += d.toString();
      this.onLine?.();
    });
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve, reject) => {
      this.child.on('error', reject);
      this.child.on('close', (code) => {
        this.onLine?.();
        resolve(code);
      });
    });
  }

  /** The first stdout JSON line with `field`; rejects if the script exits without printing one. */
  line(field: string): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        for (const text of this.stdout.split('\n')) {
          if (!text.startsWith('{')) continue;
          const parsed = JSON.parse(text) as Record<string, unknown>;
          if (field in parsed) {
            this.onLine = undefined;
            resolve(parsed);
            return;
          }
        }
        if (this.child.exitCode !== null || this.child.signalCode !== null) {
          reject(new Error(`script exited without printing "${field}":\nstdout: ${this.stdout}\nstderr: ${this.stderr}`));
        }
      };
      this.onLine = check;
      check();
    });
  }

  /** Writes the line the script waits for and closes stdin, so no runtime keeps the process alive on it. */
  proceed(): void {
    this.child.stdin!.end('go\n');
  }

  /** The script's result once it exits successfully; a failure includes everything it printed. */
  async result<T>(): Promise<T> {
    const code = await this.exited;
    const report = await this.line('ok');
    if (code !== 0 || report['ok'] !== true) throw new Error(`script failed (exit ${code}):\nstdout: ${this.stdout}\nstderr: ${this.stderr}`);
    return report['result'] as T;
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

interface Harness {
  broker: Broker;
  listener: KafkaListener;
  proxy: DroppingProxy;
  read(topic: string, partition: number, isolationLevel: 0 | 1): Promise<string[]>;
}

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/**
 * An in-process broker behind a proxy that loses the responses `drop` picks. The listener advertises
 * the proxy's port (the CLI has no advertised-port flag), so the client in the child process only ever
 * talks through the proxy; the test reads the partitions directly.
 */
async function start(drop: DropPolicy = () => false): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'rill-plt-eos-'));
  const broker = await Broker.open({ config: { dataDir } });
  let listener: KafkaListener | undefined;
  const proxy = await DroppingProxy.start(() => listener!.port, drop);
  listener = await KafkaListener.start(broker, { host: '127.0.0.1', port: 0, advertisedPort: proxy.port });
  const started = listener;
  cleanups.push(async () => {
    await proxy.close();
    await started.close();
    await broker.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const read = async (topic: string, partition: number, isolationLevel: 0 | 1): Promise<string[]> => {
    const raw = await RawKafkaClient.connect(started.port);
    try {
      return await readAllValues(raw, topic, partition, isolationLevel);
    } finally {
      raw.close();
    }
  };
  return { broker, listener: started, proxy, read };
}

function launch(runtime: RuntimeName, args: readonly string[]): Script {
  const script = new Script(runtime, args);
  cleanups.push(() => script.kill());
  return script;
}

describe.each(Object.keys(launchers) as RuntimeName[])('@platformatic/kafka exactly-once under %s', (runtime) => {
  it('writes every record exactly once although produce responses are lost and retried (idempotent producer)', async () => {
    // Every third Produce response is lost after the broker appended the batch.
    let produces = 0;
    const h = await start((apiKey) => apiKey === ApiKey.Produce && ++produces % 3 === 0);
    await h.broker.createTopic('idem', { partitions: 2 });
    const { sent } = await launch(runtime, ['idempotent', h.proxy.bootstrap, 'idem', '30']).result<{ sent: string[] }>();
    expect(sent).toHaveLength(150);
    expect(h.proxy.dropped.length).toBeGreaterThanOrEqual(9);
    const received = [...(await h.read('idem', 0, 0)), ...(await h.read('idem', 1, 0))];
    expect(received.sort()).toEqual([...sent].sort());
  });

  it('makes a committed transaction visible atomically across topics and partitions, and an aborted one never', async () => {
    const h = await start();
    await h.broker.createTopic('txn-a', { partitions: 2 });
    await h.broker.createTopic('txn-b', { partitions: 1 });
    const script = launch(runtime, ['transactions', h.proxy.bootstrap, 'txn-a', 'txn-b']);
    await script.line('phase');
    // Sent but not committed: a read_committed reader sees nothing, a read_uncommitted one everything.
    expect(await h.read('txn-a', 0, 1)).toEqual([]);
    expect(await h.read('txn-b', 0, 1)).toEqual([]);
    expect(await h.read('txn-a', 0, 0)).toEqual(['c-a0']);
    expect(await h.read('txn-b', 0, 0)).toEqual(['c-b0']);
    script.proceed();
    await script.result();

    expect(await h.read('txn-a', 0, 1)).toEqual(['c-a0', 'c2-a0']);
    expect(await h.read('txn-a', 1, 1)).toEqual(['c-a1']);
    expect(await h.read('txn-b', 0, 1)).toEqual(['c-b0']);
    // The aborted records are in the log, only withheld from read_committed.
    expect(await h.read('txn-a', 0, 0)).toEqual(['c-a0', 'x-a0', 'c2-a0']);
    expect(await h.read('txn-b', 0, 0)).toEqual(['c-b0', 'x-b0']);
  });

  it('commits outputs and input offsets in one transaction (addConsumer/addOffset); an aborted one moves neither', async () => {
    const h = await start();
    await h.broker.createTopic('ctp-in', { partitions: 2 });
    await h.broker.createTopic('ctp-out', { partitions: 1 });
    const inputs = Array.from({ length: 40 }, (_, i) => `in-${i}`);
    const seed = new Kafka({ clientId: 'seed', brokers: [`127.0.0.1:${h.listener.port}`], logLevel: logLevel.NOTHING }).producer();
    await seed.connect();
    await seed.send({ topic: 'ctp-in', acks: -1, messages: inputs.map((value, i) => ({ value, partition: i % 2 })) });
    await seed.disconnect();
    const result = await launch(runtime, ['consume-transform-produce', h.proxy.bootstrap, 'ctp-in', 'ctp-out', 'ctp-group', '40']).result<{
      abortedAt: { partition: number; offset: string };
      firstOffsets: Record<string, string>;
      processed: string[];
    }>();
    expect(result.abortedAt.offset).toBe('0');
    // The aborted transaction's offset did not count: the next member of the group started at 0 on both partitions.
    expect(result.firstOffsets).toEqual({ 0: '0', 1: '0' });
    expect([...result.processed].sort()).toEqual([...inputs].sort());

    const out = await h.read('ctp-out', 0, 1);
    expect(out.sort()).toEqual(inputs.map((v) => `out-${v}`).sort());
    expect((await h.read('ctp-out', 0, 0)).filter((v) => v.startsWith('aborted-'))).toHaveLength(1);
    const offsets = h.broker.groups.fetchOffsets('ctp-group', null);
    expect(offsets.errorCode).toBe(0);
    expect(offsets.topics.flatMap((t) => t.partitions.map((p) => [t.name, p.partitionIndex, p.committedOffset])).sort()).toEqual([
      ['ctp-in', 0, 20],
      ['ctp-in', 1, 20],
    ]);
  });

  it('fences the first producer when a second one begins a transaction with the same transactional id', async () => {
    const h = await start();
    await h.broker.createTopic('fence', { partitions: 1 });
    const result = await launch(runtime, ['fence', h.proxy.bootstrap, 'fence']).result<{
      warmupId: string;
      defaultBegin: string;
      zombieCommit: string;
      firstId: string;
      firstEpoch: number;
      secondId: string;
      secondEpoch: number;
    }>();
    // platformatic's default InitProducerId carries producer id 0 / epoch 0, not -1/-1; the transactional
    // id's producer id is not 0, so Kafka's rule (and ours) fences that caller.
    expect(result.warmupId).toBe('0');
    expect(result.firstId).not.toBe('0');
    expect(result.defaultBegin).toMatch(/PRODUCER_FENCED/);
    // With -1/-1 the second producer takes over: same producer id, next epoch; the first one's commit fails.
    expect(result.secondId).toBe(result.firstId);
    expect(result.secondEpoch).toBe(result.firstEpoch + 1);
    expect(result.zombieCommit).toMatch(/PRODUCER_FENCED|INVALID_PRODUCER_EPOCH/);
    expect(await h.read('fence', 0, 1)).toEqual(['plain', 'survivor']);
    expect(await h.read('fence', 0, 0)).toEqual(['plain', 'zombie', 'survivor']);
  });
});
