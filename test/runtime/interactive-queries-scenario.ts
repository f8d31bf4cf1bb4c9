import { isDeepStrictEqual } from 'node:util';
import { Admin } from '../../sdk/client/admin/admin.ts';
import { Consumer } from '../../sdk/client/consumer/consumer.ts';
import { murmur2 } from '../../sdk/client/producer/partitioner.ts';
import { Producer } from '../../sdk/client/producer/producer.ts';
import { jsonSerde, longSerde, stringSerde } from '../../sdk/serde/basic-serdes.ts';
import type { Transport } from '../../sdk/transport/transport.ts';
import { AppState, SessionWindows, StreamsApp, StreamsBuilder, StreamsError, TimeWindows, startAppServer } from '../../streams/mod.ts';

export const IQ_PARTITIONS = 3;
export const IQ_USERS = 6;
export const IQ_RECORDS = 60;
/** Aligned to the 1 s windows. */
export const IQ_BASE_MS = 1_700_000_000_000;

/** Input record n: user `user-<n % 6>` at IQ_BASE_MS + n * 100. */
export const iqTimestamp = (n: number): number => IQ_BASE_MS + n * 100;

/** The job every interactive-query test runs: counts per user, per user and second, per user session, and a JSON-keyed table. */
export function iqTopology(prefix: string): ReturnType<StreamsBuilder['build']> {
  const builder = new StreamsBuilder();
  const grouped = builder.stream(`${prefix}iq-clicks`, { key: stringSerde, value: stringSerde }).groupByKey();
  grouped.count({ name: 'clicks-per-user' }).toStream().to(`${prefix}iq-counts`, { key: stringSerde, value: longSerde });
  grouped.windowedBy(TimeWindows.ofSizeAndGrace(1_000, 600_000)).count({ name: 'clicks-per-second' });
  grouped.windowedBy(SessionWindows.ofInactivityGapAndGrace(1_000, 600_000)).count({ name: 'click-sessions' });
  // Not named: not queryable.
  grouped.count();
  builder.table(`${prefix}iq-profiles`, { key: jsonSerde<{ id: number }>(), value: jsonSerde<{ name: string }>(), name: 'profiles' }).toStream().to(`${prefix}iq-profiles-out`, { key: jsonSerde<{ id: number }>(), value: jsonSerde<{ name: string }>() });
  builder.globalTable(`${prefix}iq-regions`, { key: stringSerde, value: stringSerde, name: 'regions' });
  return builder.build();
}

/** Creates the topics and writes the input: 60 clicks of 6 users, 3 profiles. */
export async function writeIqInput(transport: Transport, prefix: string): Promise<void> {
  const admin = new Admin(transport);
  await admin.createTopics(['iq-clicks', 'iq-counts', 'iq-profiles', 'iq-profiles-out', 'iq-regions'].map((name) => ({ name: `${prefix}${name}`, numPartitions: IQ_PARTITIONS })));
  const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde });
  await producer.sendBatch(Array.from({ length: IQ_RECORDS }, (_, n) => ({ topic: `${prefix}iq-clicks`, key: `user-${n % IQ_USERS}`, value: 'click', timestamp: iqTimestamp(n) })));
  await producer.close();
  const profiles = new Producer(transport, { keySerde: jsonSerde<{ id: number }>(), valueSerde: jsonSerde<{ name: string }>() });
  await profiles.sendBatch([1, 2, 3].map((id) => ({ topic: `${prefix}iq-profiles`, key: { id }, value: { name: `name-${id}` } })));
  await profiles.close();
  const regions = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde });
  await regions.sendBatch(['eu', 'us', 'ap'].map((id) => ({ topic: `${prefix}iq-regions`, key: id, value: `region ${id}` })));
  await regions.close();
}

