import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { Broker, EmbeddedTransport } from '../../broker/mod.ts';
import { createHttpApp } from '../../broker/http/http-app.ts';
import { Admin, Consumer, type ConsumerRecord, Producer, stringSerde, TcpTransport, type Transport } from '../../sdk/mod.ts';
import { type BrokerProcess, startBrokerProcess } from '../helpers/broker-process.ts';
import { ManagedProcess, runtimeCommand } from '../helpers/child-process.ts';
import { type DelayReport, runDelayScenario } from '../runtime/delay-scenario.ts';

const text = new TextDecoder();
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

function checkReport(report: DelayReport): void {
  expect(report.delivered).toBe(report.sent);
  expect(report.early).toBe(0);
  expect(report.outOfOrder).toBe(0);
  if (report.probedBeforeDue) expect(report.seenBeforeDue).toBe(0);
  expect(report.shareDelivered).toBe(report.sent);
  expect(report.invalidHeader).toBe('INVALID_RECORD');
  expect(report.tooFar).toBe('INVALID_RECORD');
}

/** Reads `count` records of `topic` from offset 0 on every partition. */
async function readAll(transport: Transport, topic: string, partitions: number, count: number): Promise<ConsumerRecord<string, string>[]> {
  const consumer = new Consumer(transport, { keySerde: stringSerde, valueSerde: stringSerde, maxWaitMs: 200 });
  consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: 0 })));
  const records: ConsumerRecord<string, string>[] = [];
  try {
    for await (const record of consumer) {
      records.push(record);
      if (records.length === count) break;
    }
  } finally {
    await consumer.close();
  }
  return records;
}

/** Records stored past the last of `records` in each partition, up to the high watermark (there must be none). */
async function recordsAfter(transport: Transport, topic: string, records: readonly ConsumerRecord<string, string>[]): Promise<number> {
  const next = new Map<number, number>();
  for (const r of records) next.set(r.partition, Math.max(next.get(r.partition) ?? 0, r.offset + 1));
  const ends = new Map((await new Admin(transport).topicOffsets(topic)).map((p) => [p.partition, p.latest]));
  const behind = [...next].filter(([partition, offset]) => offset < ends.get(partition)!);
  if (behind.length === 0) return 0;
  const consumer = new Consumer(transport, { keySerde: stringSerde, valueSerde: stringSerde, maxWaitMs: 50 });
  consumer.assign(behind.map(([partition, offset]) => ({ topic, partition, offset })));
  let extra = 0;
  for await (const batch of consumer.batches({ includeEmpty: true })) {
    extra += batch.records.length;
    if (behind.every(([partition]) => consumer.position({ topic, partition })! >= ends.get(partition)!)) break;
  }
  await consumer.close();
  return extra;
}

function headerOf(record: ConsumerRecord<string, string>, key: string): string | undefined {
  const value = record.headers.find((h) => h.key === key)?.value;
  return value === undefined || value === null ? undefined : text.decode(value);
}

/** Every value exactly once, and per partition in due-time order. */
function expectExactlyOnceInDueOrder(records: readonly ConsumerRecord<string, string>[], expected: readonly string[]): void {
  expect(records.map((r) => r.value).sort()).toEqual([...expected].sort());
  const last = new Map<number, number>();
  for (const record of records) {
    const due = Number(headerOf(record, 'rill.deliver.at'));
    expect(due).toBeGreaterThanOrEqual(last.get(record.partition) ?? 0);
    last.set(record.partition, due);
  }
}

describe('delayed delivery, SDK producer over TCP, consumer and share consumer', () => {
  it('holds records until due, in due order, on node', async () => {
    checkReport(await runDelayScenario());
  });

  it.each(['bun', 'deno'] as const)('does the same on %s', async (runtime) => {
    const [command, args] = runtimeCommand(runtime, 'test/runtime/delay-main.ts');
    const exit = await new ManagedProcess(command, args).exit();
    expect(exit.code, exit.stderr).toBe(0);
    checkReport(JSON.parse(exit.stdout.trim().split('\n').at(-1)!) as DelayReport);
  });
});

