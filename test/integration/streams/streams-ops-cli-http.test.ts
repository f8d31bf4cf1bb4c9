import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Admin, Consumer, longSerde, Producer, stringSerde, TcpTransport } from '../../../sdk/mod.ts';
import { AppState, StreamsApp, StreamsBuilder } from '../../../streams/mod.ts';
import { type BrokerProcess, startBrokerProcess } from '../../helpers/broker-process.ts';
import { type Exit, ManagedProcess, runtimeCommand } from '../../helpers/child-process.ts';

let broker: BrokerProcess | undefined;
const dirs: string[] = [];
afterAll(async () => {
  await broker?.dispose();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function rill(args: string[]): Promise<Exit> {
  const [command, argv] = runtimeCommand('node', 'broker/cli/main.ts', [...args, '--bootstrap', broker!.bootstrap]);
  return new ManagedProcess(command, argv).exit();
}

function post(path: string, body: unknown): Promise<Response> {
  return fetch(`${broker!.httpUrl}${path}`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
}

async function problem(response: Response, status: number): Promise<string> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  return ((await response.json()) as { detail: string }).detail;
}

/** Topics `<p>-words` (40 lines over 4 words), `<p>-counts`, `<p>-copy`, `<p>-copy2`, and a word count `<p>-app` run until its counts are final, still running. */
async function runningWordCount(prefix: string): Promise<{ transport: TcpTransport; admin: Admin; app: StreamsApp; stateDir: string; memberId: string }> {
  broker ??= await startBrokerProcess();
  const transport = new TcpTransport({ bootstrapServers: [broker.bootstrap] });
  const stateDir = mkdtempSync(join(tmpdir(), 'rill-ops-state-'));
  dirs.push(stateDir);
  const admin = new Admin(transport);
  await admin.createTopics(['words', 'counts', 'copy', 'copy2'].map((t) => ({ name: `${prefix}-${t}`, numPartitions: 2 })));
  const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde });
  await producer.sendBatch(Array.from({ length: 40 }, (_, i) => ({ topic: `${prefix}-words`, key: `line-${i}`, value: `w${i % 4}` })));
  await producer.close();
  const builder = new StreamsBuilder();
  builder
    .stream(`${prefix}-words`, { key: stringSerde, value: stringSerde })
    .groupBy((_k, v) => v, { key: stringSerde, value: stringSerde })
    .count({ name: 'n' })
    .toStream()
    .to(`${prefix}-counts`, { key: stringSerde, value: longSerde });
  const app = new StreamsApp(builder.build(), { applicationId: `${prefix}-app`, transport, stateDir, commitIntervalMs: 50 });
  await app.start();
  await app.waitFor(AppState.running);
  const consumer = new Consumer(transport, { keySerde: stringSerde, valueSerde: longSerde, autoOffsetReset: 'earliest' });
  consumer.assign([0, 1].map((partition) => ({ topic: `${prefix}-counts`, partition })));
  const latest = new Map<string, number>();
  for await (const r of consumer) {
    latest.set(r.key!, r.value!);
    if (latest.size === 4 && [...latest.values()].every((n) => n === 10)) break;
  }
  await consumer.close();
  const [member] = (await admin.describeGroups([`${prefix}-app`]))[0]!.members;
  return { transport, admin, app, stateDir, memberId: member!.memberId };
}

