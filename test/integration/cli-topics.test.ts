import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin, Producer, TcpTransport } from '../../sdk/mod.ts';
import { openCliBroker } from '../helpers/cli-broker.ts';
import { runCli } from '../helpers/cli-runner.ts';
import type { SecureBroker } from '../helpers/secure-broker.ts';

let secure: SecureBroker;
let bootstrap: string;

beforeAll(async () => {
  ({ secure, bootstrap } = await openCliBroker());
});

afterAll(async () => {
  await secure?.close();
});

const rill = (...args: string[]) => runCli([...args, '--bootstrap', bootstrap]);

async function withAdmin<T>(work: (admin: Admin, transport: TcpTransport) => Promise<T>): Promise<T> {
  const transport = new TcpTransport({ bootstrapServers: [bootstrap] });
  try {
    return await work(new Admin(transport), transport);
  } finally {
    await transport.close();
  }
}

async function expectFailures(cases: readonly [string[], RegExp][]): Promise<void> {
  const results = await Promise.all(cases.map(([args]) => rill(...args)));
  results.forEach((result, i) => {
    expect(result.code, `${cases[i]![0].join(' ')}: ${result.stderr}`).toBe(1);
    expect(result.stderr).toMatch(cases[i]![1]);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
}

describe('rill topics', () => {
  it('creates, lists, describes, alters, grows and deletes a topic', async () => {
    const created = await rill('topics', 'create', 'orders', '--partitions', '2', '--replication-factor', '1', '--config', 'retention.ms=3600000', '--config', 'cleanup.policy=compact');
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/created topic orders with 2 partitions/);
    expect(await withAdmin((admin) => admin.describeTopicConfigs('orders', ['retention.ms', 'cleanup.policy']))).toEqual({ 'retention.ms': '3600000', 'cleanup.policy': 'compact' });

    const list = await rill('topics', 'list', '--json');
    expect(JSON.parse(list.stdout)).toContainEqual({ topic: 'orders', partitions: 2 });
    expect((await rill('topics', 'list')).stdout).toMatch(/^orders\s+2$/m);

    await withAdmin(async (admin, transport) => {
      const producer = new Producer(transport);
      await producer.sendBatch([{ topic: 'orders', partition: 1, key: null, value: new Uint8Array([1]) }, { topic: 'orders', partition: 1, key: null, value: new Uint8Array([2]) }]);
      await producer.close();
      await admin.deleteRecords([{ topic: 'orders', partition: 1, offset: 1 }]);
    });
    const described = await rill('topics', 'describe', 'orders', '--json');
    expect(described.code, described.stderr).toBe(0);
    const description = JSON.parse(described.stdout);
    expect(description.partitions).toEqual([
      { partition: 0, leader: 0, logStartOffset: 0, highWatermark: 0 },
      { partition: 1, leader: 0, logStartOffset: 1, highWatermark: 2 },
    ]);
    expect(description.configs['retention.ms']).toBe('3600000');
    const text = await rill('topics', 'describe', 'orders');
    expect(text.stdout).toMatch(/^\s+1\s+0\s+1\s+2$/m);
    expect(text.stdout).toMatch(/^\s+retention\.ms\s+3600000$/m);

    const altered = await rill('topics', 'alter', 'orders', '--config', 'retention.ms=60000', '--delete-config', 'cleanup.policy', '--json');
    expect(altered.code, altered.stderr).toBe(0);
    expect(JSON.parse(altered.stdout)).toEqual({ topic: 'orders', changes: { 'retention.ms': '60000', 'cleanup.policy': null } });
    expect(await withAdmin((admin) => admin.describeTopicConfigs('orders', ['retention.ms', 'cleanup.policy']))).toEqual({ 'retention.ms': '60000', 'cleanup.policy': 'delete' });

    const grown = await rill('topics', 'add-partitions', 'orders', '--partitions', '4');
    expect(grown.code, grown.stderr).toBe(0);
    expect((await withAdmin((admin) => admin.describeTopics(['orders'])))[0]!.partitions).toHaveLength(4);

    const deleted = await rill('topics', 'delete', 'orders', '--json');
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(JSON.parse(deleted.stdout)).toEqual({ deleted: ['orders'] });
    expect(JSON.parse((await rill('topics', 'list', '--json')).stdout)).not.toContainEqual(expect.objectContaining({ topic: 'orders' }));
  });

  it('fails with one sentence and exit code 1 on a bad topic creation', async () => {
    const cases: [string[], RegExp][] = [
      [['topics', 'create', 'bad-config', '--config', 'no.such.config=1'], /^rill: create topic bad-config: unknown topic config "no\.such\.config"; known: .* \(INVALID_CONFIG\)\n$/],
      [['topics', 'create', 'bad-value', '--config', 'retention.ms=soon'], /^rill: create topic bad-value: retention\.ms must be an integer .*got "soon" \(INVALID_CONFIG\)\n$/],
      [['topics', 'create', 'replicated', '--replication-factor', '3'], /replication factor 3 is not possible.*\(INVALID_REPLICATION_FACTOR\)\n$/],
      [['topics', 'create', 'too-wide', '--partitions', '5000'], /^rill: create topic too-wide: adding 5000 partitions to the \d+ that exist would exceed the broker's limit of 4000 \(maxPartitions\) \(POLICY_VIOLATION\)\n$/],
    ];
    await expectFailures(cases);
  });

  it('fails with one sentence and exit code 1 on a missing topic or a bad change', async () => {
    expect((await rill('topics', 'create', 'dup')).code).toBe(0);
    const cases: [string[], RegExp][] = [
      [['topics', 'create', 'dup'], /^rill: topic "dup" already exists\n$/],
      [['topics', 'describe', 'missing'], /^rill: topic "missing" does not exist \(rill topics list shows the topics\)\n$/],
      [['topics', 'delete', 'missing'], /^rill: topic "missing" does not exist/],
      [['topics', 'alter', 'missing', '--config', 'retention.ms=1'], /^rill: topic "missing" does not exist/],
      [['topics', 'alter', 'dup', '--config', 'bogus=1'], /^rill: alter configs of dup: unknown topic config "bogus"/],
      [['topics', 'add-partitions', 'dup', '--partitions', '1'], /^rill: topic "dup" already has 1 partitions; --partitions is the new total and must be larger\n$/],
      [['topics', 'add-partitions', 'missing', '--partitions', '3'], /^rill: topic "missing" does not exist/],
    ];
    await expectFailures(cases);
  });

  it('rejects bad flags with exit code 2 and fails fast against an unreachable broker', async () => {
    const usage: [string[], RegExp][] = [
      [['topics', 'create', 'x', '--partitions', 'many', '--bootstrap', bootstrap], /--partitions <count>' argument 'many' is invalid/],
      [['topics', 'create', 'x', '--config', 'novalue', '--bootstrap', bootstrap], /it must be key=value/],
      [['topics', 'alter', 'x', '--bootstrap', bootstrap], /needs at least one --config or --delete-config/],
      [['topics', 'add-partitions', 'x', '--bootstrap', bootstrap], /required option '-p, --partitions <total>' not specified/],
      [['topics', 'describe', '--bootstrap', bootstrap], /missing required argument 'topic'/],
      [['topics', 'list', '--bogus'], /unknown option '--bogus'/],
      [['topics', 'list', '--bootstrap', 'nohostport'], /--bootstrap takes host:port/],
      [['topics', 'list', '--sasl-username', 'alice', '--sasl-mechanism', 'PLAIN'], /RILL_SASL_PASSWORD/],
    ];
    const results = await Promise.all(usage.map(([args]) => runCli(args)));
    results.forEach((result, i) => {
      expect(result.code, `${usage[i]![0].join(' ')}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toMatch(usage[i]![1]);
    });
    const unreachable = await runCli(['topics', 'list', '--bootstrap', '127.0.0.1:1']);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/^rill: cannot reach the broker at 127\.0\.0\.1:1 \(.*ECONNREFUSED.*\); is it running/);
  });
});
