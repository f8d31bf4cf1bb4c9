import { describe, expect, expectTypeOf, it } from 'vitest';
import { jsonSerde, longSerde, stringSerde } from '../../../sdk/mod.ts';
import { murmur2Partitioner } from '../../../sdk/client/producer/partitioner.ts';
import {
  DeadLetterHeader,
  type KStream,
  type KTable,
  type SessionWindowedKStream,
  type SlidingWindowedKStream,
  type ReadOnlySessionStore,
  type ReadOnlyWindowStore,
  SessionWindows,
  sessionWindowedSerde,
  SlidingWindows,
  StreamRecord,
  StreamsBuilder,
  timeWindowedSerde,
  TopologyError,
  type ValueAndTimestamp,
  type Windowed,
} from '../../../streams/mod.ts';
import { openTaskStore } from '../../../streams/state/open-task-store.ts';
import type { OutputRecord } from '../../../streams/runtime/record-collector.ts';
import { type RecordFailure, Task } from '../../../streams/runtime/task.ts';
import type { Topology } from '../../../streams/topology/topology.ts';
import { testDriver } from './helpers/test-driver.ts';

const text = { key: stringSerde, value: stringSerde };
const decoder = new TextDecoder();

/** `key@[start,end]=value tsN`: windows of both kinds are inclusive at both ends. */
function rendered(records: { key: Windowed<string>; value: unknown; timestamp: number }[]): string[] {
  return records.map((r) => `${r.key.key}@[${r.key.window.startMs},${r.key.window.endMs}]=${JSON.stringify(r.value)} ts${r.timestamp}`);
}

function slidingCount(windows: SlidingWindows, options: { cached?: boolean } = {}) {
  const builder = new StreamsBuilder();
  builder.stream('events', text).groupByKey().windowedBy(windows).count({ name: 'counts', ...options }).toStream().to('counts');
  return builder.build();
}

function sessionCount(windows: SessionWindows, options: { cached?: boolean } = {}) {
  const builder = new StreamsBuilder();
  builder.stream('events', text).groupByKey().windowedBy(windows).count({ name: 'sessions', ...options }).toStream().to('sessions');
  return builder.build();
}

