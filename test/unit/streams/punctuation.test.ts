import { describe, expect, it } from 'vitest';
import { jsonSerde, stringSerde } from '../../../sdk/mod.ts';
import {
  type Cancellable,
  DeadLetterHeader,
  type FailureAction,
  type KeyValueStore,
  type ProcessorContext,
  type Punctuator,
  PunctuationType,
  type PunctuationTypeValue,
  StreamRecord,
  StreamsBuilder,
  TopologyTestDriver,
} from '../../../streams/mod.ts';
import type { OutputRecord } from '../../../streams/runtime/record-collector.ts';
import { testTask } from './helpers/test-driver.ts';

const text = { key: stringSerde, value: stringSerde };
const decoder = new TextDecoder();

/**
 * A topology whose one processor schedules `punctuator(context)` every `intervalMs` in `init` and
 * forwards each input record unchanged; both go to the topic "out".
 */
function scheduling(
  intervalMs: number,
  type: PunctuationTypeValue,
  punctuator: (context: ProcessorContext<string, string>, handle: () => Cancellable) => Punctuator,
  onRecord: (record: StreamRecord<string, string>, handle: Cancellable) => void = () => undefined,
) {
  const builder = new StreamsBuilder();
  builder
    .stream('in', text)
    .process<string, string>(
      () => {
        let handle!: Cancellable;
        let ctx!: ProcessorContext<string, string>;
        return {
          init(context) {
            ctx = context;
            handle = context.schedule(intervalMs, type, punctuator(context, () => handle));
          },
          process(record) {
            onRecord(record, handle);
            ctx.forward(record);
          },
        };
      },
      { key: stringSerde, value: stringSerde, name: 'ticker' },
    )
    .to('out');
  return builder.build();
}

/** A punctuator that forwards a record "tick" whose value and timestamp are the punctuation's time. */
const tick = (context: ProcessorContext<string, string>): Punctuator => (timestampMs) => context.forward(new StreamRecord('tick', String(timestampMs), timestampMs));