describe('delayed delivery through kafkajs and HTTP on the broker process', () => {
  it('delays kafkajs records with rill.delay.ms and HTTP records with deliverAt, and refuses bad values and transactions', async () => {
    const proc = await startBrokerProcess();
    cleanups.push(() => proc.dispose());
    const kafka = new Kafka({ clientId: 'delay-kafkajs', brokers: [proc.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 1, configEntries: [{ name: 'rill.delayed.delivery', value: 'true' }] }] });
    await admin.disconnect();

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const startMs = Date.now();
    await producer.send({ topic: 'orders', messages: [{ value: 'kafkajs-late', headers: { 'rill.delay.ms': '1200' } }, { value: 'kafkajs-now' }] });
    await producer.send({ topic: 'orders', messages: [{ value: 'kafkajs-after' }] });
    const post = (records: unknown): Promise<Response> =>
      fetch(`${proc.httpUrl}/v1/topics/orders/records`, { method: 'POST', body: JSON.stringify({ records }), headers: { 'content-type': 'application/json' } });
    expect((await post([{ value: 'http-early', deliverAt: startMs + 600 }])).status).toBe(200);
    const bad = await post([{ value: 'x', deliverAt: 'soon' }, { value: 'y', deliverAt: 1, delayMs: 5 }]);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: { path: string }[] }).errors.map((e) => e.path)).toEqual(['/records/0/deliverAt', '/records/1/delayMs']);
    const tooFar = await post([{ value: 'z', delayMs: 30 * 24 * 3600 * 1000 }]);
    expect(tooFar.status).toBe(422);
    expect(((await tooFar.json()) as { detail: string }).detail).toMatch(/rill\.delay\.max\.ms/);

    const immediate = await fetch(`${proc.httpUrl}/v1/topics/orders/partitions/0/records?offset=earliest&isolation=read_uncommitted`);
    const readEarly = (await immediate.json()) as { records: { value: unknown }[] };
    if (Date.now() < startMs + 600) expect(readEarly.records.map((r) => r.value)).not.toContain('http-early');

    const transactional = kafka.producer({ transactionalId: 'delay-tx', idempotent: true, maxInFlightRequests: 1 });
    await transactional.connect();
    const txn = await transactional.transaction();
    const refused = (await txn.send({ topic: 'orders', messages: [{ value: 'tx', headers: { 'rill.delay.ms': '100' } }] }).catch((error: unknown) => error)) as { type?: string };
    expect(refused.type).toBe('INVALID_RECORD');
    await txn.abort().catch(() => undefined);
    await transactional.disconnect();

    const consumer = kafka.consumer({ groupId: 'delay-readers', maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'orders', fromBeginning: true });
    const seen: { value: string; atMs: number; deliverAt: number | undefined }[] = [];
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ message }) => {
            const deliverAt = message.headers?.['rill.deliver.at'];
            seen.push({ value: String(message.value), atMs: Date.now(), deliverAt: deliverAt === undefined ? undefined : Number(String(deliverAt)) });
            if (seen.length === 4) resolve();
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
    await producer.disconnect();
    // kafkajs-now shares its batch with a delayed record, so it goes through the scheduler (due at once) and may follow kafkajs-after.
    expect(seen.slice(0, 2).map((s) => s.value).sort()).toEqual(['kafkajs-after', 'kafkajs-now']);
    // The HTTP API stores a JSON value as its JSON text.
    expect(seen.slice(2).map((s) => s.value)).toEqual(['"http-early"', 'kafkajs-late']);
    for (const s of seen.slice(2)) expect(s.atMs).toBeGreaterThanOrEqual(s.deliverAt!);
  });
});

