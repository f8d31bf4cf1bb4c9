import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiKey } from '../../sdk/protocol/mod.ts';
import { readRecordBatches } from '../../sdk/record/mod.ts';
import { SseReader } from '../unit/broker/http/sse-reader.ts';
import { type BrokerProcess, startBrokerProcess } from '../helpers/broker-process.ts';
import { ManagedProcess, runtimeCommand, runtimes } from '../helpers/child-process.ts';
import { RawKafkaClient } from '../helpers/raw-kafka-client.ts';

const started: BrokerProcess[] = [];
afterAll(async () => {
  for (const broker of started) await broker.dispose();
});

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });
}

async function fetchAll(port: number, topic: string, count: number): Promise<{ key: string; value: string }[]> {
  const raw = await RawKafkaClient.connect(port);
  const decoder = new TextDecoder();
  const received: { key: string; value: string }[] = [];
  while (received.length < count) {
    const response = await raw.request(ApiKey.Fetch, 11, {
      clusterId: null, replicaId: -1, replicaState: { replicaId: -1, replicaEpoch: -1n }, maxWaitMs: 1000, minBytes: 1, maxBytes: 1 << 20,
      isolationLevel: 1, sessionId: 0, sessionEpoch: -1, forgottenTopicsData: [], rackId: '',
      topics: [{ topic, topicId: '', partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: BigInt(received.length), lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20, replicaDirectoryId: '' }] }],
    });
    for (const batch of readRecordBatches(response.responses[0]!.partitions[0]!.records!)) {
      for (const record of batch.records()) {
        if (record.offset >= received.length) received.push({ key: decoder.decode(record.key!), value: decoder.decode(record.value!) });
      }
    }
  }
  raw.close();
  return received;
}

