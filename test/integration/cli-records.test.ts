import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp, type HttpApp } from '../../broker/http/http-app.ts';
import { type HttpServer, serveHttp } from '../../broker/http/serve.ts';
import { Admin, Producer, TcpTransport } from '../../sdk/mod.ts';
import { ManagedProcess, runtimeCommand } from '../helpers/child-process.ts';
import { openCliBroker } from '../helpers/cli-broker.ts';
import { runCli } from '../helpers/cli-runner.ts';
import type { SecureBroker } from '../helpers/secure-broker.ts';

let secure: SecureBroker;
let bootstrap: string;
let http: HttpApp;
let httpServer: HttpServer;
let dir: string;

beforeAll(async () => {
  ({ secure, bootstrap } = await openCliBroker());
  http = await createHttpApp(secure.broker);
  httpServer = await serveHttp((request, env) => http.app.fetch(request, env), { host: '127.0.0.1', port: 0 });
  dir = mkdtempSync(join(tmpdir(), 'rill-cli-records-'));
});

afterAll(async () => {
  http?.close();
  await httpServer?.close();
  await secure?.close();
  rmSync(dir, { recursive: true, force: true });
});

const rill = (args: string[], input?: string) => runCli([...args, '--bootstrap', bootstrap], input === undefined ? {} : { input });

async function withClient<T>(work: (admin: Admin, transport: TcpTransport) => Promise<T>): Promise<T> {
  const transport = new TcpTransport({ bootstrapServers: [bootstrap] });
  try {
    return await work(new Admin(transport), transport);
  } finally {
    await transport.close();
  }
}

async function createTopic(name: string, partitions: number): Promise<void> {
  await withClient((admin) => admin.createTopics([{ name, numPartitions: partitions }]));
}

const endOffsets = (topic: string) => withClient(async (admin) => (await admin.topicOffsets(topic)).map((o) => o.latest));
const jsonLines = (text: string) => text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));