describe('delayed delivery is a per-topic opt-in (rill.delayed.delivery)', () => {
  it('delivers a delay header at once on a topic without it, refuses HTTP delay fields there, and delays once it is set over HTTP', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'rill-delay-optin-'));
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const broker = await Broker.open({ config: { dataDir } });
    const transport = new EmbeddedTransport(broker);
    cleanups.push(async () => {
      await transport.close();
      await broker.close();
    });
    await new Admin(transport).createTopics([{ name: 'plain', numPartitions: 1 }]);
    const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde, idempotent: true, lingerMs: 1 });
    const farMs = Date.now() + 3_600_000;
    // A batch with a delayed header (uncompressed, and gzip, which delayed delivery would have to decode).
    await producer.send({ topic: 'plain', partition: 0, value: 'header-only', headers: { 'rill.deliver.at': String(farMs) } });
    const gzipProducer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde, compression: 'gzip', lingerMs: 1 });
    await gzipProducer.send({ topic: 'plain', partition: 0, value: 'gzip', headers: { 'rill.delay.ms': 'not a number' } });
    await gzipProducer.close();
    const now = await readAll(transport, 'plain', 1, 2);
    expect(now.map((r) => r.value)).toEqual(['header-only', 'gzip']);
    expect(headerOf(now[0]!, 'rill.deliver.at')).toBe(String(farMs));
    expect(headerOf(now[1]!, 'rill.delay.ms')).toBe('not a number');
    expect(broker.listTopics({ includeInternal: true })).not.toContain('__delayed_records');

    const http = await createHttpApp(broker);
    cleanups.push(async () => http.close());
    const app = http.app;
    const post = (records: unknown): Promise<Response> =>
      Promise.resolve(app.request('/v1/topics/plain/records', { method: 'POST', body: JSON.stringify({ records }), headers: { 'content-type': 'application/json' } }));
    const refused = await post([{ value: 'a' }, { value: 'b', delayMs: 500 }]);
    expect(refused.status).toBe(422);
    const problem = (await refused.json()) as { errors: { path: string; message: string }[] };
    expect(problem.errors).toEqual([{ path: '/records/1/delayMs', message: expect.stringContaining('rill.delayed.delivery') }]);
    expect((await new Admin(transport).topicOffsets('plain'))[0]!.latest).toBe(2);

    const patched = await app.request('/v1/topics/plain/config', { method: 'PATCH', body: JSON.stringify({ 'rill.delayed.delivery': 'true' }), headers: { 'content-type': 'application/json' } });
    expect(patched.status).toBe(200);
    const dueMs = Date.now() + 300;
    expect((await post([{ value: 'later', deliverAt: dueMs }])).status).toBe(200);
    await producer.send({ topic: 'plain', partition: 0, value: 'after' });
    await producer.close();
    const all = await readAll(transport, 'plain', 1, 4);
    expect(all.slice(2).map((r) => r.value)).toEqual(['after', '"later"']);
    expect(Date.now()).toBeGreaterThanOrEqual(dueMs);
  });
});

describe('delayed delivery across restarts', () => {
  it('loses and duplicates nothing when an embedded broker with a small index is reopened mid-schedule', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'rill-delay-reopen-'));
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const options = { config: { dataDir }, delayedDelivery: { indexMaxEntries: 64, maxRecordsPerMove: 16 } };
    let broker = await Broker.open(options);
    await broker.createTopic('later', { partitions: 3, config: { 'rill.delayed.delivery': 'true' } });
    let transport = new EmbeddedTransport(broker);
    const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde, idempotent: true, lingerMs: 1 });
    const firstDueMs = Date.now() + 600;
    const values = Array.from({ length: 900 }, (_, i) => `v-${i}`);
    await Promise.all(values.map((value, i) => producer.send({ topic: 'later', partition: i % 3, value, headers: { 'rill.deliver.at': String(firstDueMs + ((i * 37) % 900)) } })));
    await producer.close();
    await readAll(transport, 'later', 3, 100);
    const before = broker.delayedDelivery.stats();
    await transport.close();
    await broker.close();
    expect(before.indexed).toBeLessThanOrEqual(64);
    expect(before.beyondHorizon).toBe(true);

    broker = await Broker.open(options);
    transport = new EmbeddedTransport(broker);
    const records = await readAll(transport, 'later', 3, values.length);
    const after = broker.delayedDelivery.stats();
    expect(after.rebuilds).toBeGreaterThan(1);
    expectExactlyOnceInDueOrder(records, values);
    expect(await recordsAfter(transport, 'later', records)).toBe(0);
    await transport.close();
    await broker.close();
  });

  it('loses and duplicates nothing when `rill start` is SIGKILLed while records are being delivered', async () => {
    let proc: BrokerProcess = await startBrokerProcess();
    const dataDir = proc.dataDir;
    cleanups.push(() => proc.dispose());
    let transport = new TcpTransport({ bootstrapServers: [proc.bootstrap] });
    await new Admin(transport).createTopics([{ name: 'kill-delayed', numPartitions: 1, configs: { 'rill.delayed.delivery': 'true' } }]);
    const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde, idempotent: true, lingerMs: 2 });
    const values = Array.from({ length: 3000 }, (_, i) => `k-${i}`);
    const firstDueMs = Date.now() + 1000;
    await Promise.all(values.map((value, i) => producer.send({ topic: 'kill-delayed', partition: 0, value, headers: { 'rill.deliver.at': String(firstDueMs + ((i * 13) % 1500)) } })));
    await producer.close();
    await readAll(transport, 'kill-delayed', 1, 200);
    await transport.close();
    await proc.stop('SIGKILL');

    proc = await startBrokerProcess({ dataDir, port: proc.port });
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    transport = new TcpTransport({ bootstrapServers: [proc.bootstrap] });
    const records = await readAll(transport, 'kill-delayed', 1, values.length);
    expectExactlyOnceInDueOrder(records, values);
    expect(await recordsAfter(transport, 'kill-delayed', records)).toBe(0);
    await transport.close();
  });
});
