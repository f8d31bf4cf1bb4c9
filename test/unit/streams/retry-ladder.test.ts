import { describe, expect, it } from 'vitest';
import { stringSerde } from '../../../sdk/mod.ts';
import type { RecordHeader } from '../../../sdk/record/record.ts';
import { DeadLetterHeader, type KeyValueStore, type ProcessorContext, RetryHeader, StreamRecord, StreamsBuilder, TopologyError, TopologyTestDriver } from '../../../streams/mod.ts';

const serdes = { key: stringSerde, value: stringSerde };
const decoder = new TextDecoder();
const encoder = new TextEncoder();

function headerMap(headers: readonly RecordHeader[]): Record<string, string> {
  return Object.fromEntries(headers.map((h) => [h.key, h.value === null ? '' : decoder.decode(h.value)]));
}

/** A step failing `failures[value]` times for a value (0 by default), counting its calls per value. */
function flaky(failures: Record<string, number>): { calls: Map<string, number>; step: (value: string) => Promise<string> } {
  const calls = new Map<string, number>();
  return {
    calls,
    step: async (value) => {
      const call = (calls.get(value) ?? 0) + 1;
      calls.set(value, call);
      if (call <= (failures[value] ?? 0)) throw new Error(`attempt ${call} of ${value} failed`);
      return value.toUpperCase();
    },
  };
}

