import { describe, expect, it } from 'vitest';
import { longSerde, stringSerde } from '../../../sdk/mod.ts';
import {
  BufferConfig,
  nullable,
  sessionWindowedSerde,
  SessionWindows,
  type StreamsError,
  StreamsBuilder,
  StreamsErrorCode,
  Suppressed,
  SuppressionBufferFullError,
  TimeWindows,
  timeWindowedSerde,
  TopologyError,
  type UntilWindowCloses,
  type Windowed,
} from '../../../streams/mod.ts';
import type { OutputRecord } from '../../../streams/runtime/record-collector.ts';
import { testDriver, testTask } from './helpers/test-driver.ts';

const text = { key: stringSerde, value: stringSerde };
const prices = { key: stringSerde, value: nullable(longSerde) };

function rendered(records: { key: Windowed<string>; value: unknown; timestamp: number }[]): string[] {
  return records.map((r) => `${r.key.key}@[${r.key.window.startMs},${r.key.window.endMs})=${JSON.stringify(r.value)} ts${r.timestamp}`);
}

/** Per-key tumbling counts of `events`, suppressed until each window closes, to `finals`. */
function finalCounts(windows: TimeWindows, options: { cached?: boolean; suppressed?: UntilWindowCloses } = {}) {
  const builder = new StreamsBuilder();
  builder
    .stream('events', text)
    .groupByKey()
    .windowedBy(windows)
    .count({ name: 'counts', cached: options.cached })
    .suppress(options.suppressed ?? Suppressed.untilWindowCloses(BufferConfig.unbounded(), { name: 'finals' }))
    .toStream()
    .to('finals', { key: timeWindowedSerde(stringSerde, windows.sizeMs), value: longSerde });
  return builder.build();
}