describe('sliding windows through the test driver', () => {
  it('creates left and right windows per record, in order and out of order within the grace, and drops a record late for every window', async () => {
    const driver = testDriver(slidingCount(SlidingWindows.ofTimeDifferenceAndGrace(10, 5), { cached: false }), { applicationId: 'app' });
    const input = driver.inputTopic('events', text);
    const output = driver.outputTopic('counts', { key: timeWindowedSerde(stringSerde, 10), value: longSerde });
    const step = async (timestamp: number): Promise<string[]> => {
      await input.pipe('a', 'x', { timestamp });
      return rendered(output.readRecords());
    };
    // 20: its left window.
    expect(await step(20)).toEqual(['a@[10,20]=1 ts20']);
    // 25: the right window of 20 (holding 25 alone), then its left window from 20's aggregate.
    expect(await step(25)).toEqual(['a@[21,31]=1 ts25', 'a@[15,25]=2 ts25']);
    expect(await step(32)).toEqual(['a@[26,36]=1 ts32', 'a@[22,32]=2 ts32']);
    // 22 at stream time 32 (close time 27): updates the open windows holding it by descending start;
    // [15,25] holds it but has closed (25 + 5 < 32), and so has its own left window [12,22]; its right
    // window [23,33] is a copy of the later records' aggregate (25 and 32).
    expect(await step(22)).toEqual(['a@[22,32]=3 ts32', 'a@[21,31]=2 ts25', 'a@[23,33]=2 ts32']);
    // 5: 5 + 10 + 5 < 32, every window that could hold it has closed.
    expect(await step(5)).toEqual([]);
    expect(await step(40)).toEqual(['a@[33,43]=1 ts40', 'a@[30,40]=2 ts40']);
    expect(driver.metrics().tasks[0]!.lateRecordsDropped).toBe(1);
    const store = driver.store<ReadOnlyWindowStore<string, ValueAndTimestamp<number>>>('counts');
    // Retention 2d + grace = 25 past the largest start (33): windows from 9 on are kept.
    expect([...store.fetch('a', 0, 100)].map(([start, v]) => `${start}=${v.value} ts${v.timestamp}`)).toEqual([
      '10=1 ts20',
      '15=2 ts25',
      '21=2 ts25',
      '22=3 ts32',
      '23=2 ts32',
      '26=1 ts32',
      '30=2 ts40',
      '33=1 ts40',
    ]);
    driver.close();
  });

  it('puts records before the time difference into the window [0, d], as Kafka Streams does', async () => {
    const driver = testDriver(slidingCount(SlidingWindows.ofTimeDifferenceAndGrace(10, 100), { cached: false }));
    const input = driver.inputTopic('events', text);
    const output = driver.outputTopic('counts', { key: timeWindowedSerde(stringSerde, 10), value: longSerde });
    const step = async (timestamp: number): Promise<string[]> => {
      await input.pipe('a', 'x', { timestamp });
      return rendered(output.readRecords());
    };
    expect(await step(3)).toEqual(['a@[0,10]=1 ts3']);
    expect(await step(7)).toEqual(['a@[4,14]=1 ts7', 'a@[0,10]=2 ts7']);
    expect(await step(12)).toEqual(['a@[4,14]=2 ts12', 'a@[8,18]=1 ts12', 'a@[2,12]=3 ts12']);
    // 1, out of order: its right window [2,12] exists already; [0,10] takes it.
    expect(await step(1)).toEqual(['a@[0,10]=3 ts7']);
    driver.close();
  });

  it('with caching, emits each changed window once per commit in store order, with the same values', async () => {
    const driver = testDriver(slidingCount(SlidingWindows.ofTimeDifferenceAndGrace(10, 5)));
    const input = driver.inputTopic('events', text);
    for (const timestamp of [20, 25, 32, 22]) await input.pipe('a', 'x', { timestamp });
    const out = rendered(driver.outputTopic('counts', { key: timeWindowedSerde(stringSerde, 10), value: longSerde }).readRecords());
    expect(out).toEqual(['a@[10,20]=1 ts20', 'a@[15,25]=2 ts25', 'a@[21,31]=1 ts25', 'a@[22,32]=2 ts32', 'a@[26,36]=1 ts32', 'a@[21,31]=2 ts25', 'a@[22,32]=3 ts32', 'a@[23,33]=2 ts32']);
    driver.close();
  });

  it('reduces and aggregates per sliding window; refuses a zero time difference', async () => {
    const builder = new StreamsBuilder();
    const grouped = builder.stream('events', { key: stringSerde, value: jsonSerde<number>() }).groupByKey();
    const windows = SlidingWindows.ofTimeDifferenceWithNoGrace(5);
    grouped.windowedBy(windows).reduce((a, b) => a + b, { name: 'sums', cached: false }).toStream().to('sums');
    grouped.windowedBy(windows).aggregate(() => [] as number[], (_key, value, list) => [...list, value], { name: 'lists', value: jsonSerde<number[]>(), cached: false }).toStream().to('lists');
    const driver = testDriver(builder.build());
    const input = driver.inputTopic('events', { key: stringSerde, value: jsonSerde<number>() });
    for (const timestamp of [10, 13, 16]) await input.pipe('k', timestamp, { timestamp });
    expect(rendered(driver.outputTopic('sums', { key: timeWindowedSerde(stringSerde, 5), value: jsonSerde<number>() }).readRecords())).toEqual([
      'k@[5,10]=10 ts10',
      'k@[11,16]=13 ts13',
      'k@[8,13]=23 ts13',
      'k@[11,16]=29 ts16',
      'k@[14,19]=16 ts16',
    ]);
    expect(rendered(driver.outputTopic('lists', { key: timeWindowedSerde(stringSerde, 5), value: jsonSerde<number[]>() }).readRecords())).toEqual([
      'k@[5,10]=[10] ts10',
      'k@[11,16]=[13] ts13',
      'k@[8,13]=[10,13] ts13',
      'k@[11,16]=[13,16] ts16',
      'k@[14,19]=[16] ts16',
    ]);
    expect(() => SlidingWindows.ofTimeDifferenceAndGrace(0, 5)).toThrow(TopologyError);
    expect(() => SlidingWindows.ofTimeDifferenceAndGrace(5, -1)).toThrow(TopologyError);
    driver.close();
  });
});

