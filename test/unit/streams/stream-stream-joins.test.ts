import { describe, expect, it } from 'vitest';
import { stringSerde } from '../../../sdk/mod.ts';
import { JoinWindows, type KStream, nullable, StreamsBuilder, TopologyError, type TopologyTestDriver } from '../../../streams/mod.ts';
import { testDriver } from './helpers/test-driver.ts';

const text = { key: stringSerde, value: stringSerde };

type Kind = 'inner' | 'left' | 'outer';

function joinOf(kind: Kind, left: KStream<string, string>, right: KStream<string, string>, windows: JoinWindows): KStream<string, string> {
  const both = (l: string | null, r: string | null): string => `${l ?? 'null'}+${r ?? 'null'}`;
  if (kind === 'inner') return left.join(right, both, windows);
  if (kind === 'left') return left.leftJoin(right, both, windows);
  return left.outerJoin(right, both, windows);
}

/** Joins topics left and right into out; `nullable` takes null keys and values in. */
function joinDriver(kind: Kind, windows: JoinWindows, { nullable: nulls = false } = {}): TopologyTestDriver {
  const builder = new StreamsBuilder();
  const serdes = nulls ? { key: nullable(stringSerde), value: nullable(stringSerde) } : text;
  const [left, right] = [builder.stream('left', serdes), builder.stream('right', serdes)] as KStream<string, string>[];
  joinOf(kind, left!, right!, windows).to('out', serdes as typeof text);
  return testDriver(builder.build(), { applicationId: 'app' });
}

/** Pipes `[side, key, value, timestamp]` events in order. */
async function pipeAll(driver: TopologyTestDriver, events: readonly (readonly ['L' | 'R', string | null, string | null, number])[]): Promise<void> {
  const topics = { L: driver.inputTopic('left', text), R: driver.inputTopic('right', text) };
  for (const [side, key, value, timestamp] of events) await topics[side].pipe(key as string, value as string, { timestamp });
}

/** `key:value@timestamp` per output record, in output order. */
function outputs(driver: TopologyTestDriver): string[] {
  return driver
    .outputTopic('out', text)
    .readRecords()
    .map((r) => `${r.key}:${r.value}@${r.timestamp}`);
}