describe('punctuators through the test driver', () => {
  it('fires on stream time once per advance however far it jumped, then re-aligns to the interval', async () => {
    const driver = new TopologyTestDriver(scheduling(10, PunctuationType.STREAM_TIME, tick));
    const input = driver.inputTopic('in', text);
    const out = driver.outputTopic('out', text);
    for (const timestamp of [0, 3, 10, 35, 36, 12, 39, 41, 100]) await input.pipe('k', `r${timestamp}`, { timestamp });
    // 0 fires (aligned to 0); 10 fires; 35 jumps past 20 and 30 but fires once, next due 40; 12
    // is out of order (stream time stays 36); 41 fires; 100 fires once.
    expect(out.readRecords().filter((r) => r.key === 'tick').map((r) => [r.value, r.timestamp])).toEqual([
      ['0', 0],
      ['10', 10],
      ['35', 35],
      ['41', 41],
      ['100', 100],
    ]);
  });

  it('fires wall-clock punctuations from advanceWallClockTime, synchronously, once per advance', async () => {
    const driver = new TopologyTestDriver(scheduling(100, PunctuationType.WALL_CLOCK_TIME, tick), { wallClockMs: 1_000 });
    const out = driver.outputTopic('out', text);
    const ticks = () => out.readValues();
    await driver.advanceWallClockTime(99);
    expect(ticks()).toEqual([]);
    void driver.advanceWallClockTime(1);
    expect(ticks()).toEqual(['1100']);
    await driver.advanceWallClockTime(350);
    expect(ticks()).toEqual(['1450']);
    await driver.advanceWallClockTime(49);
    expect(ticks()).toEqual([]);
    await driver.advanceWallClockTime(1);
    expect(ticks()).toEqual(['1500']);
    // Records do not move the wall clock, and wall-clock schedules ignore stream time.
    await driver.inputTopic('in', text).pipe('k', 'v', { timestamp: 1_000_000 });
    expect(ticks()).toEqual(['v']);
  });

  it('cancels a schedule from a record, and from inside its own punctuator', async () => {
    let fired = 0;
    const driver = new TopologyTestDriver(
      scheduling(
        10,
        PunctuationType.STREAM_TIME,
        (context, handle) => (timestampMs) => {
          fired++;
          context.forward(new StreamRecord('tick', String(timestampMs), timestampMs));
          if (timestampMs >= 20) handle().cancel();
        },
        (record, handle) => {
          if (record.value === 'stop') handle.cancel();
        },
      ),
    );
    const input = driver.inputTopic('in', text);
    for (const timestamp of [0, 10, 25, 30, 40]) await input.pipe('k', 'v', { timestamp });
    expect(fired).toBe(3);

    const stopped = new TopologyTestDriver(
      scheduling(10, PunctuationType.WALL_CLOCK_TIME, tick, (record, handle) => {
        if (record.value === 'stop') handle.cancel();
      }),
    );
    await stopped.advanceWallClockTime(10);
    await stopped.inputTopic('in', text).pipe('k', 'stop');
    await stopped.advanceWallClockTime(100);
    expect(stopped.outputTopic('out', text).readValues()).toEqual(['10', 'stop']);
  });

  it('emits per-key totals kept in a store, through an async stage, and writes the store from the punctuator (changelogged at commit)', async () => {
    const builder = new StreamsBuilder();
    builder.addStateStore({ name: 'totals', key: stringSerde, value: jsonSerde<number>() });
    builder
      .stream('amounts', { key: stringSerde, value: jsonSerde<number>() })
      // The store is written after an async step: a punctuation waits for it.
      .mapValues(async (amount) => amount, { value: jsonSerde<number>() })
      .process<string, number>(
        () => {
          let store!: KeyValueStore<string, number>;
          return {
            init(context) {
              store = context.getStateStore('totals');
              context.schedule(1_000, PunctuationType.WALL_CLOCK_TIME, (timestampMs) => {
                let emitted = 0;
                for (const [key, total] of store.all()) {
                  if (key.startsWith('@')) continue;
                  context.forward(new StreamRecord(key, total, timestampMs));
                  emitted++;
                }
                store.put('@emitted', (store.get('@emitted') ?? 0) + emitted);
              });
            },
            process(record) {
              store.put(record.key, (store.get(record.key) ?? 0) + record.value);
            },
          };
        },
        { stores: ['totals'], key: stringSerde, value: jsonSerde<number>() },
      )
      .mapValues(async (total) => `total=${total}`, { value: stringSerde })
      .to('totals-out');
    const driver = new TopologyTestDriver(builder.build(), { applicationId: 'app' });
    const input = driver.inputTopic('amounts', { key: stringSerde, value: jsonSerde<number>() });
    await input.pipeAll([
      ['a', 1],
      ['b', 10],
      ['a', 2],
    ]);
    const changelog = driver.outputTopic('app-totals-changelog', { key: stringSerde, value: jsonSerde<number>() });
    changelog.readRecords();
    await driver.advanceWallClockTime(1_000);
    const out = driver.outputTopic('totals-out', text);
    expect(out.readRecords()).toEqual([
      { key: 'a', value: 'total=3', timestamp: 1_000, headers: [] },
      { key: 'b', value: 'total=10', timestamp: 1_000, headers: [] },
    ]);
    expect(changelog.readKeyValues()).toEqual([['@emitted', 2]]);
    await input.pipe('c', 5);
    await driver.advanceWallClockTime(1_000);
    expect(out.readKeyValues()).toEqual([
      ['a', 'total=3'],
      ['b', 'total=10'],
      ['c', 'total=5'],
    ]);
    expect(driver.store<KeyValueStore<string, number>>('totals').get('@emitted')).toBe(5);
  });

  it('sees every earlier record finished when it fires on stream time, and holds the next record until its own async work is done', async () => {
    const events: string[] = [];
    const builder = new StreamsBuilder();
    builder
      .stream('in', text)
      .mapValues(async (value) => {
        await new Promise((resolve) => setImmediate(resolve));
        events.push(`record ${value}`);
        return value;
      })
      .process<string, string>(
        () => ({
          init(context) {
            context.schedule(10, PunctuationType.STREAM_TIME, async (timestampMs) => {
              events.push(`punctuation ${timestampMs} starts`);
              await new Promise((resolve) => setImmediate(resolve));
              events.push(`punctuation ${timestampMs} ends`);
            });
          },
          process: () => undefined,
        }),
        { key: stringSerde, value: stringSerde },
      );
    const driver = new TopologyTestDriver(builder.build());
    const input = driver.inputTopic('in', text);
    void input.pipe('a', '1', { timestamp: 5 });
    void input.pipe('b', '2', { timestamp: 12 });
    await input.pipe('c', '3', { timestamp: 13 });
    expect(events).toEqual(['record 1', 'punctuation 5 starts', 'punctuation 5 ends', 'record 2', 'punctuation 12 starts', 'punctuation 12 ends', 'record 3']);
  });

  describe.each<FailureAction>(['dlq', 'skip', 'fail'])('a throwing punctuator under the %s policy', (action) => {
    it.each(['throws', 'rejects'])('when it %s', async (how) => {
      const driver = new TopologyTestDriver(
        scheduling(100, PunctuationType.WALL_CLOCK_TIME, (context) => (timestampMs) => {
          if (timestampMs === 200) return how === 'throws' ? (() => { throw new Error('no totals at 200'); })() : Promise.reject(new Error('no totals at 200'));
          context.forward(new StreamRecord('tick', String(timestampMs), timestampMs));
        }),
        { applicationId: 'app', failures: { processing: action } },
      );
      const out = driver.outputTopic('out', text);
      await driver.advanceWallClockTime(100);
      const failed = driver.advanceWallClockTime(100);
      if (action === 'fail') {
        await expect(failed).rejects.toThrow(/punctuation of processor "ticker" \(WALL_CLOCK_TIME 200\) failed in task 0_0: no totals at 200/);
        await expect(driver.inputTopic('in', text).pipe('k', 'v')).rejects.toThrow(/no totals at 200/);
        expect(out.readValues()).toEqual(['100']);
        return;
      }
      await failed;
      await driver.advanceWallClockTime(100);
      expect(out.readValues()).toEqual(['100', '300']);
      const dead = driver.outputTopic('app-dlq').readRecords();
      if (action === 'skip') {
        expect(dead).toEqual([]);
        return;
      }
      expect(dead).toHaveLength(1);
      const header = (key: string) => decoder.decode(dead[0]!.headers.find((h) => h.key === key)!.value!);
      expect([dead[0]!.key, dead[0]!.value, dead[0]!.timestamp]).toEqual([null, null, 200]);
      expect([header(DeadLetterHeader.error), header(DeadLetterHeader.errorKind), header(DeadLetterHeader.punctuator), header(DeadLetterHeader.task)]).toEqual([
        'no totals at 200',
        'processing',
        'ticker',
        '0_0',
      ]);
      expect(dead[0]!.headers.some((h) => h.key === DeadLetterHeader.offset)).toBe(false);
    });
  });

  it('refuses an interval that is not a positive integer of milliseconds', () => {
    for (const intervalMs of [0, -5, 1.5]) {
      expect(() => new TopologyTestDriver(scheduling(intervalMs, PunctuationType.STREAM_TIME, tick))).toThrow(/positive integer of milliseconds/);
    }
  });
});

