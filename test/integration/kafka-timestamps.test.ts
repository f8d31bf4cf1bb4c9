import { Kafka, logLevel, type Admin, type Producer as KafkajsProducer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin as SdkAdmin, Consumer, isKafkaError, Producer, stringSerde, TcpTransport } from '../../sdk/mod.ts';
import { type BrokerProcess, startBrokerProcess } from '../helpers/broker-process.ts';

/** Topic timestamp configs over the wire, with kafkajs and the SDK as the clients. */
describe('message.timestamp.* against the broker process', () => {
  let broker: BrokerProcess;
  let kafka: Kafka;
  let admin: Admin;
  let producer: KafkajsProducer;

  beforeAll(async () => {
    broker = await startBrokerProcess();
    // No retries: the broker's answer must reach the test as it is.
    kafka = new Kafka({ clientId: 'timestamps', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 0 } });
    await producer.connect();
  });

  afterAll(async () => {
    await producer?.disconnect();
    await admin?.disconnect();
    await broker?.dispose();
  });

  it('LogAppendTime: kafkajs gets the append time in its produce answer and reads it back as every record timestamp', async () => {
    await admin.createTopics({ topics: [{ topic: 'stamped', numPartitions: 1, configEntries: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }] }] });
    const before = Date.now();
    const [meta] = await producer.send({ topic: 'stamped', messages: [{ value: 'a', timestamp: '1' }, { value: 'b', timestamp: '2' }] });
    const after = Date.now();
    const appendTime = Number(meta!.logAppendTime);
    expect(appendTime).toBeGreaterThanOrEqual(before);
    expect(appendTime).toBeLessThanOrEqual(after);

    const consumer = kafka.consumer({ groupId: 'stamped-reader' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'stamped', fromBeginning: true });
    const timestamps = await new Promise<string[]>((resolve, reject) => {
      const seen: string[] = [];
      consumer
        .run({
          eachMessage: async ({ message }) => {
            seen.push(message.timestamp);
            if (seen.length === 2) resolve(seen);
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
    expect(timestamps).toEqual([String(appendTime), String(appendTime)]);

    const configs = await admin.describeConfigs({ resources: [{ type: 2, name: 'stamped', configNames: ['message.timestamp.type'] }], includeSynonyms: false });
    expect(configs.resources[0]!.configEntries.map((e) => [e.configName, e.configValue])).toEqual([['message.timestamp.type', 'LogAppendTime']]);
  });

  it('CreateTime bounds: kafkajs and the SDK producer get INVALID_TIMESTAMP for a record outside them, and nothing is appended', async () => {
    await admin.createTopics({
      topics: [{ topic: 'bounded', numPartitions: 1, configEntries: [{ name: 'message.timestamp.before.max.ms', value: '3600000' }, { name: 'message.timestamp.after.max.ms', value: '60000' }] }],
    });
    const stale = String(Date.now() - 2 * 3_600_000);
    const failure = await producer.send({ topic: 'bounded', messages: [{ value: 'ok', timestamp: String(Date.now()) }, { value: 'old', timestamp: stale }] }).then(
      () => expect.unreachable('the send should have failed'),
      (error: { type?: string; cause?: { type?: string } }) => error.type ?? error.cause?.type,
    );
    expect(failure).toBe('INVALID_TIMESTAMP');

    const transport = new TcpTransport({ bootstrapServers: [broker.bootstrap] });
    try {
      const sdkProducer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde, retries: 0 });
      const refused = await sdkProducer.send({ topic: 'bounded', key: 'k', value: 'future', timestamp: Date.now() + 3_600_000 }).then(
        () => expect.unreachable('the send should have failed'),
        (error: unknown) => error,
      );
      expect(isKafkaError(refused, 'INVALID_TIMESTAMP'), String(refused)).toBe(true);
      expect(String(refused)).toContain('message.timestamp.after.max.ms 60000');
      await sdkProducer.send({ topic: 'bounded', key: 'k', value: 'now', timestamp: Date.now() });
      await sdkProducer.close();

      const offsets = await new SdkAdmin(transport).topicOffsets('bounded');
      expect(offsets).toEqual([{ partition: 0, earliest: 0, latest: 1 }]);
      const consumer = new Consumer(transport, { keySerde: stringSerde, valueSerde: stringSerde, autoOffsetReset: 'earliest' });
      consumer.assign([{ topic: 'bounded', partition: 0 }]);
      const values: string[] = [];
      for await (const record of consumer) {
        values.push(record.value!);
        if (values.length === 1) break;
      }
      await consumer.close();
      expect(values).toEqual(['now']);
    } finally {
      await transport.close();
    }
  });
});
