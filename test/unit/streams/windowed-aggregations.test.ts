import { describe, expect, it } from 'vitest';
import { jsonSerde, longSerde, stringSerde } from '../../../sdk/mod.ts';
import { murmur2Partitioner } from '../../../sdk/client/producer/partitioner.ts';
import {
  DeadLetterHeader,
  nullable,
  type ProcessorContext,
  type Topology,
  StreamRecord,
  type ReadOnlyWindowStore,
  StreamsBuilder,
  TimeWindows,
  timeWindowedSerde,
  TopologyError,
  type ValueAndTimestamp,
  type Windowed,
} from '../../../streams/mod.ts';
import { openTaskStore } from '../../../streams/state/open-task-store.ts';
import type { OutputRecord } from '../../../streams/runtime/record-collector.ts';
import { type RecordFailure, Task } from '../../../streams/runtime/task.ts';
import { testDriver } from './helpers/test-driver.ts';

const text = { key: stringSerde, value: stringSerde };
const decoder = new TextDecoder();

/** `key@[start,end)=value ts` per output record: compact and readable in a failing diff. */
function rendered(records: { key: Windowed<string>; value: unknown; timestamp: number }[]): string[] {
  return records.map((r) => `${r.key.key}@[${r.key.window.startMs},${r.key.window.endMs})=${JSON.stringify(r.value)} ts${r.timestamp}`);
}

