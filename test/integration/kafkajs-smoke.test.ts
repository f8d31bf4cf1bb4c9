import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiKey } from '../../sdk/protocol/mod.ts';
import { readRecordBatches } from '../../sdk/record/mod.ts';
import { type BrokerProcess, startBrokerProcess } from '../helpers/broker-process.ts';
import { runtimes } from '../helpers/child-process.ts';
import { RawKafkaClient } from '../helpers/raw-kafka-client.ts';
import { fetchRequest } from '../helpers/read-partition.ts';

const started: BrokerProcess[] = [];

afterAll(async () => {
  for (const broker of started) await broker.dispose();
});

describe.each(runtimes)('the broker process on %s', (runtime) => {
  it('takes kafkajs produce with acks=all and gzip, and serves every record back in order', async () => {
    const broker = await startBrokerProcess({ runtime });
    started.push(broker);
    const kafka = new Kafka({ clientId: `smoke-${runtime}`, brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    const sent = Array.from({ length: 500 }, (_, i) => ({ key: `k${i % 7}`, value: `value-${i}`, headers: { n: String(i) } }));
    for (let i = 0; i < sent.length; i += 50) {
      await producer.send({ topic: 'smoke', acks: -1, compression: i % 100 === 0 ? 1 : 0, messages: sent.slice(i, i + 50) });
    }
    await producer.disconnect();

    const admin = kafka.admin();
    await admin.connect();
    expect(await admin.fetchTopicOffsets('smoke')).toEqual([{ partition: 0, offset: '500', high: '500', low: '0' }]);
    await admin.disconnect();

    const raw = await RawKafkaClient.connect(broker.port);
    const received: { key: string; value: string; n: string }[] = [];
    const decoder = new TextDecoder();
    while (received.length < sent.length) {
      const response = await raw.request(
        ApiKey.Fetch,
        11,
        fetchRequest('smoke', 0, BigInt(received.length), { maxBytes: 4096, partitionMaxBytes: 4096, isolationLevel: 1 }),
      );
      for (const batch of readRecordBatches(response.responses[0]!.partitions[0]!.records!)) {
        for (const record of batch.records()) {
          if (record.offset < received.length) continue;
          received.push({
            key: decoder.decode(record.key!),
            value: decoder.decode(record.value!),
            n: decoder.decode(record.headers[0]!.value!),
          });
        }
      }
    }
    raw.close();
    expect(received).toEqual(sent.map((m) => ({ key: m.key, value: m.value, n: m.headers.n })));
    const stopped = await broker.stop('SIGTERM');
    expect(stopped.code, stopped.stderr).toBe(0);
  });
});