describe('session windows through the test driver', () => {
  // Gap 10, grace 20: a session closes (and leaves the store: retention gap + grace) once stream time passes its end by 20.
  const windows = SessionWindows.ofInactivityGapAndGrace(10, 20);
  const steps: [string, number][] = [['a', 0], ['a', 5], ['a', 25], ['a', 15], ['b', 2], ['a', 40], ['a', 33], ['a', 20], ['c', 36]];

  it('merges sessions a record joins or bridges, with a tombstone per merged-away session, and drops a record whose session closed', async () => {
    const driver = testDriver(sessionCount(windows, { cached: false }), { applicationId: 'app' });
    const input = driver.inputTopic('events', text);
    const output = driver.outputTopic('sessions', { key: sessionWindowedSerde(stringSerde), value: longSerde });
    const outputs: string[][] = [];
    for (const [key, timestamp] of steps) {
      await input.pipe(key, 'x', { timestamp });
      outputs.push(rendered(output.readRecords()));
    }
    expect(outputs).toEqual([
      ['a@[0,0]=1 ts0'],
      // 5 is within the gap of [0,0]: the session becomes [0,5].
      ['a@[0,0]=null ts0', 'a@[0,5]=2 ts5'],
      ['a@[25,25]=1 ts25'],
      // 15 bridges [0,5] and [25,25] (each within the gap of it): one session [0,25].
      ['a@[0,5]=null ts5', 'a@[25,25]=null ts25', 'a@[0,25]=4 ts25'],
      // b@2 at stream time 25: its session [2,2] ends before 25 - 20.
      [],
      ['a@[40,40]=1 ts40'],
      // 33 at stream time 40 (close time 20) bridges [0,25] and [40,40].
      ['a@[0,25]=null ts25', 'a@[40,40]=null ts40', 'a@[0,40]=6 ts40'],
      // 20 falls inside [0,40]: without caching, Kafka Streams forwards the removal, then the new value.
      ['a@[0,40]=null ts40', 'a@[0,40]=7 ts40'],
      // Out of order within the grace: 36 + 20 >= 40.
      ['c@[36,36]=1 ts36'],
    ]);
    expect(driver.metrics().tasks[0]!.lateRecordsDropped).toBe(1);
    const store = driver.store<ReadOnlySessionStore<string, number>>('sessions');
    expect([...store.all()].map(([s, count]) => `${s.key}@[${s.window.startMs},${s.window.endMs}]=${count}`)).toEqual(['a@[0,40]=7', 'c@[36,36]=1']);
    expect(store.fetchSession('a', 0, 40)).toBe(7);
    expect(store.fetchSession('a', 0, 25)).toBeUndefined();
    driver.close();
  });

  it('with caching, emits each changed session once per commit in store order (key, end, start): a session updated in place is no tombstone', async () => {
    const driver = testDriver(sessionCount(windows), { applicationId: 'app' });
    const input = driver.inputTopic('events', text);
    const output = driver.outputTopic('sessions', { key: sessionWindowedSerde(stringSerde), value: longSerde });
    const outputs: string[][] = [];
    for (const [key, timestamp] of steps) {
      await input.pipe(key, 'x', { timestamp });
      outputs.push(rendered(output.readRecords()));
    }
    expect(outputs).toEqual([
      ['a@[0,0]=1 ts0'],
      ['a@[0,0]=null ts0', 'a@[0,5]=2 ts5'],
      ['a@[25,25]=1 ts25'],
      ['a@[0,5]=null ts5', 'a@[0,25]=4 ts25', 'a@[25,25]=null ts25'],
      [],
      ['a@[40,40]=1 ts40'],
      ['a@[0,25]=null ts25', 'a@[0,40]=6 ts40', 'a@[40,40]=null ts40'],
      ['a@[0,40]=7 ts40'],
      ['c@[36,36]=1 ts36'],
    ]);
    // The changelog: compacted, it holds the live sessions only.
    const changelog = new Map<string, Uint8Array | null>();
    for (const r of driver.outputTopic('app-sessions-changelog').readRecords()) changelog.set(String.fromCharCode(...(r.key as Uint8Array)), r.value as Uint8Array | null);
    const live = [...changelog].filter(([, value]) => value !== null).map(([key]) => sessionWindowedSerde(stringSerde).deserialize(Uint8Array.from(key, (c) => c.charCodeAt(0))));
    expect(live.map((s) => `${s.key}@[${s.window.startMs},${s.window.endMs}]`)).toEqual(['a@[0,40]', 'c@[36,36]']);
    driver.close();
  });

  it('never merges a record into a session that has closed: the record joins the open ones only (closed sessions left the store)', async () => {
    const driver = testDriver(sessionCount(SessionWindows.ofInactivityGapWithNoGrace(10), { cached: false }));
    const input = driver.inputTopic('events', text);
    for (const timestamp of [100, 120, 110]) await input.pipe('a', 'x', { timestamp });
    // At 110 (stream time 120), [100,100] is within the gap but closed (100 < 120 - 0): 110 joins [120,120] alone.
    expect(rendered(driver.outputTopic('sessions', { key: sessionWindowedSerde(stringSerde), value: longSerde }).readRecords())).toEqual([
      'a@[100,100]=1 ts100',
      'a@[120,120]=1 ts120',
      'a@[120,120]=null ts120',
      'a@[110,120]=2 ts120',
    ]);
    expect(driver.metrics().tasks[0]!.lateRecordsDropped).toBe(0);
    driver.close();
  });

  it('reduces and aggregates with a merger, and dead-letters a late record when the policy says so', async () => {
    const builder = new StreamsBuilder();
    const grouped = builder.stream('events', { key: stringSerde, value: jsonSerde<number>() }).groupByKey();
    const windows = SessionWindows.ofInactivityGapAndGrace(10, 30);
    grouped.windowedBy(windows).reduce((a, b) => a + b, { name: 'sums' }).toStream().to('sums');
    grouped
      .windowedBy(windows)
      .aggregate(
        () => [] as number[],
        (_key, value, list) => [...list, value],
        (_key, list, session) => [...list, ...session],
        { name: 'lists', value: jsonSerde<number[]>() },
      )
      .toStream()
      .to('lists');
    const driver = testDriver(builder.build(), { applicationId: 'app', failures: { lateRecords: 'dlq' } });
    const input = driver.inputTopic('events', { key: stringSerde, value: jsonSerde<number>() });
    for (const timestamp of [100, 120, 110, 90]) await input.pipe('k', timestamp, { timestamp });
    await input.pipe('k', 70, { timestamp: 70, headers: [{ key: 'trace', value: new TextEncoder().encode('t-1') }] });
    const sessionKeys = sessionWindowedSerde(stringSerde);
    expect(rendered(driver.outputTopic('sums', { key: sessionKeys, value: jsonSerde<number>() }).readRecords())).toEqual([
      'k@[100,100]=100 ts100',
      'k@[120,120]=120 ts120',
      'k@[100,100]=null ts100',
      'k@[100,120]=330 ts120',
      'k@[120,120]=null ts120',
      'k@[90,120]=420 ts120',
      'k@[100,120]=null ts120',
    ]);
    expect(rendered(driver.outputTopic('lists', { key: sessionKeys, value: jsonSerde<number[]>() }).readRecords()).filter((line) => !line.includes('null'))).toEqual([
      'k@[100,100]=[100] ts100',
      'k@[120,120]=[120] ts120',
      'k@[100,120]=[100,120,110] ts120',
      'k@[90,120]=[100,120,110,90] ts120',
    ]);
    // 70 at stream time 120 (close time 90): its session [70,70] (90 - 70 > 10) has closed; one DLQ record per aggregation reading it.
    const dead = driver.outputTopic('app-dlq', { key: stringSerde, value: jsonSerde<number>() }).readRecords();
    expect(dead.map((r) => [r.key, r.value, r.timestamp])).toEqual([
      ['k', 70, 70],
      ['k', 70, 70],
    ]);
    const headers = Object.fromEntries(dead[0]!.headers.map((h) => [h.key, h.value === null ? null : decoder.decode(h.value)]));
    expect(headers).toMatchObject({ trace: 't-1', [DeadLetterHeader.errorKind]: 'late' });
    expect(headers[DeadLetterHeader.error]).toMatch(/its session has closed/);
    expect(driver.metrics().tasks[0]!.lateRecordsDropped).toBe(2);
    driver.close();
  });

  it("writes Kafka Streams' SessionWindowedSerializer layout (key bytes, then end and start as big-endian int64) and partitions by the inner key", () => {
    const serde = sessionWindowedSerde(stringSerde);
    const bytes = serde.serialize({ key: 'ab', window: { startMs: 0x1_0000_0002, endMs: 0x0102_0304_0506 } });
    expect([...bytes]).toEqual([0x61, 0x62, 0, 0, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0, 0, 0, 0x01, 0, 0, 0, 0x02]);
    expect(serde.deserialize(bytes)).toEqual({ key: 'ab', window: { startMs: 0x1_0000_0002, endMs: 0x0102_0304_0506 } });
    expect(() => serde.deserialize(new Uint8Array(15))).toThrow(/at least 16 bytes/);
    const topology = sessionCount(SessionWindows.ofInactivityGapWithNoGrace(10));
    const sink = topology.subtopologies[0]!.sinks[0]!;
    for (const key of ['a', 'order-17']) {
      const expected = murmur2Partitioner.partition({ topic: 'sessions', key: stringSerde.serialize(key), partitionCount: 16 });
      for (const window of [{ startMs: 0, endMs: 0 }, { startMs: 5, endMs: 1_000_000 }]) expect(sink.partitioner!(new StreamRecord<unknown, unknown>({ key, window }, 1, 0), 16)).toBe(expected);
    }
    expect(topology.describe().toString()).toMatch(/sessions \(session \(retention 10 ms\), cached, changelog sessions-changelog\)/);
    expect(() => SessionWindows.ofInactivityGapAndGrace(0, 1)).toThrow(TopologyError);
  });
});

