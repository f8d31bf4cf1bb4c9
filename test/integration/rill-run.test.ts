import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Broker, EmbeddedTransport } from '../../broker/mod.ts';
import { Admin, Consumer, type ConsumerRecord, Producer, stringSerde, TcpTransport, type Transport } from '../../sdk/mod.ts';
import { type BrokerProcess, startBrokerProcess } from '../helpers/broker-process.ts';
import { ManagedProcess, repoRoot, type Runtime, runtimeCommand, runtimes } from '../helpers/child-process.ts';
import { awaitCounts, finalCounts, produceLines, WORD_COUNT_ROUNDS, wordCountLag } from '../helpers/word-count-check.ts';

const dirs: string[] = [];
const processes: ManagedProcess[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rill-run-'));
  dirs.push(dir);
  return dir;
}

function rill(runtime: Runtime, args: string[]): ManagedProcess {
  const [command, argv] = runtimeCommand(runtime, 'broker/cli/main.ts', args);
  const proc = new ManagedProcess(command, argv);
  processes.push(proc);
  return proc;
}

/** The word-count example as each runtime runs it: Node from dist/ (it cannot import .ts), Bun and Deno from source. */
function wordCountModule(runtime: Runtime): string {
  return runtime === 'node' ? 'dist/examples/jobs/word-count.js' : 'examples/jobs/word-count.ts';
}