describe('streams operations on a rill start process', () => {
  it('over HTTP: reset (409 while running, dry run by duration, bad bodies, unknown app), replay with a filter, diff', async () => {
    const { transport, admin, app, memberId } = await runningWordCount('h');
    expect(await problem(await post('/v1/streams/applications/h-app/reset', {}), 409)).toContain(memberId);
    await app.close();

    const before = await admin.committedOffsets('h-app');
    const dry = await post('/v1/streams/applications/h-app/reset', { dryRun: true, to: { durationAgoMs: 3_600_000 } });
    expect(dry.status).toBe(200);
    const plan = (await dry.json()) as { dryRun: boolean; text: string; internalTopics: { topic: string }[] };
    expect(plan.dryRun).toBe(true);
    expect(plan.text).toMatch(/^Dry run: would reset application "h-app" to .* \(3600000 ms ago\)/);
    expect(plan.internalTopics.map((t) => t.topic)).toEqual(['h-app-n-changelog', 'h-app-n-repartition']);
    expect(await admin.committedOffsets('h-app')).toEqual(before);
    expect(await problem(await post('/v1/streams/applications/h-app/reset', { to: 'sideways' }), 400)).toContain('"to" must be');
    expect(await problem(await post('/v1/streams/applications/h-app/reset', { stateDir: '/tmp' }), 400)).toContain('unknown field "stateDir"');
    expect(await problem(await post('/v1/streams/applications/h-app/reset', '[1'), 400)).toBeTruthy();
    expect(await problem(await post('/v1/streams/applications/no-such-app/reset', {}), 404)).toContain('"no-such-app" is unknown');
    const done = await post('/v1/streams/applications/h-app/reset', { to: 'earliest', internalTopics: 'truncate' });
    expect(done.status).toBe(200);
    expect(((await done.json()) as { dryRun: boolean }).dryRun).toBe(false);
    expect((await admin.committedOffsets('h-app')).filter((c) => c.topic === 'h-words').map((c) => c.offset)).toEqual([0, 0]);

    const replayed = await post('/v1/topics/h-words/replay', { target: 'h-copy', filter: { keyPrefix: 'line-1' } });
    expect(replayed.status).toBe(200);
    expect(await replayed.json()).toMatchObject({ source: 'h-words', target: 'h-copy', copied: 11, filteredOut: 29, filter: 'key prefix "line-1"', done: true });
    expect(await problem(await post('/v1/topics/h-words/replay', { target: 'h-copy', filter: { keyLike: 'x' } }), 400)).toContain('"filter" must be');
    expect(await problem(await post('/v1/topics/h-words/replay', { target: 'h-nowhere' }), 404)).toContain('h-nowhere');
    expect(await problem(await post('/v1/topics/h-words/replay', { target: 'h-copy', from: { offsets: { 0: -1 } } }), 400)).toContain('non-negative');

    const diff = await post('/v1/streams/diff', { topicA: 'h-words', topicB: 'h-copy', limit: 1 });
    expect(await diff.json()).toMatchObject({ summary: { keysA: 40, keysB: 11, added: 0, removed: 29, changed: 0, unchanged: 11 }, differences: [{ kind: 'removed', key: 'line-0', a: 'w0' }], truncated: true });
    expect(await problem(await post('/v1/streams/diff', { topicA: 'h-copy', topicB: 'h-copy2', limit: 'all' }), 400)).toContain('"limit"');
    expect(await problem(await post('/v1/streams/diff', { topicA: 'h-copy', topicB: 'h-none' }), 404)).toContain('h-none');
    await transport.close();
  });

  it('from the CLI: rill streams reset (refused, dry run, with local state), rill replay, rill streams diff, a usage error', async () => {
    const { transport, admin, app, stateDir, memberId } = await runningWordCount('c');
    const refused = await rill(['streams', 'reset', '--application-id', 'c-app']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`member ${memberId}`);
    await app.close();

    const before = await admin.committedOffsets('c-app');
    const [dryCli, badTime] = await Promise.all([
      rill(['streams', 'reset', '--application-id', 'c-app', '--by-duration', 'PT1H', '--dry-run']),
      rill(['streams', 'reset', '--application-id', 'c-app', '--to-datetime', 'yesterday']),
    ]);
    expect(dryCli.code, dryCli.stderr).toBe(0);
    expect(dryCli.stdout).toMatch(/Dry run: would reset application "c-app"/);
    expect(dryCli.stdout).toContain('delete c-app-n-changelog');
    expect(badTime.code).toBe(2);
    expect(badTime.stderr).toContain('--to-datetime must be an ISO 8601 time');
    expect(await admin.committedOffsets('c-app')).toEqual(before);

    expect(readdirSync(join(stateDir, 'c-app')).some((e) => /^\d+_\d+$/.test(e))).toBe(true);
    const reset = await rill(['streams', 'reset', '--application-id', 'c-app', '--to-earliest', '--state-dir', stateDir]);
    expect(reset.code, reset.stderr).toBe(0);
    expect(reset.stdout).toMatch(/^Reset application "c-app" to earliest/);
    expect(reset.stdout).toMatch(/c-words-0: \d+ -> 0 \(stream time cleared\)/);
    expect((await admin.committedOffsets('c-app')).map((c) => c.offset)).toEqual([0, 0]);
    expect(readdirSync(join(stateDir, 'c-app')).some((e) => /^\d+_\d+$/.test(e))).toBe(false);

    const cliReplay = await rill(['replay', 'c-words', '--to', 'c-copy2', '--key-prefix', 'line-1']);
    expect(cliReplay.code, cliReplay.stderr).toBe(0);
    expect(cliReplay.stderr).toMatch(/^replay: 40\/40 records \(100%\), [\d,]+ records\/s, /m);
    expect(cliReplay.stdout).toContain('done: 11 records copied from c-words to c-copy2 (key prefix "line-1"; 29 filtered out), partitions kept, replay id replay-c-words-to-c-copy2');

    const cliDiff = await rill(['streams', 'diff', 'c-words', 'c-copy2', '--from-key', 'line-0', '--to-key', 'line-12', '--limit', '1']);
    expect(cliDiff.code, cliDiff.stderr).toBe(0);
    // In key order: line-0, line-1, line-10, line-11, line-12; line-0 is the one only in c-words.
    expect(cliDiff.stdout.trim().split('\n')).toEqual(['c-words -> c-copy2: 0 added, 1 removed, 0 changed, 4 unchanged (5 keys in c-words, 4 in c-copy2)', '- line-0: w0']);
    await transport.close();
  });
});