describe('punctuators in a task', () => {
  it('go back to the last commit with stream time when a commit fails, so the records read again fire them again; close cancels them', () => {
    const sent: OutputRecord[] = [];
    const task = testTask(scheduling(10, PunctuationType.STREAM_TIME, tick), sent);
    let offset = 0;
    const accept = (timestamp: number) => {
      task.accept({ topic: 'in', partition: 0, offset: offset++, timestamp, key: new TextEncoder().encode('k'), value: new TextEncoder().encode('v'), headers: [] });
      if (task.streamTimePunctuationDue) task.punctuate(PunctuationType.STREAM_TIME, task.streamTimeMs);
    };
    const ticks = () => sent.filter((r) => r.value !== 'v').map((r) => r.timestamp);
    accept(0);
    accept(4);
    task.prepareCommit();
    task.commitSucceeded();
    accept(12);
    accept(25);
    expect(ticks()).toEqual([0, 12, 25]);
    task.commitFailed();
    expect(task.streamTimeMs).toBe(4);
    sent.length = 0;
    offset = 2;
    accept(12);
    accept(25);
    expect(ticks()).toEqual([12, 25]);
    task.close();
    expect(task.streamTimePunctuationDue).toBe(false);
    expect(task.punctuate(PunctuationType.STREAM_TIME, 1_000)).toBe(false);
  });
});