describe('KStream-KStream windowed joins through the test driver', () => {
  it('inner join: in order, out of order within the grace, late beyond it, duplicates at one timestamp', async () => {
    const driver = joinDriver('inner', JoinWindows.ofTimeDifferenceAndGrace(10, 5));
    // Stream time after each record: 0, 5, 12, 12, 12, 12 (a3 is late: 1 + 5 < 12), 20, 20, 20, 20.
    await pipeAll(driver, [
      ['L', 'a', 'A1', 0],
      ['R', 'a', 'a1', 5], // left [-5, 15]: A1
      ['R', 'a', 'a2', 12], // left [2, 22]: nothing
      ['L', 'a', 'A2', 8], // out of order within the grace; right [-2, 18]: a1, a2
      ['L', 'b', 'B1', 9],
      ['R', 'a', 'a3', 1], // late: dropped, joins nothing
      ['L', 'a', 'A3', 20], // right [10, 30]: a2
      ['R', 'a', 'a4', 20], // left [10, 30]: A3
      ['R', 'a', 'a5', 20], // the same key and timestamp again: both kept
      ['L', 'a', 'A4', 20], // right [10, 30]: a2, a4, a5
    ]);
    expect(outputs(driver)).toEqual([
      'a:A1+a1@5',
      'a:A2+a1@8',
      'a:A2+a2@12',
      'a:A3+a2@20',
      'a:A3+a4@20',
      'a:A3+a5@20',
      'a:A4+a2@20',
      'a:A4+a4@20',
      'a:A4+a5@20',
    ]);
    expect(driver.metrics().tasks.map((t) => [t.taskId, t.lateRecordsDropped])).toEqual([['0_0', 1]]);
    driver.close();
  });

  it('left join: an unmatched left record is emitted with null only once its window closed, a matched one never', async () => {
    const driver = joinDriver('left', JoinWindows.ofTimeDifferenceWithNoGrace(10));
    await pipeAll(driver, [
      ['L', 'a', 'A1', 0], // waits: closes once stream time passes 10
      ['L', 'b', 'B1', 3], // waits: closes after 13
      ['R', 'a', 'a1', 4], // joins A1, which stops waiting
      ['R', 'c', 'c1', 11], // stream time 11: nothing closed is waiting (A1 matched); a right record never waits in a left join
      ['L', 'b', 'B2', 12], // waits: closes after 22
    ]);
    expect(outputs(driver)).toEqual(['a:A1+a1@4']);
    await pipeAll(driver, [
      ['L', 'd', 'D1', 14], // stream time 14 closes B1's window: B1 is emitted before D1 waits
      ['L', 'b', 'B3', 13], // late (no grace): dropped, never emitted
    ]);
    expect(outputs(driver)).toEqual(['b:B1+null@3']);
    await pipeAll(driver, [['R', 'e', 'e1', 30]]); // closes B2 (12) and D1 (14), in timestamp order
    expect(outputs(driver)).toEqual(['b:B2+null@12', 'd:D1+null@14']);
    expect(driver.metrics().tasks[0]!.lateRecordsDropped).toBe(1);
    driver.close();
  });

  it('outer join with an asymmetric window: both sides wait for their own window close, duplicates are emitted each', async () => {
    // A left record at t joins right records in [t - 5, t + 1]; left windows close after t + 1 + 2, right ones after t + 5 + 2.
    const driver = joinDriver('outer', JoinWindows.ofTimeDifferenceAndGrace(0, 2).before(5).after(1));
    await pipeAll(driver, [
      ['R', 'k', 'r1', 10], // waits
      ['L', 'k', 'l1', 10], // right [5, 11]: r1, which stops waiting
      ['L', 'k', 'l2', 20], // right [15, 21]: nothing; waits
      ['L', 'k', 'l3', 20], // a duplicate: waits with l2
      ['R', 'k', 'r2', 12], // late: 12 + 2 < 20
      ['R', 'k', 'r3', 19], // left [18, 24]: l2 and l3, which stop waiting
      ['R', 'n', 'n1', 22], // waits: closes after 29
      ['L', 'p', 'P1', 29], // waits: closes after 32; n1 not yet closed at 29
    ]);
    expect(outputs(driver)).toEqual(['k:l1+r1@10', 'k:l2+r3@20', 'k:l3+r3@20']);
    await pipeAll(driver, [
      ['L', 'q', 'Q1', 30], // closes n1
      ['L', 'k', 'l4', 30],
      ['L', 'k', 'l5', 30],
    ]);
    expect(outputs(driver)).toEqual(['n:null+n1@22']);
    await pipeAll(driver, [['R', 'z', 'Z', 40]]);
    // By timestamp, then key: P1 (29), then k's two (30) before q's.
    expect(outputs(driver)).toEqual(['p:P1+null@29', 'k:l4+null@30', 'k:l5+null@30', 'q:Q1+null@30']);
    expect(driver.metrics().tasks[0]!.lateRecordsDropped).toBe(1);
    driver.close();
  });

  it('skips null values and null keys, except a null-keyed record of an outer side, emitted at once', async () => {
    const left = joinDriver('left', JoinWindows.ofTimeDifferenceWithNoGrace(10), { nullable: true });
    await pipeAll(left, [
      ['L', null, 'X', 5], // emitted at once with null
      ['R', null, 'y', 5], // skipped: the right side of a left join
      ['L', 'a', null, 5], // skipped
      ['R', 'a', 'a1', 5],
      ['L', 'a', 'A1', 6],
    ]);
    expect(outputs(left)).toEqual(['null:X+null@5', 'a:A1+a1@6']);
    left.close();

    const outer = joinDriver('outer', JoinWindows.ofTimeDifferenceWithNoGrace(10), { nullable: true });
    await pipeAll(outer, [
      ['R', null, 'y', 7],
      ['L', null, 'X', 8],
    ]);
    expect(outputs(outer)).toEqual(['null:null+y@7', 'null:X+null@8']);
    outer.close();

    const inner = joinDriver('inner', JoinWindows.ofTimeDifferenceWithNoGrace(10), { nullable: true });
    await pipeAll(inner, [
      ['R', null, 'y', 7],
      ['L', null, 'X', 8],
      ['L', 'a', 'A1', 8],
      ['R', 'a', null, 8],
    ]);
    expect(outputs(inner)).toEqual([]);
    inner.close();
  });

  it('a negative after: a left record whose window closed when it arrived is emitted at once', async () => {
    // A left record at t joins right records in [t - 10, t - 5]: its window closes after t - 5 + grace 3.
    const driver = joinDriver('left', JoinWindows.ofTimeDifferenceAndGrace(10, 3).after(-5));
    await pipeAll(driver, [
      ['R', 'a', 'a1', 100],
      ['L', 'a', 'A1', 102], // right [92, 97]: nothing; closes after 100, and stream time is 102 already
      ['L', 'a', 'A2', 107], // right [97, 102]: a1
    ]);
    expect(outputs(driver)).toEqual(['a:A1+null@102', 'a:A2+a1@107']);
    driver.close();
  });

  it('repartitions a side whose key changed, and keeps both inputs in one sub-topology', async () => {
    const builder = new StreamsBuilder();
    const orders = builder.stream('orders', text).selectKey((_k, v) => v.split(':')[0]!, { key: stringSerde });
    const payments = builder.stream('payments', text);
    orders.join(payments, (order, payment) => `${order}|${payment}`, JoinWindows.ofTimeDifferenceWithNoGrace(100), { name: 'order-payments' }).to('out', text);
    const topology = builder.build();
    expect([...topology.repartitionTopics.keys()]).toEqual(['order-payments-left-repartition']);
    const joinSub = topology.subtopologies.find((s) => s.stores.length > 0)!;
    expect(joinSub.sourceTopics.map((t) => t.name).sort()).toEqual(['order-payments-left-repartition', 'payments']);
    expect(joinSub.stores.map((s) => s.name).sort()).toEqual(['order-payments-other-join-store', 'order-payments-this-join-store']);
    expect(topology.copartitionGroups).toEqual([{ subtopology: joinSub.id, topics: joinSub.sourceTopics }]);

    const driver = testDriver(topology, { applicationId: 'app' });
    await driver.inputTopic('orders', text).pipe('o-1', 'alice:book', { timestamp: 10 });
    await driver.inputTopic('payments', text).pipe('alice', '12 EUR', { timestamp: 50 });
    await driver.inputTopic('orders', text).pipe('o-2', 'bob:pen', { timestamp: 60 });
    expect(outputs(driver)).toEqual(['alice:alice:book|12 EUR@50']);
    driver.close();
  });

  it('dead-letters a late record when the policy says so, and joins a stream with itself', async () => {
    const builder = new StreamsBuilder();
    builder
      .stream('left', text)
      .join(builder.stream('right', text), (l, r) => `${l}+${r}`, JoinWindows.ofTimeDifferenceWithNoGrace(10))
      .to('out', text);
    const driver = testDriver(builder.build(), { applicationId: 'app', failures: { lateRecords: 'dlq' } });
    await pipeAll(driver, [
      ['L', 'a', 'A1', 50],
      ['R', 'a', 'late', 45],
    ]);
    expect(driver.outputTopic('app-dlq', text).readKeyValues()).toEqual([['a', 'late']]);
    expect(outputs(driver)).toEqual([]);
    driver.close();

    const self = new StreamsBuilder();
    const events = self.stream('events', text);
    events.join(events, (l, r) => `${l}+${r}`, JoinWindows.ofTimeDifferenceWithNoGrace(5)).to('out', text);
    const selfDriver = testDriver(self.build(), { applicationId: 'app' });
    const input = selfDriver.inputTopic('events', text);
    await input.pipe('a', 'x', { timestamp: 1 });
    await input.pipe('a', 'y', { timestamp: 3 });
    // Each record goes in as a left record (joining the right records before it), then as a right
    // one (joining the left records so far, itself included): y pairs with x both ways.
    expect(outputs(selfDriver)).toEqual(['a:x+x@1', 'a:y+x@3', 'a:x+y@3', 'a:y+y@3']);
    selfDriver.close();
  });

  it('checks before start that both sides are co-partitioned, naming both topics', () => {
    const builder = new StreamsBuilder();
    builder
      .stream('clicks', text)
      .join(builder.stream('views', text), (l, r) => `${l}${r}`, JoinWindows.ofTimeDifferenceWithNoGrace(5))
      .to('out', text);
    const topology = builder.build();
    expect(() => topology.checkCopartitioning((topic) => (topic.name === 'clicks' ? 3 : 2))).toThrow(/"clicks" has 3, "views" has 2/);
    expect(() => topology.checkCopartitioning(() => 4)).not.toThrow();
  });

  it('names stores after storeName, and asks for serdes a changed value type lost', () => {
    const builder = new StreamsBuilder();
    const left = builder.stream('left', text);
    const right = builder.stream('right', text);
    left.outerJoin(right, (l, r) => `${l}${r}`, JoinWindows.ofTimeDifferenceWithNoGrace(5), { storeName: 'pairs' }).to('out', text);
    expect([...builder.build().stores.keys()].sort()).toEqual(['pairs-other-join-store', 'pairs-outer-shared-join-store', 'pairs-this-join-store']);

    const mapped = left.mapValues((v) => v.length);
    expect(() => mapped.join(right, (l, r) => `${l}${r}`, JoinWindows.ofTimeDifferenceWithNoGrace(5))).toThrow(TopologyError);
    expect(() => mapped.join(right, (l, r) => `${l}${r}`, JoinWindows.ofTimeDifferenceWithNoGrace(5))).toThrow(/value \(this stream\)/);
    expect(() => JoinWindows.ofTimeDifferenceWithNoGrace(5).before(-6)).toThrow(/must not be empty/);
  });

  it('runs an asynchronous joiner, forwarding results in order', async () => {
    const builder = new StreamsBuilder();
    builder
      .stream('left', text)
      .outerJoin(builder.stream('right', text), async (l, r) => `${l ?? 'null'}+${r ?? 'null'}`, JoinWindows.ofTimeDifferenceWithNoGrace(5))
      .to('out', text);
    const driver = testDriver(builder.build(), { applicationId: 'app' });
    await pipeAll(driver, [
      ['L', 'a', 'A1', 0],
      ['R', 'b', 'b1', 1],
      ['L', 'b', 'B1', 2],
      ['R', 'b', 'b2', 3],
      ['L', 'c', 'C1', 20],
    ]);
    expect(outputs(driver)).toEqual(['b:B1+b1@2', 'b:B1+b2@3', 'a:A1+null@0']);
    driver.close();
  });
});
