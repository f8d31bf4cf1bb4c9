import { Admin } from '../../sdk/client/admin/admin.ts';
import { Producer } from '../../sdk/client/producer/producer.ts';
import { longSerde, stringSerde } from '../../sdk/serde/basic-serdes.ts';
import { ApiKey } from '../../sdk/protocol/mod.ts';
import type { Transport } from '../../sdk/transport/transport.ts';
import { StreamsApp, StreamsBuilder } from '../../streams/mod.ts';
import { resetApplication } from '../../streams/ops/application-reset.ts';
import { awaitLatestCounts } from '../helpers/latest-counts.ts';
import { declaredFilter, replayTopic } from '../../streams/ops/topic-replay.ts';
import { diffOutputs } from '../../streams/ops/output-diff.ts';
import { readCommittedTopic } from '../helpers/read-committed-topic.ts';
import { SeverableTransport } from '../helpers/severable-transport.ts';

function fail(message: string): never {
  throw new Error(`streams ops scenario: ${message}`);
}

/**
 * Reset and replay on one runtime, against the broker behind `open()`: a word count runs, is
 * reset (inputs, changelog, repartition topic, local state) and rerun to the same counts; a
 * filtered replay whose link is cut inside a transaction resumes to exactly one copy of each
 * record, which the diff confirms. Returns the names of the checks that passed.
 */
export async function runStreamsOpsScenario(open: () => Promise<Transport>, stateDir: string): Promise<string[]> {
  const passed: string[] = [];
  const transport = await open();
  try {
    const admin = new Admin(transport);
    await admin.createTopics([{ name: 'o-words', numPartitions: 2 }, { name: 'o-counts', numPartitions: 2 }, { name: 'o-copy', numPartitions: 2 }, { name: 'o-expected', numPartitions: 2 }]);
    const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde });
    const lines = Array.from({ length: 400 }, (_, i) => ({ topic: 'o-words', key: `${i % 3 === 0 ? 'keep' : 'skip'}-${i}`, value: `w${i % 5}` }));
    await producer.sendBatch(lines);
    await producer.sendBatch(lines.filter((l) => l.key.startsWith('keep-')).map((l) => ({ ...l, topic: 'o-expected' })));
    await producer.close();
    const expected = new Map<string, number>();
    for (const l of lines) expected.set(l.value, (expected.get(l.value) ?? 0) + 1);
    const topology = () => {
      const builder = new StreamsBuilder();
      builder.stream('o-words', { key: stringSerde, value: stringSerde }).groupBy((_k, v) => v, { key: stringSerde, value: stringSerde }).count({ name: 'c' }).toStream().to('o-counts', { key: stringSerde, value: longSerde });
      return builder.build();
    };
    const first = new StreamsApp(topology(), { applicationId: 'o-app', transport, stateDir, commitIntervalMs: 50 });
    await first.start();
    await awaitLatestCounts(transport, 'o-counts', [0, 0], expected);
    await first.close();
    const outputEnd = (await admin.topicOffsets('o-counts', 1)).map((o) => o.latest);
    const plan = await resetApplication(transport, { applicationId: 'o-app', stateDir });
    if (plan.internalTopics.length !== 2 || plan.inputs.some((p) => p.toOffset !== 0)) fail(`unexpected reset plan ${JSON.stringify(plan)}`);
    const rerun = new StreamsApp(topology(), { applicationId: 'o-app', transport, stateDir, commitIntervalMs: 50 });
    await rerun.start();
    await awaitLatestCounts(transport, 'o-counts', outputEnd, expected);
    await rerun.close();
    passed.push('reset then rerun reproduces the counts');

    const doomed = new SeverableTransport(await open(), { apiKey: ApiKey.Produce, count: 1 });
    const crashed = await replayTopic(doomed, { source: 'o-words', target: 'o-copy', replayId: 'o-replay', filter: declaredFilter({ keyPrefix: 'keep-' }) }).then(
      () => false,
      () => true,
    );
    await doomed.close();
    if (!crashed || !doomed.isSevered) fail('the replay did not fail when its link was cut');
    const resumed = await replayTopic(transport, { source: 'o-words', target: 'o-copy', replayId: 'o-replay', filter: declaredFilter({ keyPrefix: 'keep-' }) });
    if (!resumed.done) fail('the resumed replay did not finish');
    const copied = (await readCommittedTopic(transport, 'o-copy')).map((r) => new TextDecoder().decode(r.key!));
    const keep = lines.filter((l) => l.key.startsWith('keep-')).map((l) => l.key);
    if (copied.length !== keep.length || new Set(copied).size !== keep.length) fail(`copied ${copied.length} records (${new Set(copied).size} distinct), expected ${keep.length}`);
    passed.push('a replay cut half way resumes to one copy of each record');

    const diff = await diffOutputs(transport, { topicA: 'o-expected', topicB: 'o-copy' });
    if (diff.summary.unchanged !== keep.length || diff.differences.length !== 0) fail(`diff ${JSON.stringify(diff.summary)}`);
    passed.push('the diff finds the copy equal');
  } finally {
    await transport.close();
  }
  return passed;
}