function windowedCount(windows: TimeWindows, options: { cached?: boolean } = {}) {
  const builder = new StreamsBuilder();
  builder
    .stream('events', text)
    .groupByKey()
    .windowedBy(windows)
    .count({ name: 'counts', ...options })
    .toStream()
    .to('counts', { key: timeWindowedSerde(stringSerde, windows.sizeMs) });
  return builder.build();
}

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
        topicName: (ref) => ref.name,
        openStore: (spec, taskId) =>
          openTaskStore(spec, {
            partition: taskId.partition,
            writeChangelog: (r) => void sent.push({ ...r, topic: 'changelog', partition: 0 }),
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

describe('windowed aggregations through the test driver', () => {
  it('counts per tumbling window, in order and out of order, and drops a record whose window closed', async () => {
    for (const cached of [true, false]) {
      const driver = testDriver(windowedCount(TimeWindows.ofSizeWithNoGrace(10), { cached }), { applicationId: 'app' });
      const input = driver.inputTopic('events', text);
      for (const [key, timestamp] of [['a', 1], ['a', 5], ['b', 7], ['a', 12], ['a', 9], ['b', 20]] as const) await input.pipe(key, 'x', { timestamp });
      const out = driver.outputTopic('counts', { key: timeWindowedSerde(stringSerde, 10), value: longSerde }).readRecords();
      expect(rendered(out)).toEqual(['a@[0,10)=1 ts1', 'a@[0,10)=2 ts5', 'b@[0,10)=1 ts7', 'a@[10,20)=1 ts12', 'b@[20,30)=1 ts20']);
      expect(driver.metrics().tasks.map((t) => [t.taskId, t.lateRecordsDropped])).toEqual([['0_0', 1]]);
      expect(driver.outputTopic('app-dlq').readRecords()).toEqual([]);
      driver.close();
    }
  });

  it('counts per hopping window with grace: out-of-order records within the grace count, a record late for all its windows is dropped', async () => {
    const driver = testDriver(windowedCount(TimeWindows.ofSizeAndGrace(10, 5).advanceBy(5)), { applicationId: 'app' });
    const input = driver.inputTopic('events', text);
    // Stream time after each: 3, 7, 14, 14, 21, 21, 21. At 21, [5,15) is closed (15 + 5 <= 21) and [10,20) open (20 + 5 > 21).
    for (const timestamp of [3, 7, 14, 4, 21, 12, 6]) await input.pipe('a', 'x', { timestamp });
    const out = driver.outputTopic('counts', { key: timeWindowedSerde(stringSerde, 10), value: longSerde }).readRecords();
    expect(rendered(out)).toEqual([
      'a@[0,10)=1 ts3',
      'a@[0,10)=2 ts7',
      'a@[5,15)=1 ts7',
      'a@[5,15)=2 ts14',
      'a@[10,20)=1 ts14',
      'a@[0,10)=3 ts7',
      'a@[15,25)=1 ts21',
      'a@[20,30)=1 ts21',
      'a@[10,20)=2 ts14',
    ]);
    expect(driver.metrics().tasks[0]!.lateRecordsDropped).toBe(1);
    const store = driver.store<ReadOnlyWindowStore<string, ValueAndTimestamp<number>>>('counts');
    // Retention is size + grace = 15 past the largest window start (20): windows from 6 on are kept.
    expect([...store.fetch('a', 0, 100)]).toEqual([
      [10, { value: 2, timestamp: 14 }],
      [15, { value: 1, timestamp: 21 }],
      [20, { value: 1, timestamp: 21 }],
    ]);
    expect(store.get('a', 5)).toBeUndefined();
  });

  it("dead-letters a late record with the other dead-letter paths' headers when the policy says so", async () => {
    const driver = testDriver(windowedCount(TimeWindows.ofSizeWithNoGrace(10)), { applicationId: 'app', failures: { lateRecords: 'dlq' } });
    const input = driver.inputTopic('events', text);
    await input.pipe('a', 'on time', { timestamp: 15 });
    await input.pipe('a', 'late', { timestamp: 3, headers: [{ key: 'trace', value: new TextEncoder().encode('t-1') }] });
    const [dead, ...more] = driver.outputTopic('app-dlq', text).readRecords();
    expect(more).toEqual([]);
    expect(dead!.key).toBe('a');
    expect(dead!.value).toBe('late');
    expect(dead!.timestamp).toBe(3);
    const headers = Object.fromEntries(dead!.headers.map((h) => [h.key, h.value === null ? null : decoder.decode(h.value)]));
    expect(headers).toMatchObject({
      trace: 't-1',
      [DeadLetterHeader.errorKind]: 'late',
      [DeadLetterHeader.topic]: 'events',
      [DeadLetterHeader.partition]: '0',
      [DeadLetterHeader.offset]: '1',
      [DeadLetterHeader.task]: '0_0',
    });
    expect(headers[DeadLetterHeader.error]).toMatch(/every window holding it has closed/);
    expect(driver.metrics()).toMatchObject({ recordsDeadLettered: 1, recordsSkipped: 0 });
    expect(driver.metrics().tasks[0]!.lateRecordsDropped).toBe(1);
    expect(rendered(driver.outputTopic('counts', { key: timeWindowedSerde(stringSerde, 10), value: longSerde }).readRecords())).toEqual(['a@[10,20)=1 ts15']);
  });

  it('skips records with a null key or value, as the non-windowed aggregations do', async () => {
    const builder = new StreamsBuilder();
    builder
      .stream('events', { key: nullable(stringSerde), value: nullable(stringSerde) })
      .groupByKey()
      .windowedBy(TimeWindows.ofSizeWithNoGrace(10))
      .count({ name: 'counts' })
      .toStream()
      .to('counts');
    const driver = testDriver(builder.build());
    const input = driver.inputTopic('events', { key: nullable(stringSerde), value: nullable(stringSerde) });
    await input.pipe(null, 'x', { timestamp: 1 });
    await input.pipe('a', null, { timestamp: 2 });
    await input.pipe('a', 'x', { timestamp: 3 });
    expect(rendered(driver.outputTopic('counts', { key: timeWindowedSerde(nullable(stringSerde), 10), value: longSerde }).readRecords() as { key: Windowed<string>; value: number; timestamp: number }[])).toEqual([
      'a@[0,10)=1 ts3',
    ]);
    expect(driver.metrics().tasks[0]!.lateRecordsDropped).toBe(0);
  });

  it('reduces and aggregates per window after a key change, through the repartition topic', async () => {
    const builder = new StreamsBuilder();
    const orders = builder.stream('orders', { key: stringSerde, value: jsonSerde<{ customer: string; total: number }>() });
    const windowed = orders.groupBy((_key, order) => order.customer, { key: stringSerde }).windowedBy(TimeWindows.ofSizeWithNoGrace(100));
    windowed
      .aggregate(
        () => [] as string[],
        (_customer, order, ids) => [...ids, String(order.total)],
        { name: 'totals-list', value: jsonSerde<string[]>() },
      )
      .toStream()
      .to('lists', { value: jsonSerde<string[]>() });
    orders
      .mapValues((order) => order.total, { value: jsonSerde<number>() })
      .groupBy((key) => key.slice(0, 1), { key: stringSerde })
      .windowedBy(TimeWindows.ofSizeWithNoGrace(100))
      .reduce((sum, total) => sum + total, { name: 'sums' })
      .toStream()
      .to('sums');
    const topology = builder.build();
    expect(topology.internalTopics.map((t) => t.name).sort()).toEqual(['sums-changelog', 'sums-repartition', 'totals-list-changelog', 'totals-list-repartition']);
    const driver = testDriver(topology, { applicationId: 'app' });
    const input = driver.inputTopic('orders', { key: stringSerde, value: jsonSerde<{ customer: string; total: number }>() });
    await input.pipe('x1', { customer: 'ann', total: 5 }, { timestamp: 10 });
    await input.pipe('x2', { customer: 'ann', total: 7 }, { timestamp: 120 });
    await input.pipe('x3', { customer: 'bob', total: 1 }, { timestamp: 150 });
    const lists = driver.outputTopic('lists', { key: timeWindowedSerde(stringSerde, 100), value: jsonSerde<string[]>() }).readRecords();
    expect(rendered(lists)).toEqual(['ann@[0,100)=["5"] ts10', 'ann@[100,200)=["7"] ts120', 'bob@[100,200)=["1"] ts150']);
    const sums = driver.outputTopic('sums', { key: timeWindowedSerde(stringSerde, 100), value: jsonSerde<number>() }).readRecords();
    expect(rendered(sums)).toEqual(['x@[0,100)=5 ts10', 'x@[100,200)=7 ts120', 'x@[100,200)=8 ts150']);
  });

  it('lets a processor read the window store by name, read-only, with fetches by key and across keys', async () => {
    const builder = new StreamsBuilder();
    builder
      .stream('events', text)
      .groupByKey()
      .windowedBy(TimeWindows.ofSizeWithNoGrace(10))
      .count({ name: 'counts', cached: false })
      .toStream()
      .process<string, string>(
        () => {
          let store!: ReadOnlyWindowStore<string, ValueAndTimestamp<number>>;
          let ctx!: ProcessorContext<string, string>;
          return {
            init: (context) => {
              ctx = context;
              store = context.getStateStore('counts');
            },
            process: (record) => {
              const ofKey = [...store.fetch(record.key.key, 0, 1_000)].map(([start, v]) => `${start}:${v.value}`).join(',');
              const all = [...store.fetchAll(0, 1_000)].map(([w, v]) => `${w.key}@${w.window.startMs}:${v.value}`).join(',');
              ctx.forward(record.with(record.key.key, `${ofKey} | ${all}`));
            },
          };
        },
        { stores: ['counts'], key: stringSerde, value: stringSerde },
      )
      .to('views');
    const driver = testDriver(builder.build());
    const input = driver.inputTopic('events', text);
    await input.pipe('b', 'x', { timestamp: 1 });
    await input.pipe('a', 'x', { timestamp: 12 });
    await input.pipe('b', 'x', { timestamp: 15 });
    // Once a window starts at 10, b's window [0,10) is past retention (size 10, no grace): reads still
    // see it until the commit after the record that moved the store's stream time, and never after.
    expect(driver.outputTopic('views', text).readValues()).toEqual(['0:1 | b@0:1', '10:1 | a@10:1,b@0:1', '10:1 | a@10:1,b@10:1']);
  });

  it('needs a value serde for a windowed reduce whose value type changed, as reduce does', () => {
    const builder = new StreamsBuilder();
    const grouped = builder
      .stream('events', text)
      .mapValues((value) => value.length)
      .groupByKey()
      .windowedBy(TimeWindows.ofSizeWithNoGrace(10));
    expect(() => grouped.reduce((a, b) => a + b)).toThrow(TopologyError);
    expect(() => grouped.reduce((a, b) => a + b)).toThrow(/windowed reduce\(\) needs a value serde/);
    const rekeyed = builder
      .stream('others', text)
      .map((key, value) => [value, key.length] as const)
      .groupByKey()
      .windowedBy(TimeWindows.ofSizeWithNoGrace(10));
    expect(() => rekeyed.count()).toThrow(/windowed count\(\): the repartition topic .* needs a key and a value serde/);
  });

  it('describes window stores and their changelogs', () => {
    const text = windowedCount(TimeWindows.ofSizeAndGrace(60_000, 5_000).advanceBy(10_000)).describe().toString();
    expect(text).toContain('counts (window (size 60000 ms, retention 65000 ms), cached, changelog counts-changelog) in sub-topology 0');
    expect(text).toContain('counts-changelog (changelog of counts)');
  });

  it('refuses windows that make no sense', () => {
    expect(() => TimeWindows.ofSizeWithNoGrace(0)).toThrow(TopologyError);
    expect(() => TimeWindows.ofSizeAndGrace(10, -1)).toThrow(TopologyError);
    expect(() => TimeWindows.ofSizeWithNoGrace(10).advanceBy(11)).toThrow(TopologyError);
    expect(() => TimeWindows.ofSizeWithNoGrace(10).advanceBy(0)).toThrow(TopologyError);
    expect(TimeWindows.ofSizeWithNoGrace(10).advanceBy(5).windowStartsFor(12)).toEqual([5, 10]);
    expect(TimeWindows.ofSizeWithNoGrace(10).advanceBy(3).windowStartsFor(4)).toEqual([0, 3]);
  });
  it('keeps windows that closed before a restore closed: a task restored from the changelog starts from the latest timestamp in its store', async () => {
    const topology = windowedCount(TimeWindows.ofSizeAndGrace(10, 5), { cached: false });
    const { sent, failures, newTask } = tasksOf(topology);
    let offset = 0;
    const accept = (task: Task, timestamp: number): void =>
      task.accept({ topic: 'events', partition: 0, offset: offset++, timestamp, key: new TextEncoder().encode('a'), value: new TextEncoder().encode('x'), headers: [] });
    const first = newTask();
    for (const timestamp of [1, 12, 26]) accept(first, timestamp);
    first.prepareCommit();
    first.commitSucceeded();
    first.close();
    // At stream time 26, [10, 20) has closed (20 + 5 <= 26) but is still in the store (retention 15 past start 20).
    const changelog = sent.filter((r) => r.topic === 'changelog').map((r, i) => ({ offset: i, key: r.key!, value: r.value as Uint8Array | null }));
    sent.length = 0;
    const second = newTask();
    second.taskStore('counts').restore(changelog, changelog.length);
    accept(second, 13);
    accept(second, 27);
    expect(failures.map((f) => [f.kind, f.job.timestamp])).toEqual([['late', 13]]);
    const counts = sent.filter((r) => r.topic === 'counts').map((r) => timeWindowedSerde(stringSerde, 10).deserialize(r.key!).window.startMs);
    expect(counts).toEqual([20]);
    second.close();
  });
  it("partitions windowed keys by their inner key, as Kafka Streams' WindowedStreamPartitioner does, unless given a partitioner", () => {
    const topology = windowedCount(TimeWindows.ofSizeWithNoGrace(10));
    const sink = topology.subtopologies[0]!.sinks[0]!;
    const partitionOf = (key: string, startMs: number) => sink.partitioner!(new StreamRecord<unknown, unknown>({ key, window: { startMs, endMs: startMs + 10 } }, 1, 0), 16);
    for (const key of ['a', 'order-17', 'é']) {
      const expected = murmur2Partitioner.partition({ topic: 'counts', key: stringSerde.serialize(key), partitionCount: 16 });
      expect([0, 10, 1_000_000].map((start) => partitionOf(key, start))).toEqual([expected, expected, expected]);
    }
    const builder = new StreamsBuilder();
    builder
      .stream('events', text)
      .groupByKey()
      .windowedBy(TimeWindows.ofSizeWithNoGrace(10))
      .count()
      .toStream()
      .to('counts', { partitioner: () => 3 });
    expect(builder.build().subtopologies[0]!.sinks[0]!.partitioner!(new StreamRecord<unknown, unknown>(null, 1, 0), 16)).toBe(3);
  });
  it('judges a record that waited behind an asynchronous one of its key by the stream time it arrived at, not by the keys that went past it', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const builder = new StreamsBuilder();
    builder
      .stream('events', text)
      .groupByKey()
      .windowedBy(TimeWindows.ofSizeWithNoGrace(10))
      .aggregate(() => 0, async (_key, value, sum) => {
        if (value === 'slow') await gate;
        return sum + 1;
      }, { name: 'counts', value: longSerde, cached: false })
      .toStream()
      .to('counts');
    const { sent, failures, newTask } = tasksOf(builder.build());
    const task = newTask();
    const encode = (text: string) => new TextEncoder().encode(text);
    let offset = 0;
    const accept = (key: string, value: string, timestamp: number): void => task.accept({ topic: 'events', partition: 0, offset: offset++, timestamp, key: encode(key), value: encode(value), headers: [] });
    accept('a', 'slow', 5);
    accept('a', 'x', 8);
    accept('b', 'x', 30);
    open();
    await task.drained();
    expect(failures).toEqual([]);
    const serde = timeWindowedSerde(stringSerde, 10);
    expect(sent.filter((r) => r.topic === 'counts').map((r) => `${serde.deserialize(r.key!).key}@${serde.deserialize(r.key!).window.startMs}=${longSerde.deserialize(r.value as Uint8Array)}`)).toEqual([
      'b@30=1',
      'a@0=1',
      'a@0=2',
    ]);
    task.close();
  });
});
