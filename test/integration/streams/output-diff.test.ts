import { describe, expect, it } from 'vitest';
import { Admin, Consumer, longSerde, Producer, stringSerde, type Transport } from '../../../sdk/mod.ts';
import { StreamsApp, StreamsBuilder, StreamsError, StreamsErrorCode } from '../../../streams/mod.ts';
import { diffOutputs, diffToJson, formatOutputDiff } from '../../../streams/ops/output-diff.ts';
import { embeddedSetup, setupHooks, tcpSetup } from '../../helpers/streams-setups.ts';

const KEYS = Array.from({ length: 9 }, (_, i) => `k${i}`);

/** v1 counts records per key. v2 drops k3, counts each k5 record twice and also counts k7 under "k7-audit". */
function countJob(input: string, output: string, version: 1 | 2) {
  const builder = new StreamsBuilder();
  let stream = builder.stream(input, { key: stringSerde, value: stringSerde });
  if (version === 2) {
    stream = stream
      .filter((k) => k !== 'k3')
      .flatMap((k, v) => (k === 'k5' ? [[k, v], [k, v]] : k === 'k7' ? [[k, v], ['k7-audit', v]] : [[k, v]]) as [string, string][], { key: stringSerde, value: stringSerde });
  }
  stream.groupByKey().count({ name: 'per-key' }).toStream().to(output, { key: stringSerde, value: longSerde });
  return builder.build();
}

async function converge(transport: Transport, topic: string, expected: ReadonlyMap<string, number>): Promise<void> {
  const consumer = new Consumer(transport, { keySerde: stringSerde, valueSerde: longSerde, autoOffsetReset: 'earliest' });
  consumer.assign([0, 1].map((partition) => ({ topic, partition })));
  const latest = new Map<string, number>();
  try {
    for await (const r of consumer) {
      latest.set(r.key!, r.value!);
      if (latest.size === expected.size && [...expected].every(([k, v]) => latest.get(k) === v)) return;
    }
  } finally {
    await consumer.close();
  }
}

describe.each([embeddedSetup(), tcpSetup()])('side-by-side diff over $name', (setup) => {
  const { openSetup, cleanup } = setupHooks(setup);

  it('v2 runs under a new application id next to v1; the diff reports exactly the keys whose logic changed', async () => {
    const { transport, stateDir } = await openSetup();
    const admin = new Admin(transport);
    await admin.createTopics([{ name: 'sb-in', numPartitions: 2 }, { name: 'sb-out-v1', numPartitions: 2 }, { name: 'sb-out-v2', numPartitions: 2 }]);
    const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde });
    cleanup.push(() => producer.close());
    const records = Array.from({ length: 90 }, (_, i) => ({ topic: 'sb-in', key: KEYS[(i * 5) % KEYS.length]!, value: `e${i}` }));
    await producer.sendBatch(records);
    const v1Counts = new Map<string, number>();
    for (const r of records) v1Counts.set(r.key, (v1Counts.get(r.key) ?? 0) + 1);
    const v2Counts = new Map([...v1Counts].filter(([k]) => k !== 'k3').map(([k, n]) => [k, k === 'k5' ? 2 * n : n]));
    v2Counts.set('k7-audit', v1Counts.get('k7')!);

    const v1 = new StreamsApp(countJob('sb-in', 'sb-out-v1', 1), { applicationId: 'sb-v1', transport, stateDir, commitIntervalMs: 50 });
    await v1.start();
    cleanup.push(() => v1.close());
    await converge(transport, 'sb-out-v1', v1Counts);
    const v2 = new StreamsApp(countJob('sb-in', 'sb-out-v2', 2), { applicationId: 'sb-v2', transport, stateDir, commitIntervalMs: 50 });
    await v2.start();
    cleanup.push(() => v2.close());
    await converge(transport, 'sb-out-v2', v2Counts);

    const decoded = await diffOutputs(transport, { topicA: 'sb-out-v1', topicB: 'sb-out-v2', keySerde: stringSerde, valueSerde: longSerde });
    expect(decoded.summary).toMatchObject({ keysA: 9, keysB: 9, added: 1, removed: 1, changed: 1, unchanged: 7 });
    expect(decoded.differences).toEqual([
      { kind: 'removed', key: 'k3', a: v1Counts.get('k3') },
      { kind: 'changed', key: 'k5', a: v1Counts.get('k5'), b: 2 * v1Counts.get('k5')! },
      { kind: 'added', key: 'k7-audit', b: v1Counts.get('k7') },
    ]);
    expect(formatOutputDiff(decoded)).toBe(
      [
        'sb-out-v1 -> sb-out-v2: 1 added, 1 removed, 1 changed, 7 unchanged (9 keys in sb-out-v1, 9 in sb-out-v2)',
        `- k3: ${v1Counts.get('k3')}`,
        `~ k5: ${v1Counts.get('k5')} -> ${2 * v1Counts.get('k5')!}`,
        `+ k7-audit: ${v1Counts.get('k7')}`,
      ].join('\n'),
    );
    const raw = await diffOutputs(transport, { topicA: 'sb-out-v1', topicB: 'sb-out-v2' });
    expect(raw.summary).toEqual(decoded.summary);
    expect(diffToJson(raw)).toMatchObject({ differences: [{ kind: 'removed', key: 'k3' }, { kind: 'changed', key: 'k5' }, { kind: 'added', key: 'k7-audit' }] });

    const ranged = await diffOutputs(transport, { topicA: 'sb-out-v1', topicB: 'sb-out-v2', fromKey: 'k4', toKey: 'k7', keySerde: stringSerde, limit: 0 });
    expect(ranged.summary).toMatchObject({ keysA: 4, keysB: 4, added: 0, removed: 0, changed: 1, unchanged: 3 });
    expect(ranged.differences).toEqual([]);
    expect(ranged.truncated).toBe(true);
  });
});