/** Resolves once every user's final count and every profile reached the outputs (read_committed). */
export async function awaitIqOutputs(transport: Transport, prefix: string): Promise<void> {
  const counts = new Consumer(transport, { keySerde: stringSerde, valueSerde: longSerde, autoOffsetReset: 'earliest' });
  counts.assign(Array.from({ length: IQ_PARTITIONS }, (_, partition) => ({ topic: `${prefix}iq-counts`, partition })));
  const done = new Set<string>();
  try {
    for await (const r of counts) {
      if (r.value === IQ_RECORDS / IQ_USERS) done.add(r.key!);
      if (done.size === IQ_USERS) break;
    }
  } finally {
    await counts.close();
  }
  const profiles = new Consumer(transport, { autoOffsetReset: 'earliest' });
  profiles.assign(Array.from({ length: IQ_PARTITIONS }, (_, partition) => ({ topic: `${prefix}iq-profiles-out`, partition })));
  let seen = 0;
  try {
    for await (const _ of profiles) if (++seen === 3) break;
  } finally {
    await profiles.close();
  }
}

/** What the job must hold for `user`: its windows (start → count) and its one session. */
export function expectedOf(user: number): { windows: [number, number][]; session: { startMs: number; endMs: number; value: number } } {
  const windows = new Map<number, number>();
  const times: number[] = [];
  for (let n = user; n < IQ_RECORDS; n += IQ_USERS) {
    const t = iqTimestamp(n);
    times.push(t);
    const start = Math.floor(t / 1_000) * 1_000;
    windows.set(start, (windows.get(start) ?? 0) + 1);
  }
  return { windows: [...windows].sort((a, b) => a[0] - b[0]), session: { startMs: times[0]!, endMs: times.at(-1)!, value: times.length } };
}

/** The partition the default partitioner gives a string key. */
export const partitionOfKey = (key: string): number => (murmur2(stringSerde.serialize(key)) & 0x7fffffff) % IQ_PARTITIONS;

