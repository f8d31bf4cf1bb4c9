import { describe, expect, it } from 'vitest';
import { Admin, Consumer, longSerde, Producer, stringSerde, type Transport } from '../../../sdk/mod.ts';
import { AppState, BufferConfig, StreamsApp, StreamsBuilder, StreamsError, StreamsErrorCode, Suppressed, TimeWindows, timeWindowedSerde } from '../../../streams/mod.ts';
import { embeddedSetup, setupHooks, tcpSetup } from '../../helpers/streams-setups.ts';

const SIZE_MS = 1_000;
const PARTITIONS = 2;
const windowedKey = timeWindowedSerde(stringSerde, SIZE_MS);

/** Every committed final result up to the topic's end, as `key@start=count`. */
async function readAll(transport: Transport): Promise<string[]> {
  const ends = await new Admin(transport).topicOffsets('finals', 1);
  const open = ends.filter((e) => e.latest > e.earliest);
  const out: string[] = [];
  if (open.length === 0) return out;
  const consumer = new Consumer(transport, { keySerde: windowedKey, valueSerde: longSerde, autoOffsetReset: 'earliest' });
  consumer.assign(open.map((e) => ({ topic: 'finals', partition: e.partition })));
  const done = new Set<number>();
  try {
    for await (const batch of consumer.batches({ includeEmpty: true })) {
      for (const r of batch.records) out.push(`${r.key!.key}@${r.key!.window.startMs}=${r.value}`);
      if ((consumer.position(batch) ?? 0) >= ends.find((e) => e.partition === batch.partition)!.latest) done.add(batch.partition);
      if (done.size === open.length) break;
    }
  } finally {
    await consumer.close();
  }
  return out;
}