afterEach(async () => {
  await Promise.all(processes.splice(0).map((p) => p.stop('SIGKILL')));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/**
 * Where a run's broker lives: `args` point `rill run` at it, `live` reaches it while the run is up,
 * `after` reaches it once the run stopped (the embedded broker's data directory is reopened here).
 */
interface Target {
  args(): string[];
  live(run: ManagedProcess): Promise<Transport>;
  after<T>(read: (transport: Transport) => Promise<T>): Promise<T>;
}

function embeddedTarget(): Target {
  const dataDir = tempDir();
  return {
    args: () => ['--embedded', '--data-dir', dataDir, '--kafka-port', '0'],
    async live(run) {
      const line = await run.waitForLine(/kafka listening on 127\.0\.0\.1:\d+/);
      return new TcpTransport({ bootstrapServers: [`127.0.0.1:${/:(\d+)$/.exec(line)![1]}`] });
    },
    async after(read) {
      const broker = await Broker.open({ config: { dataDir } });
      const transport = new EmbeddedTransport(broker);
      try {
        return await read(transport);
      } finally {
        await transport.close();
        await broker.close();
      }
    },
  };
}

function tcpTarget(broker: BrokerProcess): Target {
  return {
    args: () => ['--bootstrap', broker.bootstrap],
    live: async () => new TcpTransport({ bootstrapServers: [broker.bootstrap] }),
    async after(read) {
      const transport = new TcpTransport({ bootstrapServers: [broker.bootstrap] });
      try {
        return await read(transport);
      } finally {
        await transport.close();
      }
    },
  };
}

/**
 * Runs word count twice against one broker: each run counts its round's lines, stops on SIGTERM
 * with exit 0 after its last commit (no lag left), and the second run starts where the first
 * committed, so the counts are exact, not counted again.
 */
async function wordCountTwice(runtime: Runtime, target: Target, signal: NodeJS.Signals): Promise<void> {
  const stateDir = tempDir();
  for (const round of WORD_COUNT_ROUNDS) {
    const run = rill(runtime, ['run', wordCountModule(runtime), ...target.args(), '--state-dir', stateDir]);
    const transport = await target.live(run);
    try {
      await run.waitForLine(/word-count RUNNING/);
      await produceLines(transport, round.lines);
      expect(await awaitCounts(transport, round.counts)).toEqual(round.counts);
    } finally {
      await transport.close();
    }
    const exit = await run.stop(signal);
    expect(exit.code, exit.stderr).toBe(0);
    expect(exit.stdout).toMatch(new RegExp(`${signal} received, closing word-count`));
    expect(exit.stdout).toMatch(/word-count stopped cleanly/);
    await target.after(async (t) => {
      expect(await wordCountLag(t)).toBe(0);
      expect(await finalCounts(t)).toEqual(round.counts);
    });
  }
}

describe.each(runtimes)('rill run on %s', (runtime) => {
  it('runs word count on an embedded broker, stops on SIGTERM after its last commit, and resumes exactly', async () => {
    await wordCountTwice(runtime, embeddedTarget(), 'SIGTERM');
  });

  it('prints the topology with --describe, without a broker', async () => {
    const exit = await rill(runtime, ['run', wordCountModule(runtime), '--describe']).exit();
    expect(exit.code, exit.stderr).toBe(0);
    expect(exit.stdout).toContain('Source: KSTREAM-SOURCE-0000000000 (topics: [lines])');
    expect(exit.stdout).toContain('Sink: KSTREAM-SINK-0000000005 (topic: word-counts)');
    expect(exit.stdout).toContain('word-counts-store (key-value, cached, changelog word-counts-store-changelog)');
  });
});

/** Reads `count` records of `topic` (read_committed, every partition) from the start. */
async function readRecords(transport: Transport, topic: string, count: number): Promise<ConsumerRecord<string, string>[]> {
  const [info] = await new Admin(transport).describeTopics([topic]);
  const consumer = new Consumer(transport, { keySerde: stringSerde, valueSerde: stringSerde, autoOffsetReset: 'earliest' });
  consumer.assign(info!.partitions.map((p) => ({ topic, partition: p.partition })));
  const out: ConsumerRecord<string, string>[] = [];
  try {
    for await (const record of consumer) {
      out.push(record);
      if (out.length >= count) break;
    }
  } finally {
    await consumer.close();
  }
  return out;
}

describe.each(['node', 'deno'] as const)('rill run --http-port on %s', (runtime) => {
  it('serves the running job\'s stores, /health and /metrics, and stops them with the job', async () => {
    const run = rill(runtime, ['run', wordCountModule(runtime), '--embedded', '--data-dir', tempDir(), '--kafka-port', '0', '--state-dir', tempDir(), '--http-port', '0']);
    const url = /on (http:\/\/127\.0\.0\.1:\d+)$/.exec(await run.waitForLine(/serving queries, \/metrics and \/health on http:/))![1]!;
    const line = await run.waitForLine(/kafka listening on 127\.0\.0\.1:\d+/);
    await run.waitForLine(/word-count RUNNING/);
    const transport = new TcpTransport({ bootstrapServers: [`127.0.0.1:${/:(\d+)$/.exec(line)![1]}`] });
    const [round] = WORD_COUNT_ROUNDS;
    try {
      await produceLines(transport, round.lines);
      expect(await awaitCounts(transport, round.counts)).toEqual(round.counts);
    } finally {
      await transport.close();
    }
    // The outputs are committed, so the store (read with its write cache) holds at least as much.
    const the = (await (await fetch(`${url}/stores/word-counts-store/keys/the`)).json()) as { key: string; value: number };
    expect([the.key, the.value]).toEqual(['the', round.counts.the]);
    const health = await fetch(`${url}/health`);
    expect([health.status, ((await health.json()) as { state: string }).state]).toEqual([200, 'RUNNING']);
    expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/^rill_streams_records_in_total\S* [1-9]/m);
    const exit = await run.stop('SIGTERM');
    expect(exit.code, exit.stderr).toBe(0);
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  });
});

describe('rill run of the fraud rule example on Bun, on an embedded broker', () => {
  it('writes its alerts and dead-letters malformed payments', async () => {
    const run = rill('bun', ['run', 'examples/jobs/fraud-rule.ts', '--embedded', '--data-dir', tempDir(), '--kafka-port', '0', '--state-dir', tempDir()]);
    const line = await run.waitForLine(/kafka listening on 127\.0\.0\.1:\d+/);
    await run.waitForLine(/fraud-rule RUNNING/);
    const transport = new TcpTransport({ bootstrapServers: [`127.0.0.1:${/:(\d+)$/.exec(line)![1]}`] });
    try {
      const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde });
      await producer.sendBatch([
        { topic: 'payments', key: 'card-1', value: JSON.stringify({ paymentId: 'p1', amountCents: 900_000, merchant: 'm' }), timestamp: 1_000 },
        { topic: 'payments', key: 'card-2', value: '{ not json', timestamp: 2_000 },
        { topic: 'payments', key: 'card-3', value: JSON.stringify({ paymentId: 'p3', amountCents: 0, merchant: 'm' }), timestamp: 3_000 },
        { topic: 'payments', key: 'card-4', value: JSON.stringify({ paymentId: 'p4', amountCents: 100, merchant: 'm' }), timestamp: 4_000 },
      ]);
      await producer.close();
      const alerts = await readRecords(transport, 'fraud-alerts', 1);
      expect(alerts.map((r) => [r.key, JSON.parse(r.value!)])).toEqual([['card-1', { rule: 'over-limit', paymentId: 'p1', amountCents: 900_000 }]]);
      const dead = await readRecords(transport, 'fraud-rule-dlq', 2);
      const kind = (r: ConsumerRecord<string, string>) => new TextDecoder().decode(r.headers.find((h) => h.key === 'rill.error.kind')!.value!);
      expect(dead.map((r) => [r.key, r.value, kind(r)]).sort()).toEqual([
        ['card-2', '{ not json', 'deserialization'],
        ['card-3', JSON.stringify({ paymentId: 'p3', amountCents: 0, merchant: 'm' }), 'processing'],
      ]);
    } finally {
      await transport.close();
    }
    const exit = await run.stop('SIGTERM');
    expect(exit.code, exit.stderr).toBe(0);
  });
});