function check(passed: string[], name: string, actual: unknown, expected: unknown): void {
  if (!isDeepStrictEqual(actual, expected)) throw new Error(`${name}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  passed.push(name);
}

async function getJson(url: string): Promise<{ status: number; body: unknown; headers: Headers }> {
  const response = await fetch(url, { redirect: 'manual' });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as unknown), headers: response.headers };
}

/**
 * One instance of the job with its app server on 127.0.0.1: every query over the SDK and over
 * HTTP against what the job wrote, the errors of bad queries, /health and /metrics, then the
 * 503s once it stops. Returns the names of the checks that passed.
 */
export async function runInteractiveQueriesScenario(transport: Transport, stateDir: string, prefix: string): Promise<string[]> {
  const passed: string[] = [];
  await writeIqInput(transport, prefix);
  const app = new StreamsApp(iqTopology(prefix), { applicationId: `${prefix}iq-app`, transport, stateDir, commitIntervalMs: 50 });
  const server = await startAppServer(app, { port: 0, hostname: '127.0.0.1' });
  try {
    check(passed, 'health before start', (await getJson(`${server.url}/health`)).status, 503);
    await app.start();
    await app.waitFor(AppState.running);
    await awaitIqOutputs(transport, prefix);

    const counts = app.keyValueStore<string, number>('clicks-per-user');
    check(passed, 'sdk get', Array.from({ length: IQ_USERS }, (_, u) => counts.get(`user-${u}`)), Array(IQ_USERS).fill(IQ_RECORDS / IQ_USERS));
    check(passed, 'sdk range', counts.range('user-1', 'user-3').map((e) => [e.key, e.value]), [['user-1', 10], ['user-2', 10], ['user-3', 10]]);
    check(passed, 'sdk prefix and timestamps', counts.prefixScan('user-').map((e) => [e.key, e.timestamp]), Array.from({ length: IQ_USERS }, (_, u) => [`user-${u}`, iqTimestamp(IQ_RECORDS - IQ_USERS + u)]));
    check(passed, 'sdk all with limit', counts.all(2).map((e) => e.key), ['user-0', 'user-1']);
    const windows = app.windowStore<string, number>('clicks-per-second');
    check(passed, 'sdk window fetch', windows.fetch('user-2', IQ_BASE_MS, IQ_BASE_MS + 100_000).map((e) => [e.startMs, e.value]), expectedOf(2).windows);
    check(passed, 'sdk window fetchAll', windows.fetchAll(IQ_BASE_MS, IQ_BASE_MS).map((e) => [e.key, e.value]), Array.from({ length: IQ_USERS }, (_, u) => [`user-${u}`, expectedOf(u).windows[0]![1]]));
    check(passed, 'sdk window get', windows.get('user-0', IQ_BASE_MS + 1_000), expectedOf(0).windows[1]![1]);
    const sessions = app.sessionStore<string, number>('click-sessions');
    check(passed, 'sdk session fetch', sessions.fetch('user-4').map(({ startMs, endMs, value }) => ({ startMs, endMs, value })), [expectedOf(4).session]);
    check(passed, 'sdk json key', app.keyValueStore<{ id: number }, { name: string }>('profiles').get({ id: 2 }), { name: 'name-2' });
    const metadata = app.queryMetadataForKey('clicks-per-user', 'user-5');
    check(passed, 'sdk metadata', [metadata.activeHost?.endpoint, metadata.partition], [`127.0.0.1:${server.port}`, partitionOfKey('user-5')]);
    check(passed, 'sdk all metadata', app.allMetadata().map((m) => [m.hostInfo.port, m.stateStoreNames, m.tasks.length]), [[server.port, ['click-sessions', 'clicks-per-second', 'clicks-per-user', 'profiles', 'regions'], IQ_PARTITIONS * 2]]);
    const regions = app.keyValueStore<string, string>('regions');
    check(passed, 'sdk global store', [regions.get('us'), regions.all().map((e) => e.key), regions.approximateNumEntries()], ['region us', ['ap', 'eu', 'us'], 3]);
    const globalMetadata = app.queryMetadataForKey('regions', 'eu');
    check(passed, 'sdk global store metadata', [globalMetadata.activeHost?.endpoint, globalMetadata.partition], [`127.0.0.1:${server.port}`, -1]);
    const unknown = (() => {
      try {
        app.keyValueStore('nope');
        return undefined;
      } catch (error) {
        return error instanceof StreamsError ? [error.code, error.message] : error;
      }
    })();
    check(passed, 'sdk unknown store', unknown, ['UNKNOWN_STATE_STORE', 'no queryable store named "nope"; the queryable stores are "click-sessions", "clicks-per-second", "clicks-per-user", "profiles", "regions"']);
    const wrongType = (() => {
      try {
        app.windowStore('clicks-per-user');
        return undefined;
      } catch (error) {
        return error instanceof StreamsError ? error.code : error;
      }
    })();
    check(passed, 'sdk wrong store type', wrongType, 'WRONG_STORE_TYPE');

    const url = server.url;
    check(passed, 'http get', (await getJson(`${url}/stores/clicks-per-user/keys/user-3`)).body, { key: 'user-3', value: 10, timestamp: iqTimestamp(IQ_RECORDS - IQ_USERS + 3), partition: partitionOfKey('user-3') });
    check(passed, 'http range', ((await getJson(`${url}/stores/clicks-per-user/keys?from=user-4&to=user-9`)).body as { entries: { key: string }[] }).entries.map((e) => e.key), ['user-4', 'user-5']);
    check(passed, 'http prefix page', (await getJson(`${url}/stores/clicks-per-user/keys?prefix=user-&limit=4`)).body, {
      entries: Array.from({ length: 4 }, (_, u) => ({ key: `user-${u}`, value: 10, timestamp: iqTimestamp(IQ_RECORDS - IQ_USERS + u) })),
      partitions: [0, 1, 2],
      truncated: true,
    });
    check(passed, 'http window fetch', ((await getJson(`${url}/stores/clicks-per-second/keys/user-1/windows?from=${IQ_BASE_MS}`)).body as { entries: { startMs: number; value: number }[] }).entries.map((e) => [e.startMs, e.value]), expectedOf(1).windows);
    check(passed, 'http window fetchAll', ((await getJson(`${url}/stores/clicks-per-second/windows?from=${IQ_BASE_MS + 5_000}&to=${IQ_BASE_MS + 5_000}`)).body as { entries: { key: string; endMs: number }[] }).entries.map((e) => [e.key, e.endMs]), Array.from({ length: IQ_USERS }, (_, u) => [`user-${u}`, IQ_BASE_MS + 6_000]));
    check(passed, 'http sessions', ((await getJson(`${url}/stores/click-sessions/keys/user-0/sessions`)).body as { entries: { startMs: number; endMs: number; value: number }[] }).entries.map(({ startMs, endMs, value }) => ({ startMs, endMs, value })), [expectedOf(0).session]);
    check(passed, 'http json key', ((await getJson(`${url}/stores/profiles/keys/${encodeURIComponent('{"id":3}')}`)).body as { value: unknown }).value, { name: 'name-3' });
    check(passed, 'http global store', [(await getJson(`${url}/stores/regions/keys/ap`)).body, ((await getJson(`${url}/stores/regions/keys?prefix=e`)).body as { entries: unknown[] }).entries], [
      { key: 'ap', value: 'region ap', partition: -1 },
      [{ key: 'eu', value: 'region eu' }],
    ]);
    check(passed, 'http store list', ((await getJson(`${url}/stores`)).body as { stores: { name: string; global?: boolean }[] }).stores.filter((st) => st.global === true).map((st) => st.name), ['regions']);
    const problem = async (path: string): Promise<[number, string | null, string]> => {
      const response = await fetch(`${url}${path}`);
      const body = (await response.json()) as { detail: string };
      return [response.status, response.headers.get('content-type'), body.detail];
    };
    check(passed, 'http unknown store', await problem('/stores/nope/keys/a'), [404, 'application/problem+json', 'no queryable store named "nope"; the queryable stores are "click-sessions", "clicks-per-second", "clicks-per-user", "profiles", "regions"']);
    check(passed, 'http malformed json key', (await problem('/stores/profiles/keys/%7Bid')).slice(0, 2), [400, 'application/problem+json']);
    check(passed, 'http wrong store type', await problem('/stores/clicks-per-second/keys/user-1'), [400, 'application/problem+json', 'store "clicks-per-second" is a window store, not a key-value store']);
    check(passed, 'http bad bound', (await problem('/stores/clicks-per-second/windows?from=x')).slice(0, 2), [400, 'application/problem+json']);
    check(passed, 'http missing key', (await problem('/stores/clicks-per-user/keys/nobody')).slice(0, 2), [404, 'application/problem+json']);
    check(passed, 'http health', (await getJson(`${url}/health`)).body, { state: 'RUNNING', applicationId: `${prefix}iq-app`, rebalancing: false });
    const metrics = await (await fetch(`${url}/metrics`)).text();
    check(passed, 'http metrics', [`rill_streams_records_in_total{application_id="${prefix}iq-app"} ${IQ_RECORDS + 3}`, `rill_streams_state{application_id="${prefix}iq-app",state="RUNNING"} 1`, 'rill_streams_commit_latency_ms_total', 'rill_streams_task_restored_records'].filter((line) => !metrics.includes(line)), []);
    check(passed, 'http instances', ((await getJson(`${url}/instances`)).body as { self: string }).self, `127.0.0.1:${server.port}`);

    await app.close();
    const closed = await fetch(`${url}/stores/clicks-per-user/keys/user-1`);
    check(passed, 'http 503 once stopped', [closed.status, closed.headers.get('retry-after'), ((await closed.json()) as { errors: unknown }).errors], [503, '1', [{ code: 'STORE_UNAVAILABLE' }]]);
    check(passed, 'http health once stopped', (await getJson(`${url}/health`)).status, 503);
  } finally {
    await app.close();
    await server.close();
  }
  return passed;
}
