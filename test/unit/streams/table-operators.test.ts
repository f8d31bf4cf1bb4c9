import { describe, expect, it } from 'vitest';
import { jsonSerde, longSerde, stringSerde } from '../../../sdk/mod.ts';
import { type KeyValueStore, nullable, StreamsBuilder, timestampedSerde, type ValueAndTimestamp } from '../../../streams/mod.ts';
import { type OutputRecord, valueBytes } from '../../../streams/runtime/record-collector.ts';
import { testDriver, testTask } from './helpers/test-driver.ts';

const text = { key: stringSerde, value: stringSerde };
const numbers = { key: stringSerde, value: jsonSerde<number>() };
const encoder = new TextEncoder();
const decoder = new TextDecoder();

type Driver = ReturnType<typeof testDriver>;

function records(driver: Driver, topic: string): [string, string | null, number][] {
  return driver
    .outputTopic(topic, text)
    .readRecords()
    .map((r) => [r.key, r.value, r.timestamp]);
}

describe('KTable through the test driver', () => {
  it('builder.table keeps the latest value per key by offset, whatever the timestamps; a tombstone deletes, a delete of an absent key changes nothing', async () => {
    const builder = new StreamsBuilder();
    builder.table('prices', { ...text, name: 'prices' }).toStream().to('changes');
    const driver = testDriver(builder.build(), { applicationId: 'app' });
    const input = driver.inputTopic('prices', { key: stringSerde, value: nullable(stringSerde) });
    await input.pipe('apple', 'v1', { timestamp: 10 });
    await input.pipe('apple', 'v2', { timestamp: 5 });
    await input.pipe('pear', 'p1', { timestamp: 7 });
    await input.pipe('pear', null, { timestamp: 8 });
    await input.pipe('plum', null, { timestamp: 21 });
    expect(records(driver, 'changes')).toEqual([
      ['apple', 'v1', 10],
      ['apple', 'v2', 5],
      ['pear', 'p1', 7],
      ['pear', null, 8],
    ]);
    const store = driver.store<KeyValueStore<string, ValueAndTimestamp<string>>>('prices');
    expect([...store.all()]).toEqual([['apple', { value: 'v2', timestamp: 5 }]]);
    expect(driver.outputTopic('app-prices-changelog', { key: stringSerde, value: timestampedSerde(stringSerde) }).readKeyValues()).toEqual([
      ['apple', { value: 'v1', timestamp: 10 }],
      ['apple', { value: 'v2', timestamp: 5 }],
      ['pear', { value: 'p1', timestamp: 7 }],
      ['pear', null],
    ]);
  });

  it('forwards the same changes without caching, each as it happens', async () => {
    const builder = new StreamsBuilder();
    builder.table('prices', { ...text, name: 'prices', cached: false }).toStream().to('changes');
    const driver = testDriver(builder.build());
    const input = driver.inputTopic('prices', { key: stringSerde, value: nullable(stringSerde) });
    await input.pipe('apple', 'v1', { timestamp: 10 });
    await input.pipe('apple', null, { timestamp: 12 });
    await input.pipe('apple', null, { timestamp: 13 });
    expect(records(driver, 'changes')).toEqual([
      ['apple', 'v1', 10],
      ['apple', null, 12],
    ]);
  });

  it('skips a table record without a key when the key serde admits null; otherwise it is a deserialization failure', async () => {
    const builder = new StreamsBuilder();
    builder.table('lenient', { key: nullable(stringSerde), value: stringSerde }).toStream().to('lenient-changes');
    builder.table('strict', text).toStream().to('strict-changes');
    const driver = testDriver(builder.build(), { applicationId: 'app', failures: { deserialization: 'dlq' } });
    await driver.inputTopic('lenient', { key: nullable(stringSerde), value: stringSerde }).pipe(null, 'v');
    await driver.inputTopic('strict', { key: nullable(stringSerde), value: stringSerde }).pipe(null, 'v');
    expect(records(driver, 'lenient-changes')).toEqual([]);
    expect(records(driver, 'strict-changes')).toEqual([]);
    expect(driver.outputTopic('app-dlq').readRecords()).toHaveLength(1);
  });

  it('caches updates between commits: one change per key, in key order, at the commit', () => {
    const sent: OutputRecord[] = [];
    const builder = new StreamsBuilder();
    builder.table('t', text).toStream().to('out');
    const task = testTask(builder.build(), sent);
    let offset = 0;
    const accept = (key: string, value: string | null, timestamp = 101 + offset) =>
      task.accept({ topic: 't', partition: 0, offset: offset++, timestamp, key: encoder.encode(key), value: value === null ? null : encoder.encode(value), headers: [] });
    accept('k', '1');
    accept('k', '2');
    accept('j', '1');
    accept('i', '1');
    accept('i', null);
    const outputs = () => sent.filter((r) => r.topic === 'out').map((r) => [decoder.decode(r.key!), r.value === null ? null : decoder.decode(valueBytes(r.value)!), r.timestamp]);
    expect(outputs()).toEqual([]);
    task.prepareCommit();
    expect(outputs()).toEqual([
      ['j', '1', 103],
      ['k', '2', 102],
    ]);
    task.commitSucceeded();
    accept('k', null, 50);
    task.prepareCommit();
    task.commitSucceeded();
    expect(outputs().slice(2)).toEqual([['k', null, 50]]);
  });

  it('filter forwards a delete for a key that stops matching and nothing for a key that never matched; filterNot the converse', async () => {
    const builder = new StreamsBuilder();
    const stock = builder.table('stock', numbers);
    stock
      .filter((_item, count) => count > 0)
      .toStream()
      .to('in-stock', { value: jsonSerde<number>() });
    stock
      .filterNot((_item, count) => count > 0)
      .toStream()
      .to('sold-out', { value: jsonSerde<number>() });
    const driver = testDriver(builder.build());
    const input = driver.inputTopic('stock', { key: stringSerde, value: nullable(jsonSerde<number>()) });
    await input.pipe('pen', 3);
    await input.pipe('pen', 0);
    await input.pipe('ink', 0);
    await input.pipe('ink', null);
    await input.pipe('cap', 2);
    await input.pipe('cap', 1);
    await input.pipe('cap', null);
    const read = (topic: string) => driver.outputTopic(topic, { key: stringSerde, value: nullable(jsonSerde<number>()) }).readKeyValues();
    expect(read('in-stock')).toEqual([
      ['pen', 3],
      ['pen', null],
      ['cap', 2],
      ['cap', 1],
      ['cap', null],
    ]);
    expect(read('sold-out')).toEqual([
      ['pen', 0],
      ['ink', 0],
      ['ink', null],
    ]);
  });

  it('mapValues maps each update once; a filter below it gets the old values mapped too, for its deletes', async () => {
    let mapped = 0;
    const builder = new StreamsBuilder();
    const scores = builder.table('scores', numbers);
    scores
      .mapValues((score) => {
        mapped++;
        return score >= 50 ? 'pass' : 'fail';
      }, { value: stringSerde })
      .toStream()
      .to('grades');
    const driver = testDriver(builder.build());
    const input = driver.inputTopic('scores', { key: stringSerde, value: nullable(jsonSerde<number>()) });
    await input.pipe('ann', 70);
    await input.pipe('ann', 20);
    await input.pipe('ann', null);
    expect(driver.outputTopic('grades', { key: stringSerde, value: nullable(stringSerde) }).readKeyValues()).toEqual([
      ['ann', 'pass'],
      ['ann', 'fail'],
      ['ann', null],
    ]);
    expect(mapped).toBe(2);

    const filtered = new StreamsBuilder();
    filtered
      .table('scores', numbers)
      .mapValues((score) => score * 2, { value: jsonSerde<number>() })
      .filter((_name, doubled) => doubled >= 100)
      .toStream()
      .to('high', { value: jsonSerde<number>() });
    const second = testDriver(filtered.build());
    const scoresIn = second.inputTopic('scores', { key: stringSerde, value: nullable(jsonSerde<number>()) });
    await scoresIn.pipe('bob', 60);
    await scoresIn.pipe('bob', 70);
    await scoresIn.pipe('bob', 10);
    await scoresIn.pipe('cy', 10);
    expect(second.outputTopic('high', { key: stringSerde, value: nullable(jsonSerde<number>()) }).readKeyValues()).toEqual([
      ['bob', 120],
      ['bob', 140],
      ['bob', null],
    ]);
  });

  it('an asynchronous mapValues below a cached table runs on the flush and is awaited before the commit', async () => {
    const builder = new StreamsBuilder();
    builder
      .table('names', text)
      .mapValues(async (name) => name.toUpperCase(), { value: stringSerde })
      .toStream()
      .to('upper');
    const driver = testDriver(builder.build());
    const input = driver.inputTopic('names', text);
    await input.pipe('1', 'ann');
    await input.pipe('2', 'bob');
    expect(records(driver, 'upper').map(([key, value]) => [key, value])).toEqual([
      ['1', 'ANN'],
      ['2', 'BOB'],
    ]);
  });

  it('aggregates a table’s changes in the same task within the same commit (its store flushes before the aggregation’s)', async () => {
    const builder = new StreamsBuilder();
    builder
      .table('profiles', { ...text, name: 'profiles' })
      .toStream()
      .groupByKey()
      .count({ name: 'profile-updates' })
      .toStream()
      .to('updates');
    const topology = builder.build();
    expect(topology.subtopologies).toHaveLength(1);
    expect(topology.subtopologies[0]!.stores.map((s) => s.name)).toEqual(['profiles', 'profile-updates']);
    const driver = testDriver(topology);
    const input = driver.inputTopic('profiles', { key: stringSerde, value: nullable(stringSerde) });
    await input.pipe('ann', 'v1');
    expect(driver.outputTopic('updates', { key: stringSerde, value: longSerde }).readKeyValues()).toEqual([['ann', 1]]);
    await input.pipe('ann', null);
    await input.pipe('ann', 'v2');
    expect(driver.outputTopic('updates', { key: stringSerde, value: longSerde }).readKeyValues()).toEqual([['ann', 2]]);
  });

  it('an aggregation’s table filters like any table: count, then keys seen at least twice', async () => {
    const builder = new StreamsBuilder();
    builder
      .stream('visits', text)
      .groupByKey()
      .count({ name: 'visits' })
      .filter((_user, visits) => visits >= 2)
      .toStream()
      .to('regulars', { value: nullable(longSerde) });
    const driver = testDriver(builder.build());
    await driver.inputTopic('visits', text).pipeAll([
      ['ann', '/'],
      ['bob', '/'],
      ['ann', '/a'],
      ['ann', '/b'],
    ]);
    expect(driver.outputTopic('regulars', { key: stringSerde, value: longSerde }).readKeyValues()).toEqual([
      ['ann', 2],
      ['ann', 3],
    ]);
  });
});