describe('sliding and session windows: types, asynchronous steps, restores', () => {
  it('infers the windowed stream of each kind of windows and tables that delete only for sessions', () => {
    const builder = new StreamsBuilder();
    const grouped = builder.stream('events', { key: stringSerde, value: jsonSerde<number>() }).groupByKey();
    const sliding = grouped.windowedBy(SlidingWindows.ofTimeDifferenceWithNoGrace(10));
    expectTypeOf(sliding).toEqualTypeOf<SlidingWindowedKStream<string, number>>();
    expectTypeOf(sliding.count()).toEqualTypeOf<KTable<Windowed<string>, number, never>>();
    const sessions = grouped.windowedBy(SessionWindows.ofInactivityGapWithNoGrace(10));
    expectTypeOf(sessions).toEqualTypeOf<SessionWindowedKStream<string, number>>();
    expectTypeOf(sessions.reduce((a, b) => a + b).toStream()).toEqualTypeOf<KStream<Windowed<string>, number | null>>();
    // @ts-expect-error a session aggregate needs a merger
    expect(() => sessions.aggregate(() => 0, (_k, v, a) => a + v, { value: longSerde })).toThrow();
  });

  it('awaits asynchronous aggregators and mergers, each step reading what the one before wrote', async () => {
    const builder = new StreamsBuilder();
    const grouped = builder.stream('events', { key: stringSerde, value: jsonSerde<number>() }).groupByKey();
    grouped
      .windowedBy(SlidingWindows.ofTimeDifferenceWithNoGrace(5))
      .aggregate(() => [] as number[], async (_key, value, list) => [...list, value], { name: 'sliding', value: jsonSerde<number[]>(), cached: false })
      .toStream()
      .to('sliding');
    grouped
      .windowedBy(SessionWindows.ofInactivityGapAndGrace(10, 30))
      .aggregate(
        () => [] as number[],
        async (_key, value, list) => [...list, value],
        async (_key, list, session) => [...list, ...session],
        { name: 'sessions', value: jsonSerde<number[]>(), cached: false },
      )
      .toStream()
      .to('sessions');
    const driver = testDriver(builder.build());
    const input = driver.inputTopic('events', { key: stringSerde, value: jsonSerde<number>() });
    for (const timestamp of [10, 13, 16, 30, 20]) await input.pipe('k', timestamp, { timestamp });
    expect(rendered(driver.outputTopic('sliding', { key: timeWindowedSerde(stringSerde, 5), value: jsonSerde<number[]>() }).readRecords())).toEqual([
      'k@[5,10]=[10] ts10',
      'k@[11,16]=[13] ts13',
      'k@[8,13]=[10,13] ts13',
      'k@[11,16]=[13,16] ts16',
      'k@[14,19]=[16] ts16',
      'k@[25,30]=[30] ts30',
    ]);
    // 20 arrived at stream time 30: late for every sliding window (20 + 5 < 30), on time for its session (grace 30).
    expect(rendered(driver.outputTopic('sessions', { key: sessionWindowedSerde(stringSerde), value: jsonSerde<number[]>() }).readRecords())).toEqual([
      'k@[10,10]=[10] ts10',
      'k@[10,10]=null ts10',
      'k@[10,13]=[10,13] ts13',
      'k@[10,13]=null ts13',
      'k@[10,16]=[10,13,16] ts16',
      'k@[30,30]=[30] ts30',
      'k@[10,16]=null ts16',
      'k@[30,30]=null ts30',
      'k@[10,30]=[10,13,16,30,20] ts30',
    ]);
    driver.close();
  });

  it('gives a sliding window made from another window a copy of its aggregate: an aggregator changing its list in place changes one window', async () => {
    const builder = new StreamsBuilder();
    const grouped = builder.stream('events', { key: stringSerde, value: jsonSerde<number>() }).groupByKey();
    const windows = SlidingWindows.ofTimeDifferenceAndGrace(10, 5);
    grouped.windowedBy(windows).aggregate(() => [] as number[], (_key, value, list) => [...list, value], { name: 'copied', value: jsonSerde<number[]>() });
    grouped.windowedBy(windows).aggregate(
      () => [] as number[],
      (_key, value, list) => {
        list.push(value);
        return list;
      },
      { name: 'in-place', value: jsonSerde<number[]>() },
    );
    const driver = testDriver(builder.build());
    const input = driver.inputTopic('events', { key: stringSerde, value: jsonSerde<number>() });
    for (const timestamp of [20, 25, 32, 22, 3, 1]) await input.pipe('a', timestamp, { timestamp });
    const listed = (name: string) => [...driver.store<ReadOnlyWindowStore<string, ValueAndTimestamp<number[]>>>(name).all()].map(([w, v]) => `${w.window.startMs}=${JSON.stringify(v.value)}`);
    expect(listed('in-place')).toEqual(listed('copied'));
    expect(listed('copied')).toContain('23=[25,32]');
    driver.close();
  });

  it('keeps sessions and sliding windows that closed before a restore closed: a restored task starts from the latest time in its store', async () => {
    const builder = new StreamsBuilder();
    const grouped = builder.stream('events', text).groupByKey();
    grouped.windowedBy(SessionWindows.ofInactivityGapAndGrace(5, 5)).count({ name: 'sessions', cached: false }).toStream().to('sessions');
    grouped.windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(5, 5)).count({ name: 'sliding', cached: false }).toStream().to('sliding');
    const topology = builder.build();
    const { sent, failures, newTask } = tasksOf(topology);
    let offset = 0;
    const accept = (task: Task, timestamp: number): void =>
      task.accept({ topic: 'events', partition: 0, offset: offset++, timestamp, key: new TextEncoder().encode('a'), value: new TextEncoder().encode('x'), headers: [] });
    const first = newTask();
    for (const timestamp of [1, 30]) accept(first, timestamp);
    first.prepareCommit();
    first.commitSucceeded();
    first.close();
    const changelogs = new Map<string, { offset: number; key: Uint8Array; value: Uint8Array | null }[]>();
    for (const r of sent) if (r.topic.endsWith('-changelog')) changelogs.set(r.topic, [...(changelogs.get(r.topic) ?? []), { offset: changelogs.get(r.topic)?.length ?? 0, key: r.key!, value: r.value as Uint8Array | null }]);
    sent.length = 0;
    const second = newTask();
    for (const store of ['sessions', 'sliding']) {
      const records = changelogs.get(`app-${store}-changelog`)!;
      second.taskStore(store).restore(records, records.length);
    }
    // A fresh task has no stream time: without the store's, 3 would be on time for both.
    accept(second, 3);
    expect(failures.map((f) => [f.kind, f.job.timestamp])).toEqual([
      ['late', 3],
      ['late', 3],
    ]);
    expect(sent.filter((r) => r.topic === 'sessions' || r.topic === 'sliding')).toEqual([]);
    second.close();
  });
});

/** Tasks of the topology's only sub-topology (partition 0), writing outputs and changelog records to `sent` and collecting failures. */
function tasksOf(topology: Topology) {
  const sent: OutputRecord[] = [];
  const failures: RecordFailure[] = [];
  const newTask = (): Task => {
    const task: Task = new Task(
      { subtopology: 0, partition: 0 },
      topology.subtopologies[0]!,
      (name) => topology.childrenOf(name),
      {
        applicationId: 'app',
        collector: { send: (r) => void sent.push(r), partitionCount: () => 1 },
        topicName: (ref) => (ref.internal ? `app-${ref.name}` : ref.name),
        openStore: (spec, taskId) =>
          openTaskStore(spec, {
            partition: taskId.partition,
            writeChangelog: (r) => void sent.push({ ...r, topic: `app-${spec.name}-changelog`, partition: 0 }),
            changelogTimestampMs: () => Math.max(0, task.streamTimeMs),
          }),
        onFailure: (failure) => void failures.push(failure),
        nowMs: () => 0,
      },
      { maxInFlightRecords: 10 },
    );
    return task;
  };
  return { sent, failures, newTask };
}