describe('retry ladder of a stage (test driver)', () => {
  it('moves a failed record through the tiers by their delays, and outputs it once when a retry succeeds', async () => {
    const { calls, step } = flaky({ once: 1, twice: 2 });
    const builder = new StreamsBuilder();
    builder.stream('in', serdes).mapValues(step, { name: 'enrich', value: stringSerde, retry: { delaysMs: [1_000, 10_000] } }).to('out');
    const driver = new TopologyTestDriver(builder.build(), { applicationId: 'app', wallClockMs: 100_000 });
    const input = driver.inputTopic('in', serdes);
    const out = driver.outputTopic('out', serdes);
    await input.pipe('k1', 'once');
    await input.pipe('k2', 'twice');
    await input.pipe('k3', 'fine');
    expect(out.readKeyValues()).toEqual([['k3', 'FINE']]);

    await driver.advanceWallClockTime(999);
    expect(out.readKeyValues()).toEqual([]);
    expect([calls.get('once'), calls.get('twice')]).toEqual([1, 1]);
    await driver.advanceWallClockTime(1);
    // Tier 1 is due: `once` succeeds, `twice` fails again and waits in tier 2.
    expect(out.readKeyValues()).toEqual([['k1', 'ONCE']]);
    await driver.advanceWallClockTime(9_999);
    expect(out.readKeyValues()).toEqual([]);
    await driver.advanceWallClockTime(1);
    expect(out.readKeyValues()).toEqual([['k2', 'TWICE']]);
    expect(Object.fromEntries(calls)).toEqual({ once: 2, twice: 3, fine: 1 });
    await driver.advanceWallClockTime(1_000_000);
    expect(out.readKeyValues()).toEqual([]);
    expect(driver.outputTopic('app-dlq').readRecords()).toEqual([]);
    driver.close();
  });

  it('dead-letters a record failing after the last tier with why, where and how many times, and the step sees only its own headers', async () => {
    const seen: string[][] = [];
    const builder = new StreamsBuilder();
    builder
      .stream('in', serdes)
      .process<string, string>(
        () => {
          let ctx: ProcessorContext<string, string>;
          return {
            init: (c) => void (ctx = c),
            process: (record) => {
              seen.push(record.headers.map((h) => h.key));
              if (record.value === 'never') throw new Error('the lookup is down');
              ctx.forward(record);
            },
          };
        },
        { name: 'lookup', retry: { delaysMs: [10, 20] } },
      )
      .to('out', serdes);
    const driver = new TopologyTestDriver(builder.build(), { applicationId: 'app', wallClockMs: 5_000 });
    const input = driver.inputTopic('in', serdes);
    await input.pipe('k', 'never', { timestamp: 42, headers: [{ key: 'trace', value: encoder.encode('t-1') }] });
    await driver.advanceWallClockTime(10);
    await driver.advanceWallClockTime(20);
    expect(seen).toEqual([['trace'], ['trace'], ['trace']]);
    expect(driver.outputTopic('out', serdes).readRecords()).toEqual([]);
    const [dead, ...more] = driver.outputTopic('app-dlq', serdes).readRecords();
    expect(more).toEqual([]);
    expect(dead!.key).toBe('k');
    expect(dead!.value).toBe('never');
    expect(dead!.timestamp).toBe(42);
    expect(dead!.headers[0]).toEqual({ key: 'trace', value: encoder.encode('t-1') });
    expect(headerMap(dead!.headers)).toEqual({
      trace: 't-1',
      [DeadLetterHeader.error]: 'the lookup is down',
      [DeadLetterHeader.errorKind]: 'retries-exhausted',
      [DeadLetterHeader.topic]: 'in',
      [DeadLetterHeader.partition]: '0',
      [DeadLetterHeader.offset]: '0',
      [DeadLetterHeader.task]: '0_0',
      [RetryHeader.stage]: 'lookup',
      [RetryHeader.attempts]: '3',
      [RetryHeader.failedAtMs]: '5030',
      [RetryHeader.ownHeaders]: '1',
    });
    driver.close();
  });

  it("sends failures retryOn refuses, and failures of the nodes below, to the application's failure policy", async () => {
    class Permanent extends Error {}
    const builder = new StreamsBuilder();
    builder
      .stream('in', serdes)
      .mapValues(
        (v) => {
          if (v === 'permanent') throw new Permanent('bad input');
          return v;
        },
        { name: 'check', value: stringSerde, retry: { delaysMs: [1_000], retryOn: (error) => !(error instanceof Permanent) } },
      )
      .mapValues((v) => {
        if (v === 'downstream') throw new Error('the next stage failed');
        return v;
      })
      .to('out', serdes);
    const driver = new TopologyTestDriver(builder.build(), { applicationId: 'app', failures: { processing: 'dlq' } });
    const input = driver.inputTopic('in', serdes);
    await input.pipe('a', 'permanent');
    await input.pipe('b', 'downstream');
    await driver.advanceWallClockTime(5_000);
    const dead = driver.outputTopic('app-dlq', serdes).readRecords();
    expect(dead.map((r) => [r.value, headerMap(r.headers)[DeadLetterHeader.errorKind], headerMap(r.headers)[DeadLetterHeader.error]])).toEqual([
      ['permanent', 'processing', 'bad input'],
      ['downstream', 'processing', 'the next stage failed'],
    ]);
    expect(dead.every((r) => headerMap(r.headers)[RetryHeader.attempts] === undefined)).toBe(true);
    expect(driver.metrics().recordsDeadLettered).toBe(2);
    driver.close();

    const failing = new TopologyTestDriver(builder.build(), { applicationId: 'app2' });
    await expect(failing.inputTopic('in', serdes).pipe('a', 'permanent')).rejects.toThrow(/bad input/);
    failing.close();
  });

  it('re-runs the step with the state at retry time', async () => {
    const builder = new StreamsBuilder();
    builder.addStateStore({ name: 'prices', key: stringSerde, value: stringSerde });
    builder
      .stream('in', serdes)
      .process<string, string>(
        () => {
          let ctx: ProcessorContext<string, string>;
          return {
            init: (c) => void (ctx = c),
            process: (record: StreamRecord<string, string>) => {
              const prices = ctx.getStateStore<KeyValueStore<string, string>>('prices');
              if (record.key === 'price') {
                prices.put(record.value.split('=')[0]!, record.value.split('=')[1]!);
                return;
              }
              const price = prices.get(record.value);
              if (price === undefined) throw new Error(`no price for ${record.value} yet`);
              ctx.forward(record.withValue(`${record.value}@${price}`));
            },
          };
        },
        { name: 'price', stores: ['prices'], retry: { delaysMs: [1_000] } },
      )
      .to('out', serdes);
    const driver = new TopologyTestDriver(builder.build(), { applicationId: 'app' });
    const input = driver.inputTopic('in', serdes);
    await input.pipe('order', 'apple');
    await input.pipe('price', 'apple=3');
    await input.pipe('price', 'apple=4');
    await driver.advanceWallClockTime(1_000);
    expect(driver.outputTopic('out', serdes).readKeyValues()).toEqual([['order', 'apple@4']]);
    driver.close();
  });

  it('shows the tier topics, their delays and the dead-letter sink in describe()', () => {
    const builder = new StreamsBuilder();
    builder.stream('in', serdes).mapValues(async (v) => v, { name: 'enrich', value: stringSerde, retry: { delaysMs: [1_000, 10_000, 60_000] } }).to('out');
    const text = builder.build().describe().toString();
    expect(text).toContain('Source: enrich-retry-source (topics: [enrich-retry-1, enrich-retry-2, enrich-retry-3])');
    expect(text).toContain('Processor: enrich (stores: [])\n      --> enrich-retried, enrich-retry-1-sink, enrich-retry-2-sink, enrich-retry-3-sink, enrich-dead-letter-sink\n      <-- KSTREAM-SOURCE-0000000000, enrich-retry-source');
    expect(text).toContain('Sink: enrich-retry-2-sink (topic: enrich-retry-2)');
    expect(text).toContain('enrich-retry-1 (retry tier 1 of enrich, delay 1000 ms) written and read by sub-topology 0; partitions: as its other sources');
    expect(text).toContain('enrich-retry-3 (retry tier 3 of enrich, delay 60000 ms)');
    expect(builder.build().describe().toMermaid()).toContain('enrich-retry-3');
  });

  it('refuses a ladder without delays, with a negative delay, or without the serdes of its input', () => {
    const stream = () => new StreamsBuilder().stream('in', serdes);
    expect(() => stream().mapValues((v) => v, { retry: { delaysMs: [] } })).toThrow(TopologyError);
    expect(() => stream().mapValues((v) => v, { retry: { delaysMs: [-1] } })).toThrow(/integer of 0 or more/);
    expect(() => new StreamsBuilder().stream('in', { key: stringSerde }).mapValues((v) => v).filter(() => true, { retry: { delaysMs: [10] } })).toThrow(/value serde/);
    expect(() => new StreamsBuilder().stream('in', { key: stringSerde }).mapValues((v) => v).filter(() => true, { retry: { delaysMs: [10], value: stringSerde as never } })).not.toThrow();
  });
});
