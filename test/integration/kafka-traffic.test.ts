import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { Broker } from '../../broker/broker.ts';
import { createHttpApp, type HttpApp } from '../../broker/http/http-app.ts';
import { KafkaListener } from '../../broker/kafka/kafka-listener.ts';
import { Admin, Consumer, Producer, stringSerde, TcpTransport } from '../../sdk/mod.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function openBroker(): Promise<Broker> {
  const dir = mkdtempSync(join(tmpdir(), 'rill-kafka-traffic-'));
  const broker = await Broker.open({ config: { dataDir: dir } });
  cleanups.push(async () => {
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return broker;
}

interface Figures {
  metrics: string;
  summary: { kafka: { receivedBytes: number; sentBytes: number; requests: Record<string, number> } | null };
}

async function figures(http: HttpApp): Promise<Figures> {
  const metrics = await (await http.app.request('/metrics')).text();
  const summary = (await (await http.app.request('/v1/summary')).json()) as Figures['summary'];
  return { metrics, summary };
}

/** A series' value on /metrics; 0 for one not exported yet (a counter before its first count). */
function metric(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

it('counts the Kafka listener’s bytes and requests on /metrics and /v1/summary as SDK clients produce and fetch over TCP', async () => {
  const broker = await openBroker();
  const listener = await KafkaListener.start(broker, { host: '127.0.0.1', port: 0 });
  cleanups.push(() => listener.close());
  const http = await createHttpApp(broker, { kafkaTraffic: listener.traffic });
  cleanups.push(async () => http.close());
  const transport = new TcpTransport({ bootstrapServers: [`127.0.0.1:${listener.port}`] });
  cleanups.push(() => transport.close());
  await new Admin(transport).createTopics([{ name: 'traffic', numPartitions: 1 }]);
  const before = await figures(http);

  const values = Array.from({ length: 40 }, (_, i) => `${i}:${'x'.repeat(1000)}`);
  const recordBytes = values.reduce((sum, v) => sum + v.length + 'key'.length, 0);
  const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde });
  await Promise.all(values.map((value) => producer.send({ topic: 'traffic', key: 'key', value })));
  await producer.close();
  const consumer = new Consumer(transport, { keySerde: stringSerde, valueSerde: stringSerde, maxWaitMs: 100 });
  consumer.assign([{ topic: 'traffic', partition: 0, offset: 0 }]);
  let consumed = 0;
  for await (const record of consumer) {
    expect(record.value).toBe(values[consumed]);
    if (++consumed === values.length) break;
  }
  await consumer.close();
  const after = await figures(http);

  const grew = (series: string): number => metric(after.metrics, series) - metric(before.metrics, series);
  expect(grew('rill_kafka_received_bytes_total')).toBeGreaterThanOrEqual(recordBytes);
  expect(grew('rill_kafka_sent_bytes_total')).toBeGreaterThanOrEqual(recordBytes);
  expect(grew('rill_kafka_requests_total{api="Produce"}')).toBeGreaterThanOrEqual(1);
  expect(metric(after.metrics, 'rill_kafka_requests_total{api="Fetch"}')).toBeGreaterThanOrEqual(1);
  expect(metric(after.metrics, 'rill_kafka_requests_total{api="CreateTopics"}')).toBe(1);

  const kafkaBefore = before.summary.kafka!;
  const kafkaAfter = after.summary.kafka!;
  expect(kafkaAfter.receivedBytes - kafkaBefore.receivedBytes).toBeGreaterThanOrEqual(recordBytes);
  expect(kafkaAfter.sentBytes - kafkaBefore.sentBytes).toBeGreaterThanOrEqual(recordBytes);
  expect(kafkaAfter.requests['Produce']! - (kafkaBefore.requests['Produce'] ?? 0)).toBeGreaterThanOrEqual(1);
  expect(kafkaAfter.requests['Fetch']).toBeGreaterThanOrEqual(1);
  // The summary is taken after /metrics, so it has seen at least as much.
  expect(kafkaAfter.receivedBytes).toBeGreaterThanOrEqual(metric(after.metrics, 'rill_kafka_received_bytes_total'));
});

it('leaves the Kafka figures out when no Kafka listener runs in the process', async () => {
  const broker = await openBroker();
  const http = await createHttpApp(broker);
  cleanups.push(async () => http.close());
  const { metrics, summary } = await figures(http);
  expect(summary.kafka).toBeNull();
  expect(metrics).toContain('# TYPE rill_kafka_received_bytes_total counter');
  expect(metrics).not.toMatch(/^rill_kafka_(received|sent)_bytes_total /m);
});
