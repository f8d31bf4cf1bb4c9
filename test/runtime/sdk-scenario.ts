import {
  Admin,
  Consumer,
  type ConsumerRecord,
  isKafkaError,
  jsonSchemaSerde,
  msgpackSerde,
  murmur2,
  Producer,
  stringSerde,
  type Transport,
} from '../../sdk/mod.ts';
import { ApiKey } from '../../sdk/protocol/mod.ts';
import { commitStep, cooperativeStep } from './sdk-group-scenario.ts';

/**
 * The SDK client scenario: admin, producer, consumer and serdes against a broker through
 * `transport`. The same steps run under Node (vitest, over both transports), Bun and Deno; each
 * check throws with a description when it fails. Topic names start with `prefix` so runs can share a broker.
 */
export async function runSdkScenario(transport: Transport, prefix: string): Promise<string[]> {
  const passed: string[] = [];
  const check = (condition: boolean, what: string): void => {
    if (!condition) throw new Error(`sdk scenario failed: ${what}`);
    passed.push(what);
  };
  const utf8 = new TextEncoder();
  const text = new TextDecoder();
  const admin = new Admin(transport);
  const topic = `${prefix}-events`;
  const idempotence = await transport.supports(ApiKey.InitProducerId);

  await admin.createTopics([{ name: topic, numPartitions: 3, configs: { 'retention.ms': '86400000' } }]);
  const [described] = await admin.describeTopics([topic]);
  check(described?.partitions.length === 3, 'created topic has 3 partitions');
  check((await admin.listTopics()).includes(topic), 'listTopics includes the new topic');
  await admin.alterTopicConfigs(topic, { 'retention.ms': '3600000' });
  check((await admin.describeTopicConfigs(topic, ['retention.ms']))['retention.ms'] === '3600000', 'config altered and described');
  let duplicate: unknown;
  await admin.createTopics([{ name: topic, numPartitions: 1 }]).catch((e: unknown) => (duplicate = e));
  check(isKafkaError(duplicate, 'TOPIC_ALREADY_EXISTS'), 'creating an existing topic fails with TOPIC_ALREADY_EXISTS');

  const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde, idempotent: idempotence, lingerMs: 2, compression: 'zstd' });
  const startMs = Date.now();
  const sent = await Promise.all(
    Array.from({ length: 300 }, (_, i) =>
      producer.send({ topic, key: `key-${i % 50}`, value: `value-${i}`, headers: { seq: String(i), bin: new Uint8Array([i & 0xff]) } }),
    ),
  );
  check(
    sent.every((m, i) => m.partition === (murmur2(utf8.encode(`key-${i % 50}`)) & 0x7fffffff) % 3),
    'keyed records land on the Java client partition (murmur2)',
  );
  const perPartition = [0, 1, 2].map((p) => sent.filter((m) => m.partition === p).map((m) => m.offset));
  check(perPartition.every((offsets) => offsets.every((o, i) => o === i)), 'offsets are contiguous from 0 in send order per partition');

  const consumer = new Consumer(transport, { keySerde: stringSerde, valueSerde: stringSerde, maxWaitMs: 100 });
  consumer.assign([0, 1, 2].map((partition) => ({ topic, partition, offset: 0 })));
  const received: ConsumerRecord<string, string>[] = [];
  for await (const record of consumer) {
    received.push(record);
    if (received.length === 300) break;
  }
  received.sort((a, b) => Number(a.value!.slice(6)) - Number(b.value!.slice(6)));
  check(received.every((r, i) => r.value === `value-${i}` && r.key === `key-${i % 50}`), 'consumer reads every record with key and value');
  check(
    received.every((r, i) => text.decode(r.headers.find((h) => h.key === 'seq')!.value!) === String(i) && r.headers[1]!.value![0] === (i & 0xff)),
    'headers round-trip (text and binary)',
  );
  check(received.every((r) => r.timestamp >= startMs - 1000 && r.partition === sent[Number(r.value!.slice(6))]!.partition), 'timestamps and partitions match');
  check(consumer.position({ topic, partition: 0 }) === perPartition[0]!.length, 'position is past the last consumed record');

  consumer.seekToBeginning([{ topic, partition: 1 }]);
  consumer.pause([{ topic, partition: 0 }, { topic, partition: 2 }]);
  const replay: ConsumerRecord<string, string>[] = [];
  for await (const batch of consumer.batches()) {
    replay.push(...batch.records);
    if (replay.length >= perPartition[1]!.length) break;
  }
  check(replay.length === perPartition[1]!.length && replay.every((r) => r.partition === 1), 'seekToBeginning replays one partition while the others are paused');
  check(replay[0]!.offset === 0, 'replay starts at offset 0');

  const times = await consumer.offsetsForTimes([{ topic, partition: 1 }], Date.now() + 60_000);
  check(times[0]!.offset === -1, 'offsetsForTimes past the last record is -1');
  const early = await admin.offsetsForTimes([{ topic, partition: 1 }], 0);
  check(early[0]!.offset === 0, 'offsetsForTimes at time 0 is offset 0');
  const ends = await admin.topicOffsets(topic);
  check(ends.every((e) => e.earliest === 0 && e.latest === perPartition[e.partition]!.length), 'topic offsets: earliest 0, latest = records per partition');
  await consumer.close();

  await admin.createPartitions(topic, 4);
  check((await admin.describeTopics([topic]))[0]!.partitions.length === 4, 'createPartitions grew the topic to 4');

  const small = new Producer(transport, { idempotent: idempotence, bufferMemoryBytes: 4096, batchSizeBytes: 2048 });
  const payload = new Uint8Array(600).fill(7);
  const bulk = await Promise.all(Array.from({ length: 100 }, () => small.send({ topic: `${prefix}-bulk`, value: payload })));
  check(bulk.length === 100 && new Set(bulk.map((m) => `${m.partition}:${m.offset}`)).size === 100, 'a 4 KiB buffer carries 60 KB of records through backpressure');
  await small.close();

  type Order = { id: number; item: string };
  const orders = jsonSchemaSerde<Order>({
    type: 'object',
    properties: { id: { type: 'integer' }, item: { type: 'string' } },
    required: ['id', 'item'],
    additionalProperties: false,
  });
  const typed = new Producer(transport, { keySerde: msgpackSerde<{ region: string }>(), valueSerde: orders, idempotent: idempotence });
  let invalid: unknown;
  await typed.send({ topic: `${prefix}-orders`, value: { id: 'x' } as unknown as Order }).catch((e: unknown) => (invalid = e));
  check(isKafkaError(invalid, 'INVALID_RECORD'), 'JSON Schema serde rejects an invalid value before sending');
  const order = await typed.send({ topic: `${prefix}-orders`, key: { region: 'eu' }, value: { id: 7, item: 'tea' } });
  const orderConsumer = new Consumer(transport, { keySerde: msgpackSerde<{ region: string }>(), valueSerde: orders, maxWaitMs: 100 });
  orderConsumer.assign([{ topic: `${prefix}-orders`, partition: order.partition, offset: order.offset }]);
  for await (const record of orderConsumer) {
    check(record.key?.region === 'eu' && record.value?.id === 7 && record.value.item === 'tea', 'msgpack key and schema-checked JSON value round-trip typed');
    break;
  }
  await orderConsumer.close();
  await typed.close();
  await producer.close();

  if (await transport.supports(ApiKey.EndTxn)) {
    const txTopic = `${prefix}-tx`;
    await admin.createTopics([{ name: txTopic, numPartitions: 2 }]);
    const tx = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde, transactionalId: `${prefix}-txid` });
    await tx.transaction(async (t) => {
      for (let i = 0; i < 10; i++) await t.send({ topic: txTopic, key: `k${i}`, value: `committed-${i}` });
    });
    let thrown: unknown;
    await tx
      .transaction(async (t) => {
        for (let i = 0; i < 10; i++) void t.send({ topic: txTopic, key: `k${i}`, value: `aborted-${i}` });
        throw new Error('abort me');
      })
      .catch((e: unknown) => (thrown = e));
    check(String(thrown).includes('abort me'), 'a throwing transaction callback aborts and rethrows');
    await tx.beginTransaction();
    await tx.send({ topic: txTopic, key: 'k0', value: 'committed-last' });
    await tx.commitTransaction();
    const committed = new Consumer(transport, { keySerde: stringSerde, valueSerde: stringSerde, maxWaitMs: 100 });
    committed.assign([0, 1].map((partition) => ({ topic: txTopic, partition, offset: 0 })));
    const seen: string[] = [];
    for await (const record of committed) {
      seen.push(record.value!);
      if (seen.includes('committed-last')) break;
    }
    check(seen.length === 11 && seen.every((v) => v.startsWith('committed-')), 'read_committed sees committed transactions only, never aborted data');
    await committed.close();
    await tx.close();
  }

  await cooperativeStep(transport, prefix, check);
  await commitStep(transport, prefix, check);

  if (!idempotence) {
    let refused: unknown;
    const strict = new Producer(transport);
    await strict.send({ topic, value: null }).catch((e: unknown) => (refused = e));
    check(isKafkaError(refused, 'UNSUPPORTED_VERSION') && /idempotent: false/.test(String(refused)), 'idempotent default fails clearly without InitProducerId');
  }
  return passed;
}