describe.each(runtimes)('the HTTP API served by the broker process on %s', (runtime) => {
  it('ingests over HTTP for Kafka clients, serves kafkajs records over HTTP, and appends an idempotent retry once across a restart', async () => {
    let broker = await startBrokerProcess({ runtime });
    started.push(broker);
    expect((await post(`${broker.httpUrl}/v1/topics`, { name: 'web', partitions: 1 })).status).toBe(201);
    const sent = Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: { n: i } }));
    const produced = await post(`${broker.httpUrl}/v1/topics/web/records`, { records: sent });
    expect(produced.status).toBe(200);
    expect(await fetchAll(broker.port, 'web', 20)).toEqual(sent.map((r) => ({ key: r.key, value: JSON.stringify(r.value) })));

    const kafka = new Kafka({ clientId: `http-${runtime}`, brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'web', acks: -1, messages: [{ key: 'from-kafkajs', value: 'plain text', headers: { h: 'v' } }] });
    await producer.disconnect();
    // `rill start` hands its Kafka listener's counters to the HTTP API: the produce came in, the raw client's fetches went out.
    const metrics = await (await fetch(`${broker.httpUrl}/metrics`)).text();
    const counted = (series: string): number => Number(metrics.split('\n').find((l) => l.startsWith(`${series} `))?.slice(series.length + 1));
    expect(counted('rill_kafka_received_bytes_total')).toBeGreaterThanOrEqual('from-kafkajs'.length + 'plain text'.length);
    expect(counted('rill_kafka_sent_bytes_total')).toBeGreaterThanOrEqual(sent.reduce((n, r) => n + r.key.length + JSON.stringify(r.value).length, 0));
    expect(counted('rill_kafka_requests_total{api="Produce"}')).toBeGreaterThanOrEqual(1);
    expect(counted('rill_kafka_requests_total{api="Fetch"}')).toBeGreaterThanOrEqual(1);
    const { kafka: traffic } = (await (await fetch(`${broker.httpUrl}/v1/summary`)).json()) as { kafka: { receivedBytes: number; sentBytes: number; requests: Record<string, number> } };
    expect(traffic.receivedBytes).toBeGreaterThanOrEqual(counted('rill_kafka_received_bytes_total'));
    expect(traffic.sentBytes).toBeGreaterThanOrEqual(counted('rill_kafka_sent_bytes_total'));
    expect(traffic.requests['Produce']).toBeGreaterThanOrEqual(1);
    const read = (await (await fetch(`${broker.httpUrl}/v1/topics/web/partitions/0/records?offset=20`)).json()) as { records: unknown[] };
    expect(read.records).toEqual([
      expect.objectContaining({ offset: 20, key: 'from-kafkajs', value: 'plain text', valueEncoding: 'utf8', headers: [{ key: 'h', value: 'v' }] }),
    ]);

    const idempotent = (): Promise<Response> => post(`${broker.httpUrl}/v1/topics/web/records`, { records: [{ value: 'once' }] }, { 'idempotency-key': 'payment-1' });
    const first = (await (await idempotent()).json()) as unknown;
    expect(first).toEqual({ records: [{ partition: 0, offset: 21 }] });
    expect(await (await idempotent()).json()).toEqual(first);
    const stopped = await broker.stop('SIGTERM');
    expect(stopped.code, stopped.stderr).toBe(0);
    broker = await startBrokerProcess({ runtime, dataDir: broker.dataDir });
    started.push(broker);
    const retried = await idempotent();
    expect(retried.headers.get('idempotent-replayed')).toBe('true');
    expect(await retried.json()).toEqual(first);
    const topic = (await (await fetch(`${broker.httpUrl}/v1/topics/web`)).json()) as { partitions: { highWatermark: number }[] };
    expect(topic.partitions[0]!.highWatermark).toBe(22);
  });

  it('delivers a new record over SSE and resumes after a dropped connection without gaps or duplicates', async () => {
    const broker = await startBrokerProcess({ runtime });
    started.push(broker);
    await post(`${broker.httpUrl}/v1/topics`, { name: 'live', partitions: 1 });
    const streamUrl = `${broker.httpUrl}/v1/topics/live/partitions/0/stream`;
    const connection = new AbortController();
    const response = await fetch(streamUrl, { signal: connection.signal });
    expect(response.status).toBe(200);
    const events = new SseReader(response.body!);
    const kafka = new Kafka({ clientId: `sse-${runtime}`, brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    const appendedAt = performance.now();
    await producer.send({ topic: 'live', acks: -1, messages: [{ value: '{"n":0}' }] });
    const first = await events.next();
    console.log(`SSE on ${runtime}: record delivered ${(performance.now() - appendedAt).toFixed(1)} ms after the produce was sent (including the acks=all round trip)`);
    expect(first).toMatchObject({ id: '0:0', data: { value: { n: 0 } } });
    for (let n = 1; n <= 3; n++) await post(`${broker.httpUrl}/v1/topics/live/records`, { records: [{ value: { n } }] });
    expect((await events.next()).id).toBe('0:1');
    connection.abort();
    await events.cancel().catch(() => undefined);
    for (let n = 4; n <= 6; n++) await producer.send({ topic: 'live', acks: -1, messages: [{ value: JSON.stringify({ n }) }] });
    await producer.disconnect();
    const resumed = new SseReader((await fetch(streamUrl, { headers: { 'last-event-id': '0:1' } })).body!);
    const values: unknown[] = [];
    for (let i = 0; i < 5; i++) values.push(((await resumed.next()).data as { value: { n: number } }).value.n);
    expect(values).toEqual([2, 3, 4, 5, 6]);
    await resumed.cancel();
  });
});

it('refuses to serve HTTP on a non-loopback address without authentication', async () => {
  const [command, args] = runtimeCommand('node', 'broker/cli/main.ts', ['start', '--data-dir', 'unused-never-created', '--host', '0.0.0.0', '--kafka-port', '0', '--http-port', '0']);
  const exit = await new ManagedProcess(command, args).exit();
  expect(exit.code).not.toBe(0);
  expect(exit.stderr).toMatch(/refusing to serve HTTP on 0\.0\.0\.0 without authentication/);
});