describe('KTable.suppress(untilWindowCloses) through the test driver', () => {
  it('emits each window once when stream time passes its end + grace: in order, out of order within grace, late beyond grace dropped', async () => {
    for (const cached of [true, false]) {
      const driver = testDriver(finalCounts(TimeWindows.ofSizeAndGrace(10, 5), { cached }), { applicationId: 'app' });
      const input = driver.inputTopic('events', text);
      const output = driver.outputTopic('finals', { key: timeWindowedSerde(stringSerde, 10), value: longSerde });
      for (const [key, timestamp] of [['a', 1], ['a', 5], ['b', 7], ['a', 12]] as const) await input.pipe(key, 'x', { timestamp });
      // Stream time 12: [0,10) closes at 15, so nothing yet.
      expect(output.readRecords(), `cached ${cached}`).toEqual([]);
      await input.pipe('b', 'x', { timestamp: 15 });
      expect(rendered(output.readRecords()), `cached ${cached}`).toEqual(['a@[0,10)=2 ts5', 'b@[0,10)=1 ts7']);
      // [0,10) closed at 15: dropped. [10,20) is open until 25: taken, out of order.
      await input.pipe('a', 'x', { timestamp: 9 });
      await input.pipe('a', 'x', { timestamp: 14 });
      await input.pipe('a', 'x', { timestamp: 24 });
      expect(output.readRecords(), `cached ${cached}`).toEqual([]);
      await input.pipe('z', 'x', { timestamp: 40 });
      expect(rendered(output.readRecords()), `cached ${cached}`).toEqual(['a@[10,20)=2 ts14', 'b@[10,20)=1 ts15', 'a@[20,30)=1 ts24']);
      expect(driver.metrics().tasks.map((t) => t.lateRecordsDropped)).toEqual([1]);
    }
  });

  it('emits one final result per session once no record can extend it (end + gap + grace, as Kafka Streams); merged-away sessions never go out', async () => {
    const builder = new StreamsBuilder();
    builder
      .stream('events', text)
      .groupByKey()
      .windowedBy(SessionWindows.ofInactivityGapAndGrace(10, 5))
      .count()
      .suppress(Suppressed.untilWindowCloses(BufferConfig.unbounded()))
      .toStream()
      .to('finals', { key: sessionWindowedSerde(stringSerde), value: longSerde });
    const driver = testDriver(builder.build(), { applicationId: 'app' });
    const input = driver.inputTopic('events', text);
    const output = driver.outputTopic('finals', { key: sessionWindowedSerde(stringSerde), value: longSerde });
    const render = () => output.readRecords().map((r) => `${r.key.key}@[${r.key.window.startMs},${r.key.window.endMs}]=${r.value}`);
    for (const [key, timestamp] of [['a', 0], ['a', 8], ['b', 9], ['a', 18], ['a', 30]] as const) await input.pipe(key, 'x', { timestamp });
    // Stream time 30: b's [9,9] is final (9 + 10 + 5 < 30); a's [0,18] is not: a record at 20 could still extend it.
    expect(render()).toEqual(['b@[9,9]=1']);
    // 20 bridges [0,18] and [30,30]; 35 extends the result. The merged-away sessions never go out.
    await input.pipe('a', 'x', { timestamp: 20 });
    await input.pipe('a', 'x', { timestamp: 35 });
    expect(render()).toEqual([]);
    await input.pipe('a', 'x', { timestamp: 100 });
    expect(render()).toEqual(['a@[0,35]=6']);
    // 80 would make a session ending at 80 < 100 - 5: late, dropped, never a second result.
    await input.pipe('a', 'x', { timestamp: 80 });
    await input.pipe('a', 'x', { timestamp: 200 });
    expect(render()).toEqual(['a@[100,100]=1']);
    expect(driver.metrics().tasks.map((t) => t.lateRecordsDropped)).toEqual([1]);
  });

  it('emits the final result of every hopping window, with no grace', async () => {
    const driver = testDriver(finalCounts(TimeWindows.ofSizeWithNoGrace(10).advanceBy(5)), { applicationId: 'app' });
    const input = driver.inputTopic('events', text);
    for (const [key, timestamp] of [['a', 3], ['a', 7], ['a', 11], ['a', 30]] as const) await input.pipe(key, 'x', { timestamp });
    const out = driver.outputTopic('finals', { key: timeWindowedSerde(stringSerde, 10), value: longSerde }).readRecords();
    expect(rendered(out)).toEqual(['a@[0,10)=2 ts7', 'a@[5,15)=2 ts11', 'a@[10,20)=1 ts11']);
  });

  it('drops deletes when a window closes (Kafka Streams: final results never emit a tombstone)', async () => {
    const builder = new StreamsBuilder();
    builder
      .stream('events', text)
      .groupByKey()
      .windowedBy(TimeWindows.ofSizeWithNoGrace(10))
      .count()
      // A window that reaches 2 stops matching: a delete.
      .filterNot((_key, count) => count >= 2)
      .suppress(Suppressed.untilWindowCloses(BufferConfig.unbounded()))
      .toStream()
      .to('finals', { key: timeWindowedSerde(stringSerde, 10), value: longSerde });
    const driver = testDriver(builder.build(), { applicationId: 'app' });
    const input = driver.inputTopic('events', text);
    for (const [key, timestamp] of [['a', 1], ['a', 2], ['b', 3], ['c', 25]] as const) await input.pipe(key, 'x', { timestamp });
    const out = driver.outputTopic('finals', { key: timeWindowedSerde(stringSerde, 10), value: nullable(longSerde) }).readRecords();
    expect(rendered(out)).toEqual(['b@[0,10)=1 ts3']);
  });

  it('refuses a table that is not windowed and a buffer that would emit early', () => {
    const builder = new StreamsBuilder();
    const table = builder.stream('events', text).groupByKey().count();
    // @ts-expect-error untilWindowCloses is for tables keyed by Windowed<K>
    expect(() => table.suppress(Suppressed.untilWindowCloses(BufferConfig.unbounded()))).toThrow(TopologyError);
    const windowedKeys = builder.table('windows', { key: timeWindowedSerde(stringSerde, 10), value: longSerde });
    expect(() => windowedKeys.suppress(Suppressed.untilWindowCloses(BufferConfig.unbounded()))).toThrow(/needs a windowed table/);
    const windowed = builder.stream('more', text).groupByKey().windowedBy(TimeWindows.ofSizeWithNoGrace(10)).count();
    const eager = BufferConfig.maxRecords(3) as unknown as ReturnType<typeof BufferConfig.unbounded>;
    expect(() => windowed.suppress(Suppressed.untilWindowCloses(eager))).toThrow(/strict buffer/);
    expect(() => BufferConfig.maxRecords(0)).toThrow(TopologyError);
    expect(() => Suppressed.untilTimeLimit(-1, BufferConfig.unbounded())).toThrow(TopologyError);
  });

  it('stops with a SUPPRESSION_BUFFER_FULL StreamsError naming the operator and store when a strict buffer is full, whatever the failure policy', async () => {
    for (const cached of [true, false]) {
      const topology = finalCounts(TimeWindows.ofSizeWithNoGrace(10), { cached, suppressed: Suppressed.untilWindowCloses(BufferConfig.maxRecords(2).shutDownWhenFull(), { name: 'finals' }) });
      const driver = testDriver(topology, { applicationId: 'app', failures: { processing: 'skip' } });
      const input = driver.inputTopic('events', text);
      await input.pipe('a', 'x', { timestamp: 1 });
      await input.pipe('b', 'x', { timestamp: 2 });
      const error = (await input.pipe('c', 'x', { timestamp: 3 }).catch((e: unknown) => e)) as StreamsError;
      expect(error, `cached ${cached}`).toBeInstanceOf(SuppressionBufferFullError);
      expect(error.code).toBe(StreamsErrorCode.suppressionBufferFull);
      expect(error.message).toBe('the suppression "finals" (store "finals-store") is full and set to shut down when full: 3/2 records, ' + error.message.split(', ')[1]);
      expect(error.message).toMatch(/\d+\/unbounded bytes$/);
    }
  });
});

