import type { Broker } from '../../broker/broker.ts';
import { EmbeddedTransport } from '../../broker/embedded.ts';
import { StreamAppStatuses, isStale } from '../../broker/http/stream-app-statuses.ts';
import { Admin } from '../../sdk/client/admin/admin.ts';
import { Producer } from '../../sdk/client/producer/producer.ts';
import { longSerde, stringSerde } from '../../sdk/serde/basic-serdes.ts';
import { StreamsApp, StreamsBuilder } from '../../streams/mod.ts';
import { StatusPublisher } from '../../streams/runtime/status-publisher.ts';
import { STATUS_TOPIC_CONFIG, statusTopicName } from '../../streams/runtime/status-record.ts';
import { statusTopology } from '../../streams/runtime/status-topology.ts';
import type { Record as KafkaRecord } from '../../sdk/record/record.ts';
import { readRecordBatches } from '../../sdk/record/record-batch-reader.ts';

function fail(message: string): never {
  throw new Error(`stream status scenario: ${message}`);
}

/** Every record of a single-partition topic, as stored now. */
async function readAll(broker: Broker, topic: string): Promise<KafkaRecord[]> {
  const records: KafkaRecord[] = [];
  for (let offset = 0; ; ) {
    const [result] = await broker.fetch({ partitions: [{ topic, partition: 0, fetchOffset: offset, partitionMaxBytes: 1 << 20 }], maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20 });
    if (result === undefined || result.error !== undefined) throw result?.error ?? new Error('no fetch result');
    if (result.records.byteLength === 0) return records;
    for (const batch of readRecordBatches(result.records)) {
      if (!batch.isControl) records.push(...batch.records());
      offset = batch.lastOffset + 1;
    }
  }
}

/** Waits for a condition by polling it (the status is published on its own schedule). */
async function until<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 3000; i++) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return fail(`gave up waiting for ${what}`);
}

function wordCount() {
  const builder = new StreamsBuilder();
  builder
    .stream('st-lines', { key: stringSerde, value: stringSerde })
    .flatMapValues((line) => line.split(' '))
    .groupBy((_k, word) => word, { key: stringSerde, value: stringSerde })
    .count({ name: 'st-counts' })
    .toStream()
    .to('st-word-counts', { key: stringSerde, value: longSerde });
  return builder.build();
}

/**
 * The status publisher of the streams runtime against an in-process broker, read back by the
 * broker's reader: a running word count publishes its topology, tasks and metrics under its
 * instance id (the compaction key) to a compacted, LogAppendTime topic; statuses requested in a
 * burst go out no closer than the minimum gap; an instance whose heartbeats stop reads as stale;
 * a clean close removes the instance (tombstone). Returns the names of the checks that passed.
 */
