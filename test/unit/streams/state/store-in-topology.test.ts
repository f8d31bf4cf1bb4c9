import { describe, expect, it } from 'vitest';
import { jsonSerde, stringSerde } from '../../../../sdk/serde/basic-serdes.ts';
import type { Serde } from '../../../../sdk/serde/serde.ts';
import { StreamRecord, TopologyBuilder, TopologyTestDriver, type ProcessorContext } from '../../../../streams/mod.ts';
import type { FlushListenable, KeyValueStore } from '../../../../streams/state/key-value-store.ts';

interface Count {
  n: number;
}

/** A word count through the processor API: a store per task, one changelog record per key per commit. */
function wordCount(cached: boolean) {
  const builder = new TopologyBuilder()
    .addSource('lines', ['lines'], { key: stringSerde as Serde<unknown>, value: stringSerde as Serde<unknown> })
    .addStore({ name: 'counts', kind: 'keyValue', keySerde: stringSerde as Serde<unknown>, valueSerde: jsonSerde<Count>() as Serde<unknown>, logged: true, cached, changelogConfig: {} })
    .addProcessor(
      'count',
      () => {
        let context!: ProcessorContext<string, number>;
        let store!: KeyValueStore<string, Count> & FlushListenable<string, Count>;
        let forwardsItself = true;
        return {
          init(c) {
            context = c;
            store = c.getStateStore('counts');
            forwardsItself = !store.setFlushListener((change) => context.forward(new StreamRecord(change.key, change.newValue?.n ?? 0, 0)));
          },
          process(record: StreamRecord<string, string>) {
            for (const word of record.value.split(' ')) {
              const n = (store.get(word)?.n ?? 0) + 1;
              store.put(word, { n });
              if (forwardsItself) context.forward(record.with(word, n));
            }
          },
        };
      },
      ['lines'],
      ['counts'],
    )
    .addSink('out', 'counts-out', ['count'], { key: stringSerde as Serde<unknown>, value: jsonSerde<number>() as Serde<unknown> });
  return new TopologyTestDriver(builder.build(), { applicationId: 'wc' });
}

describe('a store inside a topology run by the test driver', () => {
  it('forwards the latest count per word once per commit when cached, and logs one record per word per commit', async () => {
    const driver = wordCount(true);
    const lines = driver.inputTopic('lines', { key: stringSerde, value: stringSerde });
    const out = driver.outputTopic('counts-out', { key: stringSerde, value: jsonSerde<number>() });
    const changelog = driver.outputTopic('wc-counts-changelog', { key: stringSerde, value: jsonSerde<Count>() });
    await lines.pipe('1', 'b a b', { timestamp: 5 });
    await lines.pipe('2', 'a', { timestamp: 9 });
    expect(out.readKeyValues()).toEqual([
      ['a', 1],
      ['b', 2],
      ['a', 2],
    ]);
    expect(changelog.readRecords().map((r) => [r.key, r.value, r.timestamp])).toEqual([
      ['a', { n: 1 }, 5],
      ['b', { n: 2 }, 5],
      ['a', { n: 2 }, 9],
    ]);
    expect([...driver.store<KeyValueStore<string, Count>>('counts').all()]).toEqual([
      ['a', { n: 2 }],
      ['b', { n: 2 }],
    ]);
    driver.close();
  });

  it('leaves forwarding to the processor when uncached, still logging one record per word per commit', async () => {
    const driver = wordCount(false);
    const lines = driver.inputTopic('lines', { key: stringSerde, value: stringSerde });
    const out = driver.outputTopic('counts-out', { key: stringSerde, value: jsonSerde<number>() });
    const changelog = driver.outputTopic('wc-counts-changelog', { key: stringSerde, value: jsonSerde<Count>() });
    await lines.pipe('1', 'b a b');
    expect(out.readKeyValues()).toEqual([
      ['b', 1],
      ['a', 1],
      ['b', 2],
    ]);
    expect(changelog.readKeyValues()).toEqual([
      ['b', { n: 2 }],
      ['a', { n: 1 }],
    ]);
    driver.close();
  });
});