describe.each([embeddedSetup(), tcpSetup()])('suppress(untilWindowCloses) over $name', (setup) => {
  const { openSetup, cleanup } = setupHooks(setup);

  /** Follows `finals` (read_committed) into `seen`: every final result as `key@start=count`, duplicates kept. */
  function follow(transport: Transport, seen: string[]): { until(count: number): Promise<void>; stop(): Promise<void> } {
    const consumer = new Consumer(transport, { keySerde: windowedKey, valueSerde: longSerde, autoOffsetReset: 'earliest', maxWaitMs: 100 });
    consumer.assign(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: 'finals', partition })));
    let waiters: { count: number; resolve: () => void }[] = [];
    const reading = (async () => {
      for await (const batch of consumer.batches()) {
        for (const r of batch.records) seen.push(`${r.key!.key}@${r.key!.window.startMs}=${r.value}`);
        waiters = waiters.filter((w) => (seen.length >= w.count ? void w.resolve() : true));
      }
    })();
    return {
      until: (count) => (seen.length >= count ? Promise.resolve() : new Promise((resolve) => waiters.push({ count, resolve }))),
      stop: async () => {
        await consumer.close();
        await reading;
      },
    };
  }

  it('emits each final result once across a failed transaction that held finals and a restart that restores the buffer', async () => {
    const { transport, stateDir } = await openSetup();
    const admin = new Admin(transport);
    await admin.createTopics([{ name: 'events', numPartitions: PARTITIONS }, { name: 'finals', numPartitions: PARTITIONS }]);
    const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde });
    const base = Math.floor(Date.now() / SIZE_MS) * SIZE_MS - 3_600_000;
    const expected = new Map<string, number>();
    let sent = 0;
    const send = async (count: number, extra: { key: string; value: string }[] = []): Promise<void> => {
      const records = Array.from({ length: count }, (_, i) => ({ topic: 'events', key: `k${(sent + i) % 5}`, value: 'x', timestamp: base + (sent + i) * 97 }));
      records.push(...extra.map((e) => ({ topic: 'events', key: e.key, value: e.value, timestamp: base + (sent + count) * 97 })));
      for (const r of records) {
        const id = `${r.key}@${Math.floor(r.timestamp / SIZE_MS) * SIZE_MS}`;
        expected.set(id, (expected.get(id) ?? 0) + 1);
      }
      sent += count;
      await producer.sendBatch(records);
    };
    let crashing = true;
    const topology = () => {
      const builder = new StreamsBuilder();
      const events = builder.stream('events', { key: stringSerde, value: stringSerde });
      events.foreach((_key, value) => {
        if (value === 'crash' && crashing) throw new Error('crash');
      });
      events
        .groupByKey()
        .windowedBy(TimeWindows.ofSizeAndGrace(SIZE_MS, 200))
        .count({ name: 'counts' })
        .suppress(Suppressed.untilWindowCloses(BufferConfig.unbounded(), { name: 'finals' }))
        .toStream()
        .to('finals', { key: windowedKey, value: longSerde });
      return builder.build();
    };
    const seen: string[] = [];
    const watch = follow(transport, seen);
    cleanup.push(() => watch.stop());

    await send(60);
    const first = new StreamsApp(topology(), { applicationId: 'finals-app', transport, stateDir, commitIntervalMs: 50 });
    await first.start();
    await watch.until(1);
    // These close more windows; the record after them fails the transaction that holds their finals.
    await send(40, [{ key: 'poison', value: 'crash' }]);
    await expect(first.stopped).rejects.toThrow(/crash/);
    expect(first.state).toBe(AppState.error);
    const committedBefore = seen.length;

    crashing = false;
    await send(40);
    const second = new StreamsApp(topology(), { applicationId: 'finals-app', transport, stateDir, commitIntervalMs: 50 });
    await second.start();
    // A record per partition far ahead closes every window of the data.
    const flushAt = base + (sent + 10) * 97 + 2 * SIZE_MS;
    await producer.sendBatch(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: 'events', partition, key: 'flush', value: 'x', timestamp: flushAt })));
    await watch.until(expected.size);
    await second.close();
    await producer.close();

    expect(committedBefore).toBeGreaterThan(0);
    expect(committedBefore).toBeLessThan(expected.size);
    const finals = new Map<string, number>();
    const duplicates: string[] = [];
    for (const line of await readAll(transport)) {
      const [id, count] = line.split('=') as [string, string];
      if (id.startsWith('flush@')) continue;
      if (finals.has(id)) duplicates.push(line);
      finals.set(id, Number(count));
    }
    expect(duplicates).toEqual([]);
    expect(finals).toEqual(expected);
  });

  it('stops with a SUPPRESSION_BUFFER_FULL StreamsError when a strict buffer outgrows its bound, whatever the failure policy', async () => {
    const { transport, stateDir } = await openSetup();
    const admin = new Admin(transport);
    await admin.createTopics([{ name: 'full-in', numPartitions: 1 }, { name: 'full-out', numPartitions: 1 }]);
    const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde });
    const base = Math.floor(Date.now() / SIZE_MS) * SIZE_MS;
    await producer.sendBatch(Array.from({ length: 20 }, (_, i) => ({ topic: 'full-in', key: `k${i}`, value: 'x', timestamp: base + i })));
    await producer.close();
    const builder = new StreamsBuilder();
    builder
      .stream('full-in', { key: stringSerde, value: stringSerde })
      .groupByKey()
      .windowedBy(TimeWindows.ofSizeWithNoGrace(SIZE_MS))
      .count()
      .suppress(Suppressed.untilWindowCloses(BufferConfig.maxRecords(5).shutDownWhenFull(), { name: 'small' }))
      .toStream()
      .to('full-out', { key: windowedKey, value: longSerde });
    const app = new StreamsApp(builder.build(), { applicationId: 'full-app', transport, stateDir, commitIntervalMs: 50, failures: { processing: 'skip' } });
    await app.start();
    const error = await app.stopped.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StreamsError);
    expect((error as StreamsError).code).toBe(StreamsErrorCode.suppressionBufferFull);
    expect((error as StreamsError).message).toMatch(/^the suppression "small" \(store "small-store"\) is full .*\/5 records/);
    expect(app.state).toBe(AppState.error);
  });
});
