import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_SASL_PASSWORD_ENV } from '../../broker/cli/connection-options.ts';
import { runtimes } from '../helpers/child-process.ts';
import { runCli } from '../helpers/cli-runner.ts';
import { ALL_MECHANISMS, SecureBroker } from '../helpers/secure-broker.ts';

// The data commands against a broker that demands SASL (SCRAM), so the connection flags are proven
// on every runtime: each command group runs under Node, Bun and Deno.
let secure: SecureBroker;
let bootstrap: string;

beforeAll(async () => {
  secure = await SecureBroker.open();
  await secure.addUser('alice', 'alice-secret');
  const listener = await secure.listen({ sasl: { mechanisms: ALL_MECHANISMS, connectionsMaxReauthMs: 0 } });
  bootstrap = `127.0.0.1:${listener.advertised.port}`;
});

afterAll(async () => {
  await secure?.close();
});

const sasl = (mechanism = 'SCRAM-SHA-256') => ['--bootstrap', bootstrap, '--sasl-mechanism', mechanism, '--sasl-username', 'alice'];
const env = { [CLIENT_SASL_PASSWORD_ENV]: 'alice-secret' };

describe.each(runtimes)('rill data commands over SASL on %s', (runtime) => {
  const rill = (args: string[], input?: string) => runCli([...args, ...sasl()], { runtime, env, ...(input === undefined ? {} : { input }) });
  const topic = `smoke-${runtime}`;

  it('creates a topic, produces, consumes with a group and lists the group', async () => {
    const created = await rill(['topics', 'create', topic, '--partitions', '2', '--json']);
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ topic, partitions: 2 });
    const produced = await rill(['produce', topic, '--key-separator', '=', '--json'], 'a=1\nb=2\nc=3\n');
    expect(produced.code, produced.stderr).toBe(0);
    expect(JSON.parse(produced.stdout).records).toBe(3);
    const consumed = await rill(['consume', topic, '--group', `g-${runtime}`, '--format', 'json']);
    expect(consumed.code, consumed.stderr).toBe(0);
    const records = consumed.stdout.trim().split('\n').map((l) => JSON.parse(l) as { key: string; value: number });
    expect(records.map((r) => `${r.key}=${r.value}`).sort()).toEqual(['a=1', 'b=2', 'c=3']);
    const [groups, described] = await Promise.all([rill(['groups', 'list', '--json']), rill(['topics', 'describe', topic, '--json'])]);
    expect(JSON.parse(groups.stdout)).toContainEqual({ group: `g-${runtime}`, state: 'Empty', protocolType: 'consumer' });
    expect(JSON.parse(described.stdout).partitions.reduce((n: number, p: { highWatermark: number }) => n + p.highWatermark, 0)).toBe(3);
  });

  it('runs a small bench and cleans up its topics', async () => {
    const bench = await rill(['bench', '--records', '2000', '--partitions', '2', '--latency-seconds', '1', '--warmup-seconds', '0', '--latency-rate', '200', '--json']);
    expect(bench.code, bench.stderr).toBe(0);
    expect(bench.stderr).toBe('');
    const figures = JSON.parse(bench.stdout);
    expect(figures).toMatchObject({ records: 2000, record_bytes: 100, partitions: 2, latency_lost: 0 });
    expect(figures.produce_records_s).toBeGreaterThan(0);
    expect(figures.consume_records_s).toBeGreaterThan(0);
    expect(figures.latency_samples).toBe(200);
    expect(figures.latency_p99_ms).toBeGreaterThanOrEqual(figures.latency_p50_ms);
    const topics = JSON.parse((await rill(['topics', 'list', '--json'])).stdout) as { topic: string }[];
    expect(topics.filter((t) => t.topic.startsWith('rill-bench-'))).toEqual([]);
  });
});

describe('rill data commands with bad credentials', () => {
  it('fails with one sentence when the broker refuses the login, or without a password', async () => {
    const [wrong, missing] = await Promise.all([
      runCli(['topics', 'list', ...sasl('PLAIN')], { env: { [CLIENT_SASL_PASSWORD_ENV]: 'not-the-password' } }),
      runCli(['produce', 'x', ...sasl()], { env: { [CLIENT_SASL_PASSWORD_ENV]: '' } }),
    ]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^rill: the broker at 127\.0\.0\.1:\d+ refused the SASL login: .+\n$/);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/RILL_SASL_PASSWORD/);
  });

  it('prints progress lines for a bench on a pipe and rejects a record too small to stamp', async () => {
    const env2 = { env };
    const bench = await runCli(['bench', '--records', '3000', '--latency-seconds', '0', ...sasl()], env2);
    expect(bench.code, bench.stderr).toBe(0);
    expect(bench.stdout).toMatch(/^ {2}produce {2}[\d,]+ records\/s$/m);
    expect(bench.stdout).toMatch(/^ {2}consume {2}[\d,]+ records\/s$/m);
    expect(JSON.parse(bench.stdout.trim().split('\n').at(-1)!)).toMatchObject({ records: 3000 });
    expect(bench.stderr).toMatch(/^produce: 3,000\/3,000 records \(100%\)/m);
    expect(bench.stderr).toMatch(/^consume: 3,000\/3,000 records \(100%\)/m);
    const tiny = await runCli(['bench', '--record-size', '4', ...sasl()], env2);
    expect(tiny.code).toBe(2);
    expect(tiny.stderr).toMatch(/--record-size must be at least 8 bytes/);
  });
});
