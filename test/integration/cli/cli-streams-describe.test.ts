import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin, longSerde, Producer, stringSerde, TcpTransport } from '../../../sdk/mod.ts';
import { AppState, type ApplicationDescription, StreamsApp, StreamsBuilder } from '../../../streams/mod.ts';
import { type BrokerProcess, startBrokerProcess } from '../../helpers/broker-process.ts';
import { type Exit, ManagedProcess, type Runtime, runtimeCommand } from '../../helpers/child-process.ts';

let broker: BrokerProcess;
let transport: TcpTransport;
let app: StreamsApp;
const dirs: string[] = [];

function rill(args: string[], runtime: Runtime = 'node'): Promise<Exit> {
  const [command, argv] = runtimeCommand(runtime, 'broker/cli/main.ts', [...args, '--bootstrap', broker.bootstrap]);
  return new ManagedProcess(command, argv).exit();
}

beforeAll(async () => {
  broker = await startBrokerProcess();
  transport = new TcpTransport({ bootstrapServers: [broker.bootstrap] });
  await new Admin(transport).createTopics([{ name: 'd-words', numPartitions: 2 }, { name: 'd-counts', numPartitions: 2 }, { name: 'd-copy', numPartitions: 2 }]);
  const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde });
  await producer.sendBatch(Array.from({ length: 20 }, (_, i) => ({ topic: 'd-words', key: `line-${i}`, value: `w${i % 4}` })));
  await producer.close();
  const builder = new StreamsBuilder();
  builder
    .stream('d-words', { key: stringSerde, value: stringSerde })
    .groupBy((_k, v) => v, { key: stringSerde, value: stringSerde })
    .count({ name: 'n' })
    .toStream()
    .to('d-counts', { key: stringSerde, value: longSerde });
  const stateDir = mkdtempSync(join(tmpdir(), 'rill-describe-state-'));
  dirs.push(stateDir);
  app = new StreamsApp(builder.build(), { applicationId: 'd-app', transport, stateDir, applicationServer: 'app-host-1:7070', commitIntervalMs: 50 });
  await app.start();
  await app.waitFor(AppState.running);
});

afterAll(async () => {
  await app?.close();
  await transport?.close();
  await broker?.dispose();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('rill streams describe', () => {
  it('shows the running application: its member with endpoint and tasks, lag per partition, internal topics (text and --json)', async () => {
    const [text, json] = await Promise.all([rill(['streams', 'describe', '--application-id', 'd-app']), rill(['streams', 'describe', '--application-id', 'd-app', '--json'])]);
    expect(json.code, json.stderr).toBe(0);
    const d = JSON.parse(json.stdout) as ApplicationDescription;
    expect(d).toMatchObject({ applicationId: 'd-app', state: 'Stable', protocol: 'rill-streams', internalTopics: ['d-app-n-changelog', 'd-app-n-repartition'] });
    expect(d.members).toHaveLength(1);
    const [member] = d.members;
    expect(member).toMatchObject({ endpoint: 'app-host-1:7070', clientHost: expect.stringMatching(/127\.0\.0\.1/) });
    expect(member!.instanceId).toMatch(/\S/);
    // Two sub-topologies (before and after the repartition), two partitions each.
    expect(member!.tasks).toEqual(['0_0', '0_1', '1_0', '1_1']);
    expect(member!.partitions).toEqual([
      { topic: 'd-app-n-repartition', partition: 0 },
      { topic: 'd-app-n-repartition', partition: 1 },
      { topic: 'd-words', partition: 0 },
      { topic: 'd-words', partition: 1 },
    ]);
    const words = d.lag.filter((l) => l.topic === 'd-words');
    expect(words.map((l) => ({ partition: l.partition, internal: l.internal }))).toEqual([
      { partition: 0, internal: false },
      { partition: 1, internal: false },
    ]);
    for (const l of d.lag) expect(l.lag).toBe(l.highWatermark - (l.committedOffset < 0 ? 0 : l.committedOffset));
    expect(d.lag.some((l) => l.internal && l.topic === 'd-app-n-repartition')).toBe(true);

    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^Application "d-app": group Stable, 1 member, total lag \d+\n/);
    expect(text.stdout).toContain(`${member!.memberId}  client ${member!.clientId} from ${member!.clientHost}, endpoint app-host-1:7070`);
    expect(text.stdout).toContain('    tasks: 0_0 0_1 1_0 1_1');
    expect(text.stdout).toMatch(/^ {2}d-words-0: \d+ \d+ \d+$/m);
    expect(text.stdout).toMatch(/^ {2}d-app-n-repartition-0 \(internal\): /m);
    expect(text.stdout).toMatch(/Internal topics:\n {2}d-app-n-changelog\n {2}d-app-n-repartition\n$/);
  });

  it('fails with one sentence for an unknown application, and rejects a missing --application-id; also on Bun and Deno', async () => {
    const [unknown, missing, bun, deno] = await Promise.all([
      rill(['streams', 'describe', '--application-id', 'nobody']),
      rill(['streams', 'describe']),
      rill(['streams', 'describe', '--application-id', 'd-app', '--json'], 'bun'),
      rill(['streams', 'describe', '--application-id', 'nobody'], 'deno'),
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('rill: application "nobody" is unknown: it has no consumer group, committed offsets or internal topics\n');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe("rill: required option '--application-id <id>' not specified\n");
    expect(bun.code, bun.stderr).toBe(0);
    expect((JSON.parse(bun.stdout) as ApplicationDescription).members[0]!.endpoint).toBe('app-host-1:7070');
    expect(deno.code).toBe(1);
    expect(deno.stderr).toBe(unknown.stderr);
  });

  it('replays under Bun and diffs under Deno (a smoke of rill replay and rill streams diff on both)', async () => {
    const replayed = await rill(['replay', 'd-words', '--to', 'd-copy', '--key-prefix', 'line-1', '--json'], 'bun');
    expect(replayed.code, replayed.stderr).toBe(0);
    expect(JSON.parse(replayed.stdout)).toMatchObject({ source: 'd-words', target: 'd-copy', copied: 11, filteredOut: 9, done: true });
    const diff = await rill(['streams', 'diff', 'd-words', 'd-copy', '--key-format', 'string', '--value-format', 'string', '--limit', '1', '--json'], 'deno');
    expect(diff.code, diff.stderr).toBe(0);
    expect(JSON.parse(diff.stdout)).toMatchObject({ summary: { keysA: 20, keysB: 11, removed: 9, unchanged: 11 }, truncated: true });
  });
});
