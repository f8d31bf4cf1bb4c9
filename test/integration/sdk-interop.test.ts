import { CompressionTypes, type EachMessagePayload, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin, Consumer, type ConsumerRecord, Producer, stringSerde, TcpTransport } from '../../sdk/mod.ts';
import { type BrokerProcess, startBrokerProcess } from '../helpers/broker-process.ts';

let proc: BrokerProcess;
let transport: TcpTransport;
let kafka: Kafka;

beforeAll(async () => {
  proc = await startBrokerProcess();
  transport = new TcpTransport({ bootstrapServers: [proc.bootstrap] });
  kafka = new Kafka({ clientId: 'interop', brokers: [proc.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });
});

afterAll(async () => {
  await transport.close();
  await proc.dispose();
});

const text = (v: Buffer | string | (Buffer | string)[] | undefined) => (v === undefined ? undefined : String(v));

/** Runs a kafkajs group consumer over `topic` until `count` records arrived; returns them. */
async function kafkajsRead(topic: string, groupId: string, count: number): Promise<EachMessagePayload[]> {
  const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 500, maxWaitTimeInMs: 200, readUncommitted: false });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen: EachMessagePayload[] = [];
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async (payload) => {
        seen.push(payload);
        if (seen.length === count) resolve();
      },
    });
  });
  await consumer.disconnect();
  return seen;
}

/** Our group consumer over `topic` until records with every value in `lasts` arrived. */
async function ourRead(topic: string, groupId: string, lasts: string[]): Promise<ConsumerRecord<string, string>[]> {
  const pending = new Set(lasts);
  const consumer = new Consumer(transport, { groupId, keySerde: stringSerde, valueSerde: stringSerde, autoOffsetReset: 'earliest', maxWaitMs: 100 });
  consumer.subscribe([topic]);
  const seen: ConsumerRecord<string, string>[] = [];
  for await (const record of consumer) {
    seen.push(record);
    pending.delete(record.value!);
    if (pending.size === 0) break;
  }
  await consumer.close();
  return seen;
}

describe('interop with kafkajs 2.2.4 over TCP', () => {
  it('kafkajs group reads our gzip records with headers, and only committed transactions', async () => {
    const admin = new Admin(transport);
    await admin.createTopics([{ name: 'ours-out', numPartitions: 3 }]);
    const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde, compression: 'gzip', lingerMs: 2 });
    await Promise.all(
      Array.from({ length: 60 }, (_, i) => producer.send({ topic: 'ours-out', key: `k${i}`, value: `plain-${i}`, headers: { seq: String(i), bin: new Uint8Array([i, 255]) } })),
    );
    await producer.close();
    const tx = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde, transactionalId: 'interop-ours', compression: 'gzip' });
    await tx.transaction(async (t) => {
      for (let i = 0; i < 10; i++) await t.send({ topic: 'ours-out', key: `t${i}`, value: `committed-${i}` });
    });
    await tx
      .transaction(async (t) => {
        for (let i = 0; i < 10; i++) await t.send({ topic: 'ours-out', key: `t${i}`, value: `aborted-${i}` });
        throw new Error('abort');
      })
      .catch(() => undefined);
    await tx.transaction(async (t) => {
      for (let i = 0; i < 3; i++) await t.send({ topic: 'ours-out', key: `t${i}`, partition: i, value: `final-${i}` });
    });
    await tx.close();

    const seen = await kafkajsRead('ours-out', 'kafkajs-reads-ours', 73);
    const values = seen.map((p) => text(p.message.value ?? undefined)!);
    expect(values.filter((v) => v.startsWith('aborted-'))).toEqual([]);
    expect(new Set(values).size).toBe(73);
    expect(values.filter((v) => v.startsWith('committed-') || v.startsWith('final-'))).toHaveLength(13);
    for (const p of seen.filter((s) => text(s.message.value ?? undefined)!.startsWith('plain-'))) {
      const i = Number(text(p.message.value ?? undefined)!.slice(6));
      expect(text(p.message.key ?? undefined)).toBe(`k${i}`);
      expect(text(p.message.headers?.seq)).toBe(String(i));
      expect([...(p.message.headers?.bin as Buffer)]).toEqual([i, 255]);
    }
  });

  it('our group reads kafkajs gzip records with headers, and only committed transactions', async () => {
    const kadmin = kafka.admin();
    await kadmin.connect();
    await kadmin.createTopics({ topics: [{ topic: 'theirs-out', numPartitions: 2 }], waitForLeaders: true });
    await kadmin.disconnect();
    const plain = kafka.producer();
    await plain.connect();
    await plain.send({
      topic: 'theirs-out',
      compression: CompressionTypes.GZIP,
      messages: Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: `plain-${i}`, headers: { seq: String(i) } })),
    });
    await plain.disconnect();
    const producer = kafka.producer({ transactionalId: 'interop-theirs', idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const committed = await producer.transaction();
    await committed.send({ topic: 'theirs-out', compression: CompressionTypes.GZIP, messages: Array.from({ length: 10 }, (_, i) => ({ value: `committed-${i}`, headers: { seq: String(i) } })) });
    await committed.commit();
    const aborted = await producer.transaction();
    await aborted.send({ topic: 'theirs-out', messages: Array.from({ length: 10 }, (_, i) => ({ value: `aborted-${i}` })) });
    await aborted.abort();
    const last = await producer.transaction();
    await last.send({ topic: 'theirs-out', messages: [{ value: 'last', partition: 0 }, { value: 'last-1', partition: 1 }] });
    await last.commit();
    await producer.disconnect();

    const seen = await ourRead('theirs-out', 'ours-reads-kafkajs', ['last', 'last-1']);
    const values = seen.map((r) => r.value!);
    expect(values).toHaveLength(52);
    expect(values.filter((v) => v.startsWith('aborted-'))).toEqual([]);
    for (const r of seen.filter((s) => s.value!.startsWith('plain-'))) {
      expect(r.key).toBe(`k${r.value!.slice(6)}`);
      expect(new TextDecoder().decode(r.headers.find((h) => h.key === 'seq')!.value!)).toBe(r.value!.slice(6));
    }
    expect(values.filter((v) => v.startsWith('committed-'))).toHaveLength(10);
    for (const r of seen.filter((s) => s.value!.startsWith('committed-'))) {
      expect(new TextDecoder().decode(r.headers.find((h) => h.key === 'seq')!.value!)).toBe(r.value!.slice(10));
    }
  });
});
