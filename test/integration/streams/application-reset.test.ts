import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Admin, longSerde, Producer, stringSerde } from '../../../sdk/mod.ts';
import { AppState, StreamsApp, StreamsBuilder, StreamsError, StreamsErrorCode } from '../../../streams/mod.ts';
import { ApplicationActiveError, applicationInternalTopics, formatResetPlan, resetApplication } from '../../../streams/ops/application-reset.ts';
import { decodeStreamTime } from '../../../streams/runtime/stream-time-metadata.ts';
import { awaitLatestCounts } from '../../helpers/latest-counts.ts';
import { embeddedSetup, setupHooks, tcpSetup } from '../../helpers/streams-setups.ts';

const WORDS = ['apple', 'banana', 'cherry', 'date', 'elder', 'fig'];

/** A count per word: a repartition topic (groupBy the value) and a changelogged store. */
function wordCount(input: string, output: string) {
  const builder = new StreamsBuilder();
  builder
    .stream(input, { key: stringSerde, value: stringSerde })
    .groupBy((_k, v) => v, { key: stringSerde, value: stringSerde })
    .count({ name: 'word-count' })
    .toStream()
    .to(output, { key: stringSerde, value: longSerde });
  return builder.build();
}

async function ends(admin: Admin, topic: string): Promise<number[]> {
  return (await admin.topicOffsets(topic, 1)).map((o) => o.latest);
}

describe.each([embeddedSetup(), tcpSetup()])('application reset over $name', (setup) => {
  const { openSetup, cleanup } = setupHooks(setup);

  it('reset then rerun of a stateful job reproduces its outputs; it refuses while a member runs; a dry run changes nothing', async () => {
    const { transport, stateDir } = await openSetup();
    const admin = new Admin(transport);
    await admin.createTopics([{ name: 'r-words', numPartitions: 2 }, { name: 'r-counts', numPartitions: 2 }]);
    const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde });
    cleanup.push(() => producer.close());
    const expected = new Map<string, number>();
    const records = Array.from({ length: 90 }, (_, i) => ({ topic: 'r-words', key: `line-${i}`, value: WORDS[(i * 7) % 5 + (i % 3 === 0 ? 1 : 0)]!, timestamp: 1_000_000 + i }));
    for (const r of records) expected.set(r.value, (expected.get(r.value) ?? 0) + 1);
    await producer.sendBatch(records);

    const app = new StreamsApp(wordCount('r-words', 'r-counts'), { applicationId: 'r-app', transport, stateDir, commitIntervalMs: 50 });
    await app.start();
    await app.waitFor(AppState.running);
    expect(await awaitLatestCounts(transport, 'r-counts', [0, 0], expected)).toEqual(expected);

    const active = await resetApplication(transport, { applicationId: 'r-app', stateDir }).catch((e: unknown) => e);
    expect(active).toBeInstanceOf(ApplicationActiveError);
    const [member] = (await admin.describeGroups(['r-app']))[0]!.members;
    expect((active as ApplicationActiveError).code).toBe(StreamsErrorCode.applicationActive);
    expect((active as Error).message).toContain(member!.memberId);
    expect((active as Error).message).toContain(`client ${member!.clientId}`);
    expect((active as Error).message).toContain(`host ${member!.clientHost}`);
    await app.close();

    const committedBefore = await admin.committedOffsets('r-app');
    expect(committedBefore.some((c) => decodeStreamTime(c.metadata) !== undefined)).toBe(true);
    const topicsBefore = await admin.listTopics();
    const dry = await resetApplication(transport, { applicationId: 'r-app', stateDir, dryRun: true });
    expect(await admin.committedOffsets('r-app')).toEqual(committedBefore);
    expect(await admin.listTopics()).toEqual(topicsBefore);
    expect(readdirSync(join(stateDir, 'r-app')).some((e) => /^\d+_\d+$/.test(e))).toBe(true);
    expect(dry.inputs.map((p) => [p.topic, p.partition, p.toOffset])).toEqual([['r-words', 0, 0], ['r-words', 1, 0]]);
    expect(dry.inputs.every((p) => p.hadStreamTime)).toBe(true);
    expect(dry.internalTopics.map((t) => [t.topic, t.kind, t.action])).toEqual([
      ['r-app-word-count-changelog', 'changelog', 'delete'],
      ['r-app-word-count-repartition', 'repartition', 'delete'],
    ]);
    const text = formatResetPlan(dry);
    expect(text).toContain('Dry run: would reset application "r-app" to earliest');
    expect(text).toMatch(/r-words-0: \d+ -> 0 \(stream time cleared\)/);
    expect(text).toContain('delete r-app-word-count-changelog (changelog, 2 partitions');

    const outputEnd = await ends(admin, 'r-counts');
    const plan = await resetApplication(transport, { applicationId: 'r-app', stateDir });
    expect(plan.dryRun).toBe(false);
    const after = await admin.committedOffsets('r-app');
    expect(after.map((c) => [c.topic, c.partition, c.offset])).toEqual([['r-words', 0, 0], ['r-words', 1, 0]]);
    expect(after.every((c) => decodeStreamTime(c.metadata) === undefined)).toBe(true);
    expect(await admin.listTopics()).not.toContain('r-app-word-count-changelog');
    expect(readdirSync(join(stateDir, 'r-app')).filter((e) => /^\d+_\d+$/.test(e))).toEqual([]);

    // Without the changelog and state wiped, the rerun's counts would start from the old ones.
    const rerun = new StreamsApp(wordCount('r-words', 'r-counts'), { applicationId: 'r-app', transport, stateDir, commitIntervalMs: 50 });
    await rerun.start();
    expect(await awaitLatestCounts(transport, 'r-counts', outputEnd, expected)).toEqual(expected);
    await rerun.close();
  });
});