describe('rill produce and rill consume', () => {
  it('produces text lines with keys and headers and reads them back as JSON, text and raw', async () => {
    await createTopic('lines', 2);
    const produced = await rill(['produce', 'lines', '--key-separator', ':', '--header', 'source=cli', '--header', 'run=1', '--json'], 'k1:first\nk2:second\nk1:third\n');
    expect(produced.code, produced.stderr).toBe(0);
    const summary = JSON.parse(produced.stdout);
    expect(summary.records).toBe(3);
    expect(summary.partitions.reduce((n: number, p: { records: number }) => n + p.records, 0)).toBe(3);
    expect(produced.stderr).toBe('');

    const json = await rill(['consume', 'lines', '--format', 'json']);
    expect(json.code, json.stderr).toBe(0);
    const records = jsonLines(json.stdout);
    expect(records).toHaveLength(3);
    const k1 = records.filter((r) => r.key === 'k1');
    expect(k1.map((r) => r.value)).toEqual(['first', 'third']);
    expect(k1[0]).toMatchObject({ topic: 'lines', offset: 0, valueEncoding: 'utf8', headers: [{ key: 'source', value: 'cli' }, { key: 'run', value: '1' }] });
    expect(new Set(k1.map((r) => r.partition)).size).toBe(1);
    expect(typeof k1[0].timestamp).toBe('number');

    const text = await rill(['consume', 'lines', '--key-separator', '=']);
    expect(text.stdout.split('\n').filter((l) => l !== '').sort()).toEqual(['k1=first', 'k1=third', 'k2=second']);
    const raw = await rill(['consume', 'lines', '--format', 'raw', '--partition', String(k1[0].partition)]);
    expect(raw.stdoutBytes.toString()).toBe(records.filter((r) => r.partition === k1[0].partition).map((r) => r.value).join(''));
  });

  it('round-trips JSON envelopes, binary values included, through consume --format json', async () => {
    await createTopic('envelopes', 1);
    await createTopic('copies', 1);
    const input = [
      JSON.stringify({ key: 'a', value: { n: 1 }, headers: { h: 'v' }, timestamp: 1_700_000_000_000 }),
      JSON.stringify({ value: 'plain text', valueEncoding: 'utf8', headers: [{ key: 'bin', value: '/wA=', encoding: 'base64' }] }),
      '',
      JSON.stringify({ key: null, value: '/w==', valueEncoding: 'base64' }),
    ].join('\n');
    const produced = await rill(['produce', 'envelopes', '--format', 'json', '--json-envelope'], input);
    expect(produced.code, produced.stderr).toBe(0);
    expect(produced.stdout).toBe('produced 3 records to envelopes\n');
    const first = await rill(['consume', 'envelopes', '--format', 'json']);
    const records = jsonLines(first.stdout);
    expect(records.map((r) => r.value)).toEqual([{ n: 1 }, 'plain text', '/w==']);
    expect(records[0]).toMatchObject({ key: 'a', timestamp: 1_700_000_000_000, headers: [{ key: 'h', value: 'v' }] });
    expect(records[1].headers).toEqual([{ key: 'bin', value: '/wA=', encoding: 'base64' }]);
    expect(records[2]).toMatchObject({ key: null, valueEncoding: 'base64' });

    const copied = await rill(['produce', 'copies', '--format', 'json', '--json-envelope'], first.stdout);
    expect(copied.code, copied.stderr).toBe(0);
    const [original, copy] = await Promise.all([rill(['consume', 'envelopes', '--format', 'raw']), rill(['consume', 'copies', '--format', 'raw'])]);
    expect(copy.stdoutBytes).toEqual(original.stdoutBytes);
    expect(original.stdoutBytes).toEqual(Buffer.concat([Buffer.from('{"n":1}plain text'), Buffer.from([0xff])]));
  });

  it('stops at a malformed JSON line, naming it, after producing the lines before it', async () => {
    await createTopic('strict', 1);
    const bad = await rill(['produce', 'strict', '--format', 'json'], '{"a":1}\n{"b":2}\n{"c":\n{"d":4}\n');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^rill: line 3: not valid JSON \(.*\); the 2 records before it were produced, nothing from it on\n$/);
    expect(await endOffsets('strict')).toEqual([2]);
    const file = join(dir, 'envelopes.jsonl');
    writeFileSync(file, '{"value":1}\n{"value":2,"colour":"red"}\n');
    const envelope = await rill(['produce', 'strict', '--format', 'json', '--json-envelope', '--file', file]);
    expect(envelope.code).toBe(1);
    expect(envelope.stderr).toMatch(/^rill: line 2: "colour" is not an envelope field .*; the 1 records before it were produced/);
    expect(await endOffsets('strict')).toEqual([3]);
  });

  it('starts at an offset, a time or a duration ago, the end, and stops after -n records', async () => {
    await createTopic('positions', 2);
    const before = Date.now();
    await withClient(async (_admin, transport) => {
      const producer = new Producer(transport);
      const old = before - 3_600_000;
      await producer.sendBatch(
        Array.from({ length: 10 }, (_, i) => ({ topic: 'positions', partition: 0, value: new TextEncoder().encode(`p0-${i}`), timestamp: i < 5 ? old : before })),
      );
      await producer.sendBatch([{ topic: 'positions', partition: 1, value: new TextEncoder().encode('p1-0'), timestamp: old }]);
      await producer.close();
    });
    const lines = (r: { stdout: string }) => r.stdout.split('\n').filter((l) => l !== '');
    const [offset, time, since, latest, limited] = await Promise.all([
      rill(['consume', 'positions', '--partition', '0', '--offset', '7']),
      rill(['consume', 'positions', '--from-time', new Date(before - 60_000).toISOString()]),
      rill(['consume', 'positions', '--since', '2h', '--partition', '1']),
      rill(['consume', 'positions', '--from', 'latest']),
      rill(['consume', 'positions', '--partition', '0', '-n', '3']),
    ]);
    expect(lines(offset)).toEqual(['p0-7', 'p0-8', 'p0-9']);
    expect(lines(time)).toEqual(['p0-5', 'p0-6', 'p0-7', 'p0-8', 'p0-9']);
    expect(lines(since)).toEqual(['p1-0']);
    expect(latest.code, latest.stderr).toBe(0);
    expect(lines(latest)).toEqual([]);
    expect(lines(limited)).toEqual(['p0-0', 'p0-1', 'p0-2']);
  });

  it('consumes with a group, committing exactly the records it printed', async () => {
    await createTopic('grouped', 1);
    expect((await rill(['produce', 'grouped'], 'one\ntwo\nthree\nfour\n')).code).toBe(0);
    const first = await rill(['consume', 'grouped', '--group', 'readers', '-n', '3']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe('one\ntwo\nthree\n');
    expect(await withClient((admin) => admin.committedOffsets('readers'))).toEqual([{ topic: 'grouped', partition: 0, offset: 3, metadata: expect.anything() }]);
    const rest = await rill(['consume', 'grouped', '--group', 'readers']);
    expect(rest.code, rest.stderr).toBe(0);
    expect(rest.stdout).toBe('four\n');
    const again = await rill(['consume', 'grouped', '--group', 'readers', '--from', 'earliest', '-n', '1']);
    expect(again.stdout).toBe('one\n');
  });

  it('hides aborted transactions under read_committed and shows them under read_uncommitted', async () => {
    await createTopic('txn', 1);
    await withClient(async (_admin, transport) => {
      const producer = new Producer(transport, { transactionalId: 'cli-test-txn' });
      await producer.beginTransaction();
      await producer.send({ topic: 'txn', value: new TextEncoder().encode('aborted') });
      await producer.abortTransaction();
      await producer.beginTransaction();
      await producer.send({ topic: 'txn', value: new TextEncoder().encode('committed') });
      await producer.commitTransaction();
      await producer.close();
    });
    const [committed, uncommitted] = await Promise.all([rill(['consume', 'txn']), rill(['consume', 'txn', '--isolation', 'read_uncommitted'])]);
    expect(committed.stdout).toBe('committed\n');
    expect(uncommitted.stdout).toBe('aborted\ncommitted\n');
  });

  it('follows new records until SIGINT and exits 0', async () => {
    await createTopic('followed', 1);
    const [command, argv] = runtimeCommand('node', 'broker/cli/main.ts', ['consume', 'followed', '--follow', '--bootstrap', bootstrap]);
    const follower = new ManagedProcess(command, argv);
    try {
      expect((await rill(['produce', 'followed'], 'early\n')).code).toBe(0);
      await follower.waitForLine(/^early$/);
      expect((await rill(['produce', 'followed'], 'late\n')).code).toBe(0);
      await follower.waitForLine(/^late$/);
      const exit = await follower.stop('SIGINT');
      expect(exit.code, exit.stderr).toBe(0);
      expect(exit.stdout).toBe('early\nlate\n');
    } finally {
      await follower.stop('SIGKILL');
    }
  });

  it('produces over the HTTP API, once per idempotency key', async () => {
    await createTopic('over-http', 1);
    const url = `http://127.0.0.1:${httpServer.port}`;
    const args = ['produce', 'over-http', '--http', url, '--idempotency-key', 'load-42', '--json', '--key', 'k'];
    const first = await runCli(args, { input: 'a\nb\n' });
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({ topic: 'over-http', records: 2, partitions: [{ partition: 0, records: 2, lastOffset: 1 }] });
    const retried = await runCli(args, { input: 'a\nb\n' });
    expect(JSON.parse(retried.stdout)).toEqual(JSON.parse(first.stdout));
    expect(await endOffsets('over-http')).toEqual([2]);
    const consumed = await rill(['consume', 'over-http', '--key-separator', '=']);
    expect(consumed.stdout).toBe('k=a\nk=b\n');
    const missing = await runCli(['produce', 'no-such-topic', '--http', url], { input: 'x\n' });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^rill: the HTTP API refused the records \(404\): .*no-such-topic/);
  });

  it('fails with one sentence on an unknown topic or partition and exit code 2 on bad flags', async () => {
    const failures = await Promise.all([
      rill(['consume', 'absent']),
      rill(['produce', 'absent'], 'x\n'),
      rill(['consume', 'lines', '--partition', '9']),
      rill(['produce', 'lines', '--partition', '9'], 'x\n'),
      runCli(['consume', 'lines', '--bootstrap', '127.0.0.1:1']),
    ]);
    expect(failures.map((f) => f.code)).toEqual([1, 1, 1, 1, 1]);
    expect(failures[0]!.stderr).toBe('rill: topic "absent" does not exist (rill topics list shows the topics)\n');
    expect(failures[1]!.stderr).toBe('rill: topic "absent" does not exist (rill topics list shows the topics)\n');
    expect(failures[2]!.stderr).toBe('rill: topic "lines" has no partition 9 (it has 2)\n');
    expect(failures[3]!.stderr).toBe('rill: topic "lines" has no partition 9 (it has 2)\n');
    expect(failures[4]!.stderr).toMatch(/^rill: cannot reach the broker at 127\.0\.0\.1:1/);

    const usage = await Promise.all([
      rill(['consume', 'lines', '--from', 'latest', '--offset', '3']),
      rill(['consume', 'lines', '--group', 'g', '--partition', '0']),
      rill(['consume', 'lines', '--format', 'xml']),
      rill(['consume', 'lines', '--since', 'yesterday']),
      rill(['produce', 'lines', '--json-envelope']),
      rill(['produce', 'lines', '--idempotency-key', 'k']),
    ]);
    expect(usage.map((u) => u.code)).toEqual([2, 2, 2, 2, 2, 2]);
    expect(usage[0]!.stderr).toMatch(/give at most one of --from, --offset, --from-time and --since/);
    expect(usage[1]!.stderr).toMatch(/--partition reads without a group/);
    expect(usage[2]!.stderr).toMatch(/argument 'xml' is invalid. Allowed choices are json, text, raw/);
    expect(usage[3]!.stderr).toMatch(/--since must be a duration/);
    expect(usage[4]!.stderr).toMatch(/--json-envelope needs --format json/);
    expect(usage[5]!.stderr).toMatch(/--idempotency-key applies to --http/);
  });
});