describe('output diff', () => {
  const { openSetup, cleanup } = setupHooks(embeddedSetup());

  it('honours a time range and tombstones, reads only committed records, and rejects bad input', async () => {
    const { transport } = await openSetup();
    const admin = new Admin(transport);
    await admin.createTopics([{ name: 'od-a', numPartitions: 1 }, { name: 'od-b', numPartitions: 1 }]);
    const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde });
    const txn = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde, transactionalId: 'od-txn' });
    cleanup.push(() => producer.close(), () => txn.close());
    await producer.sendBatch([
      { topic: 'od-a', key: 'x', value: '1', timestamp: 100 },
      { topic: 'od-a', key: 'y', value: '1', timestamp: 100 },
      { topic: 'od-a', key: 'x', value: '2', timestamp: 300 },
      { topic: 'od-b', key: 'x', value: '1', timestamp: 100 },
      { topic: 'od-b', key: 'y', value: '1', timestamp: 100 },
      { topic: 'od-b', key: 'y', value: null, timestamp: 300 },
    ]);
    await txn.beginTransaction();
    await txn.send({ topic: 'od-b', key: 'z', value: 'open', timestamp: 100 });
    await txn.flush();

    const all = await diffOutputs(transport, { topicA: 'od-a', topicB: 'od-b', keySerde: stringSerde, valueSerde: stringSerde });
    expect(all.differences).toEqual([
      { kind: 'changed', key: 'x', a: '2', b: '1' },
      { kind: 'removed', key: 'y', a: '1' },
    ]);
    const early = await diffOutputs(transport, { topicA: 'od-a', topicB: 'od-b', toTimeMs: 200 });
    expect(early.summary).toMatchObject({ added: 0, removed: 0, changed: 0, unchanged: 2, recordsReadA: 2, recordsReadB: 2 });
    await txn.abortTransaction();

    const bad = await diffOutputs(transport, { topicA: 'od-a', topicB: 'od-b', limit: -1 }).catch((e: unknown) => e);
    expect((bad as StreamsError).code).toBe(StreamsErrorCode.invalidConfig);
    const missing = await diffOutputs(transport, { topicA: 'od-a', topicB: 'od-none' }).catch((e: unknown) => e);
    expect((missing as Error).message).toContain('od-none');
  });
});
