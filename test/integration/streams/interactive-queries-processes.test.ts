import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TcpTransport } from '../../../sdk/mod.ts';
import { type AppServer, AppState, createAppServer, StreamsApp, startAppServer } from '../../../streams/mod.ts';
import { Broker } from '../../../broker/mod.ts';
import { KafkaListener } from '../../../broker/kafka/kafka-listener.ts';
import { ManagedProcess, runtimeCommand } from '../../helpers/child-process.ts';
import { awaitIqOutputs, expectedOf, IQ_RECORDS, IQ_USERS, iqTopology, writeIqInput } from '../../runtime/interactive-queries-scenario.ts';

const PREFIX = 'mp-';
const COUNT = IQ_RECORDS / IQ_USERS;
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

/** Resolves once `app` is RUNNING and knows `hosts` instances from its last assignment (checked now and on every state change). */
function runningWith(app: StreamsApp, hosts: number): Promise<void> {
  const ready = (): boolean => app.state === AppState.running && app.allMetadata().length === hosts;
  if (ready()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const off = app.onStateChange((state) => {
      if (ready()) {
        off();
        resolve();
      } else if (state === AppState.error || state === AppState.notRunning) {
        off();
        reject(new Error(`the app stopped (${state}) before running with ${hosts} hosts`));
      }
    });
  });
}

interface Answer {
  status: number;
  body: { value?: unknown; entries?: { startMs: number; value: number }[] } | undefined;
  /** The instances the request went through, the one that answered last. */
  via: string[];
}

/** GETs `path` at `base`, following 307s to the owning instance (at most 3 hops). */
async function ask(base: string, path: string): Promise<Answer> {
  const via: string[] = [];
  let url = `${base}${path}`;
  for (let hop = 0; hop < 4; hop++) {
    via.push(new URL(url).host);
    const response = await fetch(url, { redirect: 'manual' });
    if (response.status !== 307) {
      const text = await response.text();
      return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as Answer['body']), via };
    }
    url = response.headers.get('location')!;
  }
  throw new Error(`more than 3 redirects from ${base}${path}: ${via.join(' -> ')}`);
}

const userPath = (u: number): string => `/stores/clicks-per-user/keys/user-${u}`;
const profilePath = (id: number): string => `/stores/profiles/keys/${encodeURIComponent(JSON.stringify({ id }))}`;

/** Every key of both stores asked at `base`: each answer correct, from the instance `app`'s metadata names as the owner. */
async function checkEveryKey(base: string, app: StreamsApp): Promise<Set<string>> {
  const owners = new Set<string>();
  for (let u = 0; u < IQ_USERS; u++) {
    const owner = app.queryMetadataForKey('clicks-per-user', `user-${u}`).activeHost!.endpoint;
    owners.add(owner);
    const answer = await ask(base, userPath(u));
    expect([answer.status, answer.body?.value, answer.via.at(-1)]).toEqual([200, COUNT, owner]);
    expect(answer.via.length).toBe(new URL(base).host === owner ? 1 : 2);
  }
  for (const id of [1, 2, 3]) {
    const owner = app.queryMetadataForKey('profiles', { id }).activeHost!.endpoint;
    owners.add(owner);
    const answer = await ask(base, profilePath(id));
    expect([answer.status, answer.body?.value, answer.via.at(-1)]).toEqual([200, { name: `name-${id}` }, owner]);
  }
  const windows = await ask(base, `/stores/clicks-per-second/keys/user-0/windows`);
  expect(windows.body?.entries?.map((e) => [e.startMs, e.value])).toEqual(expectedOf(0).windows);
  return owners;
}

/**
 * Asks `base` for a user's count every 20 ms until `stop` resolves: every answer must be the
 * right count or a 503, never a wrong or missing value.
 */