export async function runStreamStatusScenario(broker: Broker, stateDir: string): Promise<string[]> {
  const passed: string[] = [];
  const transport = new EmbeddedTransport(broker);
  const statuses = new StreamAppStatuses(broker);
  try {
    const admin = new Admin(transport);
    await admin.createTopics([{ name: 'st-lines', numPartitions: 2 }, { name: 'st-word-counts', numPartitions: 2 }]);
    const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde });
    await producer.sendBatch(Array.from({ length: 50 }, (_, i) => ({ topic: 'st-lines', key: `k${i}`, value: `a b c${i % 4}` })));
    await producer.close();

    const app = new StreamsApp(wordCount(), { applicationId: 'st-app', transport, stateDir, commitIntervalMs: 50, statusIntervalMs: 200 });
    await app.start();
    const running = await until('a RUNNING status with both tasks of each sub-topology', async () => {
      const [instance] = await statuses.instances('st-app');
      return instance?.status.state === 'RUNNING' && instance.status.tasks.filter((t) => t.state === 'running').length === 4 ? instance : undefined;
    });
    const topology = running.status.topology ?? fail('the status has no topology');
    const source = topology.nodes.find((n) => n.kind === 'source' && n.topics?.some((t) => t.name === 'st-lines'));
    const sink = topology.nodes.find((n) => n.kind === 'sink' && n.topic?.name === 'st-word-counts');
    const repartition = topology.nodes.find((n) => n.kind === 'sink' && n.topic?.internal === true && n.topic.name.startsWith('st-app-') && n.topic.name.endsWith('-repartition'));
    const store = topology.stores.find((s) => s.name === 'st-counts');
    if (source === undefined || sink === undefined || repartition === undefined || store?.changelog !== 'st-app-st-counts-changelog') fail(`unexpected topology ${JSON.stringify(topology)}`);
    if (!topology.text.includes('Sub-topology: 1')) fail('the topology text is not describe()');
    if (isStale(running, Date.now())) fail('a running instance reads as stale');
    passed.push('a running app publishes its topology, tasks and state');

    const topic = statusTopicName('st-app');
    const configs = await admin.describeTopicConfigs(topic, Object.keys(STATUS_TOPIC_CONFIG));
    for (const [name, value] of Object.entries(STATUS_TOPIC_CONFIG)) if (configs[name] !== value) fail(`${topic} has ${name}=${configs[name]}, expected ${value}`);
    const records = await readAll(broker, topic);
    const instanceIds = new Set(records.map((r) => new TextDecoder().decode(r.key!)));
    if (instanceIds.size !== 1 || !instanceIds.has(running.status.instanceId)) fail(`status keys ${[...instanceIds].join(', ')} are not the one instance id ${running.status.instanceId}`);
    if ((await admin.describeTopics([topic]))[0]?.partitions.length !== 1) fail(`${topic} does not have one partition`);
    passed.push('statuses are keyed by instance id on a compacted LogAppendTime topic');

    // A publisher asked for a status far more often than its minimum gap (min(1 s, interval)).
    const intervalMs = 150;
    const burst = new StatusPublisher({
      transport,
      applicationId: 'st-burst',
      instanceId: 'burst-1',
      endpoint: undefined,
      guarantee: 'exactly_once',
      deadLetterTopic: 'st-burst-dlq',
      topology: statusTopology(wordCount(), 'st-burst'),
      intervalMs,
      snapshot: () => ({ state: 'RUNNING', tasks: [], metrics: app.metrics() }),
    });
    await burst.start();
    let requests = 0;
    while (burst.state.published < 6) {
      for (let i = 0; i < 100; i++) burst.requestPublish();
      requests += 100;
      await new Promise((resolve) => setImmediate(resolve));
    }
    await burst.close('status');
    // Acknowledged at acks=1, the last writes become readable once the broker's high watermark passes them.
    const raw = await until('every status the publisher sent', async () => {
      const records = await readAll(broker, statusTopicName('st-burst'));
      return records.length === burst.state.published ? records : undefined;
    });
    // The last one is the close's, which goes at once.
    const sent = raw.slice(0, -1).map((r) => JSON.parse(new TextDecoder().decode(r.value!)) as { publishedMs: number });
    // Timers may fire a millisecond early; a loaded machine only widens the gaps.
    const gaps = sent.slice(1).map((s, i) => s.publishedMs - sent[i]!.publishedMs);
    if (sent.length < 6 || gaps.some((gap) => gap < intervalMs - 2)) fail(`${requests} requests gave ${sent.length} statuses with gaps ${gaps.join(', ')} ms; none may be under ${intervalMs} ms`);
    passed.push('requests in a burst publish no faster than the minimum gap');

    const [latest] = await statuses.instances('st-burst');
    if (latest === undefined || isStale(latest, latest.appendedMs + 3 * intervalMs) || !isStale(latest, latest.appendedMs + 3 * intervalMs + 1)) fail('an instance is stale exactly when three intervals passed without a status');
    passed.push('an instance without a status for three intervals is stale');

    await app.close();
    await until('the closed instance to be gone', async () => ((await statuses.instances('st-app')).length === 0 ? true : undefined));
    const last = (await readAll(broker, topic)).at(-1);
    if (last?.value !== null || app.statusPublisherState?.failures !== 0) fail(`the close left ${JSON.stringify(last)} last, publisher ${JSON.stringify(app.statusPublisherState)}`);
    passed.push('a clean close writes a tombstone');
  } finally {
    await transport.close();
  }
  return passed;
}
