import { type CompressionTypes as KafkajsCompressionTypes, CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin, Producer, stringSerde, TcpTransport } from '../../sdk/mod.ts';
import { type BrokerProcess, startBrokerProcess } from '../helpers/broker-process.ts';
import { interopValues, readOverHttp, readWithSdk, storedCompressions } from '../helpers/compression-interop.ts';
import { registerKafkajsCodecs } from '../helpers/kafkajs-codecs.ts';

let proc: BrokerProcess;
let transport: TcpTransport;
let kafka: Kafka;

beforeAll(async () => {
  registerKafkajsCodecs();
  proc = await startBrokerProcess();
  transport = new TcpTransport({ bootstrapServers: [proc.bootstrap] });
  kafka = new Kafka({ clientId: 'codecs', brokers: [proc.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });
});

afterAll(async () => {
  await transport.close();
  await proc.dispose();
});

const CODECS: [name: 'snappy' | 'lz4' | 'zstd', kafkajs: KafkajsCompressionTypes, attribute: number][] = [
  ['snappy', CompressionTypes.Snappy, 2],
  ['lz4', CompressionTypes.LZ4, 3],
  ['zstd', CompressionTypes.ZSTD, 4],
];

describe('compressed batches between kafkajs 2.2.4 (with its npm codec plugins) and Rill', () => {
  it('Rill\'s SDK consumer and HTTP API read what kafkajs writes with snappy, lz4 and zstd', async () => {
    const producer = kafka.producer();
    await producer.connect();
    for (const [name, type] of CODECS) {
      const values = interopValues(name, 30);
      await producer.send({ topic: `kafkajs-${name}`, acks: -1, compression: type, messages: values.map((value, i) => ({ key: `k${i}`, value })) });
    }
    await producer.disconnect();
    for (const [name, , attribute] of CODECS) {
      const topic = `kafkajs-${name}`;
      const values = interopValues(name, 30);
      expect(new Set(storedCompressions(proc.dataDir, topic))).toEqual(new Set([attribute]));
      expect(await readWithSdk(transport, topic, 30)).toEqual(values.map((value, i) => ({ key: `k${i}`, value })));
      expect(await readOverHttp(proc.httpUrl, topic, 100)).toEqual(values.map((value, i) => ({ key: `k${i}`, value })));
    }
  });

  it('kafkajs reads what Rill\'s SDK producer writes with snappy, lz4 and zstd', async () => {
    const admin = new Admin(transport);
    await admin.createTopics(CODECS.map(([name]) => ({ name: `rill-${name}`, numPartitions: 1 })));
    for (const [name] of CODECS) {
      const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde, compression: name, lingerMs: 5 });
      await Promise.all(interopValues(name, 30).map((value, i) => producer.send({ topic: `rill-${name}`, partition: 0, key: `k${i}`, value })));
      await producer.close();
    }
    for (const [name, , attribute] of CODECS) expect(new Set(storedCompressions(proc.dataDir, `rill-${name}`))).toEqual(new Set([attribute]));

    const consumer = kafka.consumer({ groupId: 'kafkajs-reads-rill-codecs', maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topics: CODECS.map(([name]) => `rill-${name}`), fromBeginning: true });
    const seen = new Map<string, string[]>();
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ topic, message }) => {
            const values = seen.get(topic) ?? [];
            values.push(`${message.key?.toString()}=${message.value?.toString()}`);
            seen.set(topic, values);
            if ([...seen.values()].reduce((n, v) => n + v.length, 0) === 90) resolve();
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
    for (const [name] of CODECS) {
      expect(seen.get(`rill-${name}`)).toEqual(interopValues(name, 30).map((value, i) => `k${i}=${value}`));
    }
  });
});