describe('application reset', () => {
  const setup = embeddedSetup();
  const { openSetup, cleanup } = setupHooks(setup);

  it('moves inputs to a time or a duration ago, truncates internal topics, leaves an app whose id it prefixes alone', async () => {
    const { transport } = await openSetup();
    const admin = new Admin(transport);
    await admin.createTopics([
      { name: 't-in', numPartitions: 2 },
      { name: 't-app-count-changelog', numPartitions: 2 },
      { name: 't-app-count-repartition', numPartitions: 2 },
      { name: 't-app-v2-count-changelog', numPartitions: 1 },
    ]);
    const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde });
    cleanup.push(() => producer.close());
    const base = 5_000_000;
    await producer.sendBatch(Array.from({ length: 40 }, (_, i) => ({ topic: 't-in', partition: i % 2, key: `k${i}`, value: 'v', timestamp: base + i * 1_000 })));
    await producer.sendBatch(Array.from({ length: 10 }, (_, i) => ({ topic: 't-app-count-changelog', partition: i % 2, key: `k${i}`, value: 'c' })));
    await producer.sendBatch(Array.from({ length: 6 }, (_, i) => ({ topic: 't-app-count-repartition', partition: i % 2, key: `k${i}`, value: 'r' })));
    await admin.resetGroupOffsets('t-app', 't-in', { to: 'latest' });
    await admin.resetGroupOffsets('t-app', 't-app-count-repartition', { to: 'offsets', offsets: [{ topic: 't-app-count-repartition', partition: 0, offset: 2 }] });
    await admin.resetGroupOffsets('t-app-v2', 't-in', { to: 'latest' });

    expect(applicationInternalTopics('t-app', await admin.listTopics(), ['t-app', 't-app-v2'])).toEqual(['t-app-count-changelog', 't-app-count-repartition']);

    // Record i has timestamp base + i s and sits in partition i % 2: from base + 25 s, partition 0 starts at record 26 (its offset 13), partition 1 at record 25 (offset 12).
    const byTime = await resetApplication(transport, { applicationId: 't-app', to: { timestampMs: base + 25_000 }, internalTopics: 'truncate' });
    expect(byTime.inputs.map((p) => [p.partition, p.fromOffset, p.toOffset])).toEqual([[0, 20, 13], [1, 20, 12]]);
    expect((await admin.committedOffsets('t-app')).map((c) => [c.topic, c.partition, c.offset])).toEqual([
      ['t-app-count-repartition', 0, 3],
      ['t-app-count-repartition', 1, 3],
      ['t-in', 0, 13],
      ['t-in', 1, 12],
    ]);
    for (const topic of ['t-app-count-changelog', 't-app-count-repartition']) {
      expect((await admin.topicOffsets(topic)).every((o) => o.earliest === o.latest && o.latest > 0)).toBe(true);
    }
    expect(await admin.listTopics()).toContain('t-app-v2-count-changelog');
    expect((await admin.topicOffsets('t-app-v2-count-changelog'))[0]!.latest).toBe(0);

    const byDuration = await resetApplication(transport, { applicationId: 't-app', to: { durationAgoMs: 10_500 }, nowMs: base + 40_000, inputTopics: ['t-in'] });
    expect(byDuration.inputs.map((p) => p.toOffset)).toEqual([15, 15]);
    expect(byDuration.to).toBe(`${new Date(base + 29_500).toISOString()} (10500 ms ago)`);
    expect(byDuration.internalTopics.map((t) => t.action)).toEqual(['delete', 'delete']);
    expect(await admin.listTopics()).not.toContain('t-app-count-repartition');
    expect((await admin.committedOffsets('t-app')).map((c) => c.topic)).toEqual(['t-in', 't-in']);
    expect(await admin.listTopics()).toContain('t-app-v2-count-changelog');

    const unknown = await resetApplication(transport, { applicationId: 'no-such-app' }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(StreamsError);
    expect((unknown as StreamsError).code).toBe(StreamsErrorCode.unknownApplication);
    const badTarget = await resetApplication(transport, { applicationId: 't-app', to: { timestampMs: -5 } }).catch((e: unknown) => e);
    expect((badTarget as StreamsError).code).toBe(StreamsErrorCode.invalidConfig);
  });
});