describe('KTable.suppress(untilTimeLimit) through the test driver', () => {
  function limited(bufferConfig: Parameters<typeof Suppressed.untilTimeLimit>[1], timeToWaitMs = 10) {
    const builder = new StreamsBuilder();
    builder
      .table('prices', prices)
      .suppress(Suppressed.untilTimeLimit(timeToWaitMs, bufferConfig))
      .toStream()
      .to('out', prices);
    return testDriver(builder.build(), { applicationId: 'app' });
  }

  it("emits each key's latest value once its first held update is timeToWaitMs behind stream time, and deletes of keys downstream saw", async () => {
    const driver = limited(BufferConfig.unbounded());
    const input = driver.inputTopic('prices', prices);
    const output = driver.outputTopic('out', prices);
    const steps: [string, number | null, number, string[]][] = [
      ['k1', 1, 0, []],
      ['k1', 2, 3, []],
      ['k2', 5, 4, []],
      // k1 held since 0: due at stream time 10, with its latest value and that update's timestamp.
      ['k1', 3, 10, ['k1=3 ts10']],
      ['k2', null, 12, []],
      // k2 was added and deleted while held: downstream never saw it, nothing goes.
      ['k3', 7, 14, []],
      ['k1', 4, 20, []],
      ['k4', 1, 30, ['k3=7 ts14', 'k1=4 ts20']],
      ['k1', null, 31, []],
      // k1's delete goes: downstream saw 4.
      ['k5', 0, 45, ['k4=1 ts30', 'k1=null ts31']],
    ];
    for (const [key, value, timestamp, expected] of steps) {
      await input.pipe(key, value, { timestamp });
      expect(output.readRecords().map((r) => `${r.key}=${r.value} ts${r.timestamp}`), `after ${key}=${value} at ${timestamp}`).toEqual(expected);
    }
  });

  it('emits the oldest keys early when an eager buffer passes maxRecords or maxBytes', async () => {
    const byRecords = limited(BufferConfig.maxRecords(2), 100);
    const input = byRecords.inputTopic('prices', prices);
    const output = byRecords.outputTopic('out', prices);
    await input.pipe('k1', 1, { timestamp: 0 });
    await input.pipe('k2', 2, { timestamp: 1 });
    await input.pipe('k1', 3, { timestamp: 2 });
    expect(output.readRecords()).toEqual([]);
    await input.pipe('k3', 4, { timestamp: 3 });
    expect(output.readRecords().map((r) => `${r.key}=${r.value}`)).toEqual(['k1=3']);

    // One entry: key "kN" (2 bytes) + timestamp 8 + newValue 4+8 + priorValue 4 + headerCount 4 = 30 bytes.
    const byBytes = limited(BufferConfig.maxBytes(60), 100);
    const bytesInput = byBytes.inputTopic('prices', prices);
    const bytesOutput = byBytes.outputTopic('out', prices);
    await bytesInput.pipe('k1', 1, { timestamp: 0 });
    await bytesInput.pipe('k2', 2, { timestamp: 1 });
    expect(bytesOutput.readRecords()).toEqual([]);
    await bytesInput.pipe('k3', 3, { timestamp: 2 });
    expect(bytesOutput.readRecords().map((r) => `${r.key}=${r.value}`)).toEqual(['k1=1']);
  });

  it('keeps held updates in a changelogged store: nothing emitted and nothing lost across an aborted commit', async () => {
    const builder = new StreamsBuilder();
    builder
      .table('prices', prices)
      .suppress(Suppressed.untilTimeLimit(10, BufferConfig.unbounded(), { name: 'limit' }))
      .toStream()
      .to('out', prices);
    const sent: OutputRecord[] = [];
    const task = testTask(builder.build(), sent);
    const feed = (offset: number, key: string, value: number, timestamp: number) =>
      task.accept({ topic: 'prices', partition: 0, offset, timestamp, key: stringSerde.serialize(key), value: longSerde.serialize(value), headers: [] });
    const commit = () => {
      task.prepareCommit();
      task.commitSucceeded();
    };
    feed(0, 'k1', 1, 0);
    commit();
    expect(sent.filter((r) => r.topic === 'app-limit-store-changelog').length).toBeGreaterThan(0);
    // This commit emits k1 and deletes it from the buffer, then aborts: both are undone.
    feed(1, 'k2', 2, 10);
    task.prepareCommit();
    expect(sent.filter((r) => r.topic === 'out').length).toBe(1);
    task.commitFailed();
    sent.length = 0;
    feed(1, 'k2', 2, 10);
    commit();
    expect(sent.filter((r) => r.topic === 'out').map((r) => stringSerde.deserialize(r.key as Uint8Array))).toEqual(['k1']);
    task.close();
  });
});