describe('rill run against a broker over TCP', () => {
  it.each(runtimes)('runs word count on %s, stops on SIGINT, and resumes exactly', async (runtime) => {
    const broker = await startBrokerProcess();
    try {
      await wordCountTwice(runtime, tcpTarget(broker), 'SIGINT');
    } finally {
      await broker.dispose();
    }
  });
});

describe('rill run rejects bad input with one sentence', () => {
  function writeModule(name: string, text: string): string {
    const path = join(tempDir(), name);
    writeFileSync(path, text);
    return path;
  }

  function throwingModule(): string {
    return writeModule('throws.mjs', 'throw new Error("no config for you");\n');
  }

  it.each(runtimes)('on %s: a missing module, and one that throws while loading', async (runtime) => {
    const [missing, threw] = await Promise.all([rill(runtime, ['run', 'no/such/job.js', '--describe']).exit(), rill(runtime, ['run', throwingModule(), '--describe']).exit()]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toBe('rill: job module no/such/job.js not found');
    expect(threw.code).toBe(1);
    expect(threw.stderr.trim()).toMatch(/^rill: job module \S+throws\.mjs failed to load: no config for you$/);
  });

  it('a module of the wrong shape, and a stack only with --verbose', async () => {
    const wrongShape = writeModule('shape.mjs', 'export default { applicationId: "x" };\n');
    const noDefault = writeModule('none.mjs', 'export const job = 1;\n');
    const badTopology = writeModule('topology.mjs', 'export default { applicationId: "x", topology: (b) => { b.stream("in").to("in"); b.stream("in"); } };\n');
    const [shape, none, verbose, invalid] = await Promise.all([
      rill('node', ['run', wrongShape, '--describe']).exit(),
      rill('node', ['run', noDefault, '--describe']).exit(),
      rill('node', ['run', throwingModule(), '--describe', '--verbose']).exit(),
      rill('node', ['run', badTopology, '--describe']).exit(),
    ]);
    expect(shape.code).toBe(2);
    expect(shape.stderr.trim()).toBe(`rill: job module ${wrongShape} is not a job: its default export has no topology function: topology: (builder) => { ... }`);
    expect(none.code).toBe(2);
    expect(none.stderr.trim()).toBe(`rill: job module ${noDefault} is not a job: its default export is undefined, not a job: export default defineJob({ applicationId, topology })`);
    expect(verbose.code).toBe(1);
    expect(verbose.stderr).toMatch(/throws\.mjs:1/);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(new RegExp(`^rill: job module ${badTopology} (declares an invalid topology|failed building its topology): `));
    expect(invalid.stderr).not.toMatch(/\n\s+at /);
  });

  it('bad flags', async () => {
    const module = wordCountModule('node');
    const [noBroker, guarantee, both, dataDir] = await Promise.all([
      rill('node', ['run', module]).exit(),
      rill('node', ['run', module, '--embedded', '--data-dir', tempDir(), '--guarantee', 'twice']).exit(),
      rill('node', ['run', module, '--embedded', '--bootstrap', 'localhost:9092']).exit(),
      rill('node', ['run', module, '--bootstrap', 'localhost:9092', '--data-dir', tempDir()]).exit(),
    ]);
    expect(noBroker.code).toBe(2);
    expect(noBroker.stderr).toMatch(/^rill: run needs a broker: --bootstrap host:port, or --embedded --data-dir DIR \(see rill run --help\)\n/);
    expect(guarantee.code).toBe(2);
    expect(guarantee.stderr).toMatch(/^rill: option '--guarantee <guarantee>' argument 'twice' is invalid\. Allowed choices are exactly_once, at_least_once\.\n/);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/^rill: give either --bootstrap or --embedded, not both \(see rill run --help\)\n/);
    expect(dataDir.code).toBe(2);
    expect(dataDir.stderr).toMatch(/^rill: --data-dir is for the embedded broker: add --embedded \(see rill run --help\)\n/);
  });

  it('a job that cannot start: exit 1 for a missing source topic, 2 for an invalid application id', async () => {
    const lonely = writeModule('lonely.mjs', 'export default { applicationId: "lonely", topology: (b) => { b.stream("absent").to("elsewhere"); } };\n');
    const [missingTopic, badId] = await Promise.all([
      rill('node', ['run', lonely, '--embedded', '--data-dir', tempDir(), '--state-dir', tempDir()]).exit(),
      rill('node', ['run', wordCountModule('node'), '--embedded', '--data-dir', tempDir(), '--application-id', 'word count']).exit(),
    ]);
    expect(missingTopic.code, missingTopic.stderr).toBe(1);
    expect(missingTopic.stderr.trim().split('\n')).toHaveLength(1);
    expect(missingTopic.stderr).toMatch(/^rill: .*absent/);
    expect(badId.code, badId.stderr).toBe(2);
    expect(badId.stderr.trim()).toBe('rill: applicationId must be 1 to 200 characters of [a-zA-Z0-9._-] (it names topics), got "word count"');
  });

  it('a job made with another copy of rill/streams than the CLI runs (Bun: CLI from source, job from dist/)', async () => {
    const other = writeModule('other-copy.mjs', `import { defineJob } from ${JSON.stringify(join(repoRoot, 'dist/streams/mod.js'))};\nexport default defineJob({ applicationId: "x", topology: () => {} });\n`);
    const exit = await rill('bun', ['run', other, '--describe']).exit();
    expect(exit.code).toBe(2);
    expect(exit.stderr).toMatch(/is not a job: it was made with another copy of rill\/streams \(file:.*dist\/streams\/runtime\/job-definition\.js\) than this rill CLI runs \(file:.*streams\/runtime\/job-definition\.ts\)/);
  });

  it('tells Node 20 users to compile a TypeScript job or use Bun or Deno', async () => {
    const exit = await rill('node', ['run', 'examples/jobs/word-count.ts', '--describe']).exit();
    expect(exit.code).toBe(2);
    expect(exit.stderr.trim()).toMatch(/^rill: Node [\d.]+ cannot import the TypeScript job module examples\/jobs\/word-count\.ts: compile it to JavaScript \(tsc\) and run the \.js file, or run rill with Bun or Deno, which import TypeScript$/);
  });
});
