import { describe, expect, it } from 'vitest';
import { Admin, KafkaError, Producer, stringSerde } from '../../../sdk/mod.ts';
import { ApiKey } from '../../../sdk/protocol/mod.ts';
import { SeverableTransport } from '../../helpers/severable-transport.ts';
import { StreamsError, StreamsErrorCode } from '../../../streams/mod.ts';
import { declaredFilter, type ReplayProgress, replayTopic } from '../../../streams/ops/topic-replay.ts';
import { embeddedSetup, setupHooks, tcpSetup } from '../../helpers/streams-setups.ts';
import { readCommittedTopic } from '../../helpers/read-committed-topic.ts';

const text = new TextDecoder();

describe.each([embeddedSetup(), tcpSetup()])('topic replay over $name', (setup) => {
  const { openSetup, cleanup } = setupHooks(setup);

  it('a replay that dies half way (its link cut inside an open transaction) resumes and copies every record exactly once', async () => {
    const { transport } = await openSetup();
    const admin = new Admin(transport);
    await admin.createTopics([{ name: 'rp-src', numPartitions: 3 }, { name: 'rp-dst', numPartitions: 3 }]);
    const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde });
    cleanup.push(() => producer.close());
    for (let partition = 0; partition < 3; partition++) {
      await producer.sendBatch(Array.from({ length: 200 }, (_, i) => ({ topic: 'rp-src', partition, key: `p${partition}-${i}`, value: `v${i}` })));
    }

    // The link dies right after the second transaction's records reach the broker: that transaction stays open there.
    const doomed = new SeverableTransport(await setup.open(), { apiKey: ApiKey.Produce, count: 2 });
    cleanup.push(() => doomed.close());
    const crash = await replayTopic(doomed, { source: 'rp-src', target: 'rp-dst', replayId: 'rp-crash' }).catch((e: unknown) => e);
    expect(doomed.isSevered).toBe(true);
    expect(crash).toBeInstanceOf(Error);
    const uncommitted = await new Admin(transport).topicOffsets('rp-dst', 0);
    expect(uncommitted.reduce((sum, o) => sum + o.latest, 0)).toBeGreaterThanOrEqual(400);

    const progress: ReplayProgress[] = [];
    const resumed = await replayTopic(transport, { source: 'rp-src', target: 'rp-dst', replayId: 'rp-crash', onProgress: (p) => progress.push(p) });
    expect(resumed.partitions.some((p) => p.resumedFrom === 200)).toBe(true);
    expect(resumed.copied).toBeLessThan(600);
    expect(progress.at(-1)).toMatchObject({ done: true, scannedOffsets: 600, totalOffsets: 600, copied: resumed.copied });
    const out = await readCommittedTopic(transport, 'rp-dst');
    const keys = out.map((r) => text.decode(r.key!));
    expect(keys.length).toBe(600);
    expect(new Set(keys).size).toBe(600);
    expect(out.every((r) => text.decode(r.key!).startsWith(`p${r.partition}-`))).toBe(true);

    const again = await replayTopic(transport, { source: 'rp-src', target: 'rp-dst', replayId: 'rp-crash' });
    expect(again.copied).toBe(0);
    expect((await readCommittedTopic(transport, 'rp-dst')).length).toBe(600);
  });
});

describe('topic replay', () => {
  const { openSetup, cleanup } = setupHooks(embeddedSetup());

  it('copies an offset or time range with a declared filter, keeping timestamps and headers, by key or partition, and rejects bad input', async () => {
    const { transport } = await openSetup();
    const admin = new Admin(transport);
    await admin.createTopics([{ name: 'rf-src', numPartitions: 2 }, { name: 'rf-dst', numPartitions: 2 }, { name: 'rf-keyed', numPartitions: 1 }]);
    const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde });
    cleanup.push(() => producer.close());
    const base = 7_000_000;
    await producer.sendBatch(
      Array.from({ length: 40 }, (_, i) => ({ topic: 'rf-src', partition: i % 2, key: `${i % 4 === 0 ? 'eu' : 'us'}-${i}`, value: `v${i}`, timestamp: base + i * 10, headers: { region: i % 3 === 0 ? 'north' : 'south' } })),
    );

    // Partition 0 holds records 0, 2, ..., 38 at offsets 0..19; offsets 2..10 are records 4..18; the key prefix keeps those with i % 4 == 0.
    const progress: ReplayProgress[] = [];
    const byOffsets = await replayTopic(transport, {
      source: 'rf-src',
      target: 'rf-dst',
      partitions: [0],
      from: { offsets: { 0: 2 } },
      to: { offsets: { 0: 10 } },
      filter: declaredFilter({ keyPrefix: 'eu-' }),
      onProgress: (p) => progress.push(p),
    });
    expect(byOffsets).toMatchObject({ copied: 4, filteredOut: 4, totalOffsets: 8, scannedOffsets: 8, done: true, partitioning: 'keep' });
    expect(progress.at(-1)!.done).toBe(true);
    const copied = await readCommittedTopic(transport, 'rf-dst');
    expect(copied.map((r) => [r.partition, text.decode(r.key!), r.timestamp, text.decode(r.headers[0]!.value!)])).toEqual(
      [4, 8, 12, 16].map((i) => [0, `eu-${i}`, base + i * 10, i % 3 === 0 ? 'north' : 'south']),
    );

    // From the first record at or after base + 200 (record 20) to the first at or after base + 300 (record 30), both partitions, by key.
    const byTime = await replayTopic(transport, {
      source: 'rf-src',
      target: 'rf-keyed',
      from: { timestampMs: base + 200 },
      to: { timestampMs: base + 300 },
      filter: declaredFilter({ header: 'region', equals: 'north' }),
      partitioning: 'key',
    });
    expect(byTime.copied).toBe(3);
    expect((await readCommittedTopic(transport, 'rf-keyed')).map((r) => text.decode(r.key!)).sort()).toEqual(['eu-24', 'us-21', 'us-27']);

    const same = await replayTopic(transport, { source: 'rf-src', target: 'rf-src' }).catch((e: unknown) => e);
    expect((same as StreamsError).code).toBe(StreamsErrorCode.invalidConfig);
    const missing = await replayTopic(transport, { source: 'rf-src', target: 'rf-nowhere' }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(KafkaError);
    expect((missing as KafkaError).errorName).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    const narrow = await replayTopic(transport, { source: 'rf-src', target: 'rf-keyed' }).catch((e: unknown) => e);
    expect((narrow as StreamsError).message).toContain('partitioning "keep" writes source partition 1 to target partition 1');
  });
});