async function pollWhile(base: string, stop: Promise<unknown>): Promise<number[]> {
  let stopped = false;
  void stop.finally(() => (stopped = true));
  const statuses: number[] = [];
  for (let i = 0; !stopped; i++) {
    const answer = await ask(base, userPath(i % IQ_USERS));
    statuses.push(answer.status);
    if (answer.status !== 503) expect([answer.status, answer.body?.value]).toEqual([200, COUNT]);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return statuses;
}

/**
 * The probes taken at the moment `app` starts rebalancing, through its HTTP handler (the state is
 * read when the request is dispatched, so the probes see REBALANCING for certain): a plain query
 * and a `stale=true` one of a key it holds.
 */
function probeRebalance(app: StreamsApp, ownKey: number): Promise<Response[]> {
  const handler = createAppServer(app);
  return new Promise((resolve) => {
    const off = app.onStateChange((state) => {
      if (state !== AppState.rebalancing) return;
      off();
      const paths = [userPath(ownKey), `${userPath(ownKey)}?stale=true`, '/health', '/metrics'];
      void Promise.all(paths.map((path) => handler.fetch(new Request(`http://probe${path}`)))).then(resolve);
    });
  });
}

/** /health and /metrics taken mid-rebalance: a 200 that says REBALANCING, and the state gauge. */
async function expectRebalancingHealth(health: Response, metrics: Response, applicationId: string): Promise<void> {
  expect([health.status, await health.json()]).toEqual([200, { state: 'REBALANCING', applicationId, rebalancing: true }]);
  expect(await metrics.text()).toContain(`rill_streams_state{application_id="${applicationId}",state="REBALANCING"} 1`);
}

async function expectUnavailable(response: Response): Promise<void> {
  expect([response.status, response.headers.get('retry-after'), response.headers.get('content-type')]).toEqual([503, '1', 'application/problem+json']);
  expect(((await response.json()) as { errors: unknown }).errors).toEqual([{ code: 'STORE_UNAVAILABLE' }]);
}

async function expectStale(response: Response): Promise<void> {
  expect([response.status, response.headers.get('rill-stale'), ((await response.json()) as { value: unknown }).value]).toEqual([200, 'true', COUNT]);
}

describe('interactive queries across processes', () => {
  it('each instance answers its keys and redirects the rest; a member joining or leaving gives 503s, then correct answers', async () => {
    // The broker in this process (no initial rebalance delay), on a real Kafka listener the worker process connects to.
    const brokerDir = mkdtempSync(join(tmpdir(), 'rill-iq-broker-'));
    const broker = await Broker.open({ config: { dataDir: brokerDir }, groups: { initialRebalanceDelayMs: 0 } });
    const listener = await KafkaListener.start(broker, { host: '127.0.0.1', port: 0 });
    const bootstrap = `127.0.0.1:${listener.port}`;
    cleanup.push(async () => {
      await listener.close();
      await broker.close();
      rmSync(brokerDir, { recursive: true, force: true });
    });
    const transport = new TcpTransport({ bootstrapServers: [bootstrap] });
    cleanup.push(() => transport.close());
    const dirs = ['a', 'b', 'c'].map((name) => mkdtempSync(join(tmpdir(), `rill-iq-${name}-`)));
    cleanup.push(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
    await writeIqInput(transport, PREFIX);

    const startInstance = async (dir: string): Promise<{ app: StreamsApp; server: AppServer }> => {
      const app = new StreamsApp(iqTopology(PREFIX), { applicationId: `${PREFIX}iq-app`, transport, stateDir: dir, commitIntervalMs: 50, heartbeatIntervalMs: 100 });
      const server = await startAppServer(app, { port: 0, hostname: '127.0.0.1' });
      cleanup.push(async () => {
        await app.close();
        await server.close();
      });
      await app.start();
      return { app, server };
    };

    const a = await startInstance(dirs[0]!);
    await runningWith(a.app, 1);
    // Bun runs the worker's TypeScript as it is (Node would need it built into dist/).
    const [command, args] = runtimeCommand('bun', 'test/runtime/interactive-queries-worker.ts', [bootstrap, dirs[1]!, PREFIX]);
    const worker = new ManagedProcess(command, args);
    cleanup.push(async () => void (await worker.stop()));
    const workerUrl = (await worker.waitForLine(/^listening /)).split(' ')[1]!;
    await Promise.all([runningWith(a.app, 2), worker.waitForLine(/^state RUNNING hosts 2$/)]);
    await awaitIqOutputs(transport, PREFIX);

    // Two instances: each answers its keys and redirects the others', whichever it is asked.
    const owners = await checkEveryKey(a.server.url, a.app);
    expect(owners).toEqual(new Set([`127.0.0.1:${a.server.port}`, new URL(workerUrl).host]));
    await checkEveryKey(workerUrl, a.app);
    const instances = (await (await fetch(`${workerUrl}/instances`)).json()) as { instances: { hostInfo: { endpoint: string } }[] };
    expect(instances.instances.map((i) => i.hostInfo.endpoint).sort()).toEqual([...owners].sort());

    // A third member joins: the rebalance answers 503 (stale=true serves and says so), then every key is right again.
    const ownKeyOfA = [...Array(IQ_USERS).keys()].find((u) => a.app.queryMetadataForKey('clicks-per-user', `user-${u}`).activeHost!.port === a.server.port)!;
    const joinProbes = probeRebalance(a.app, ownKeyOfA);
    let c!: { app: StreamsApp; server: AppServer };
    const joined = (async () => {
      c = await startInstance(dirs[2]!);
      await Promise.all([runningWith(a.app, 3), runningWith(c.app, 3), worker.waitForLine(/^state RUNNING hosts 3$/)]);
    })();
    const duringJoin = await pollWhile(a.server.url, joined);
    await joined;
    const [plainJoin, staleJoin, healthJoin, metricsJoin] = await joinProbes;
    await expectUnavailable(plainJoin!);
    await expectStale(staleJoin!);
    await expectRebalancingHealth(healthJoin!, metricsJoin!, `${PREFIX}iq-app`);
    expect(duringJoin.filter((s) => s !== 200 && s !== 503)).toEqual([]);
    for (const base of [a.server.url, workerUrl, c.server.url]) await checkEveryKey(base, c.app);

    // The worker process leaves: its keys move to the two left, with 503s meanwhile.
    const ownKeyOfC = [...Array(IQ_USERS).keys()].find((u) => c.app.queryMetadataForKey('clicks-per-user', `user-${u}`).activeHost!.port === c.server.port);
    const leaveProbes = probeRebalance(c.app, ownKeyOfC ?? 0);
    const left = (async () => {
      const exit = await worker.stop('SIGTERM');
      expect(exit.code, exit.stderr).toBe(0);
      await Promise.all([runningWith(a.app, 2), runningWith(c.app, 2)]);
    })();
    const duringLeave = await pollWhile(c.server.url, left);
    await left;
    const [plainLeave, staleLeave, healthLeave, metricsLeave] = await leaveProbes;
    await expectUnavailable(plainLeave!);
    if (ownKeyOfC !== undefined) await expectStale(staleLeave!);
    await expectRebalancingHealth(healthLeave!, metricsLeave!, `${PREFIX}iq-app`);
    expect(duringLeave.filter((s) => s !== 200 && s !== 503)).toEqual([]);
    for (const base of [a.server.url, c.server.url]) await checkEveryKey(base, a.app);
  });
});
