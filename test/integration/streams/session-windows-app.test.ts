import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Broker, EmbeddedTransport } from '../../../broker/mod.ts';
import { Admin, Consumer, longSerde, Producer, stringSerde } from '../../../sdk/mod.ts';
import { murmur2Partitioner } from '../../../sdk/client/producer/partitioner.ts';
import { SessionWindows, sessionWindowedSerde, StreamsApp, StreamsBuilder } from '../../../streams/mod.ts';

describe('session windows in a StreamsApp on the embedded broker', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('counts per session, merges sessions with tombstones on the output topic, and restores the session store from its changelog, and from a snapshot plus the changelog after it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'rill-sessions-broker-'));
    const broker = await Broker.open({ config: { dataDir }, groups: { initialRebalanceDelayMs: 0 } });
    const transport = new EmbeddedTransport(broker);
    const stateDirs = [mkdtempSync(join(tmpdir(), 'rill-sessions-state-')), mkdtempSync(join(tmpdir(), 'rill-sessions-state-'))];
    cleanup.push(async () => {
      await transport.close();
      await broker.close();
      for (const dir of [dataDir, ...stateDirs]) rmSync(dir, { recursive: true, force: true });
    });
    const admin = new Admin(transport);
    await admin.createTopics([{ name: 'events', numPartitions: 2 }, { name: 'sessions', numPartitions: 2 }]);
    const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde });
    cleanup.push(() => producer.close());
    const base = Math.floor(Date.now() / 1_000) * 1_000;
    const keys = ['k0', 'k1', 'k2', 'k3'];
    const send = (offsets: readonly number[]) => producer.sendBatch(offsets.flatMap((at) => keys.map((key) => ({ topic: 'events', key, value: 'x', timestamp: base + at }))));
    const topology = () => {
      const builder = new StreamsBuilder();
      builder
        .stream('events', { key: stringSerde, value: stringSerde })
        .groupByKey()
        .windowedBy(SessionWindows.ofInactivityGapAndGrace(500, 5_000))
        .count({ name: 'session-count' })
        .toStream()
        .to('sessions');
      return builder.build();
    };
    /** Reads the output from the start until the live sessions (latest value per session, tombstones removing) are `expected`. */
    const converged = async (expected: Record<string, number>): Promise<void> => {
      const consumer = new Consumer(transport, { keySerde: sessionWindowedSerde(stringSerde), valueSerde: longSerde, autoOffsetReset: 'earliest' });
      consumer.assign([0, 1].map((partition) => ({ topic: 'sessions', partition })));
      const live = new Map<string, number>();
      const wanted = JSON.stringify(Object.entries(expected).sort());
      try {
        for await (const r of consumer) {
          expect(r.partition).toBe(murmur2Partitioner.partition({ topic: 'sessions', key: stringSerde.serialize(r.key!.key), partitionCount: 2 }));
          const id = `${r.key!.key}@[${r.key!.window.startMs - base},${r.key!.window.endMs - base}]`;
          if (r.value === null) live.delete(id);
          else live.set(id, r.value);
          if (JSON.stringify([...live].sort()) === wanted) return;
        }
      } finally {
        await consumer.close();
      }
    };
    const sessions = (entries: [number, number, number][]) => Object.fromEntries(keys.flatMap((key) => entries.map(([start, end, count]) => [`${key}@[${start},${end}]`, count])));

    // Two sessions per key: [0, 1000] and [1800, 2300], 800 ms apart (more than the gap).
    await send([0, 250, 500, 750, 1_000, 1_800, 2_050, 2_300]);
    const first = new StreamsApp(topology(), { applicationId: 'sessions-app', transport, stateDir: stateDirs[0]!, commitIntervalMs: 50 });
    await first.start();
    await converged(sessions([[0, 1_000, 5], [1_800, 2_300, 3]]));
    await first.close();

    // A record at 1400 bridges them; the second app starts from an empty state directory, so it restores the sessions from the changelog.
    await send([1_400]);
    const second = new StreamsApp(topology(), { applicationId: 'sessions-app', transport, stateDir: stateDirs[1]!, commitIntervalMs: 50 });
    await second.start();
    await converged(sessions([[0, 2_300, 9]]));
    expect(second.metrics().tasks.reduce((sum, t) => sum + t.restoredRecords, 0)).toBeGreaterThan(0);
    await second.close();

    // The third app loads the snapshot the first wrote at close and replays only the changelog after it.
    await send([2_700]);
    const third = new StreamsApp(topology(), { applicationId: 'sessions-app', transport, stateDir: stateDirs[0]!, commitIntervalMs: 50 });
    await third.start();
    await converged(sessions([[0, 2_700, 10]]));
    const replayed = third.metrics().tasks.reduce((sum, t) => sum + t.restoredRecords, 0);
    const changelogEnd = (await admin.topicOffsets('sessions-app-session-count-changelog', 1)).reduce((sum, o) => sum + o.latest, 0);
    expect(replayed).toBeGreaterThan(0);
    expect(replayed).toBeLessThan(changelogEnd);
    await third.close();
  });
});
