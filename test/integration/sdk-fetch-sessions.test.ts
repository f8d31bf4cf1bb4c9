import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Broker } from '../../broker/broker.ts';
import { KafkaListener } from '../../broker/kafka/kafka-listener.ts';
import { Consumer, type ConsumerRecord, TcpTransport } from '../../sdk/mod.ts';
import { ApiKey, decodeRequest, type FetchRequest } from '../../sdk/protocol/mod.ts';
import { RecordBatchBuilder } from '../../sdk/record/mod.ts';
import { KafkaFrameProxy } from '../helpers/kafka-frame-proxy.ts';

const PARTITIONS = 16;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function batch(value: string): Uint8Array {
  const builder = new RecordBatchBuilder({});
  builder.append({ key: null, value: new TextEncoder().encode(value), headers: [] });
  return builder.seal();
}

/** A broker reached through a proxy that records every Fetch request the consumer sends. */
async function setUp() {
  const dir = mkdtempSync(join(tmpdir(), 'rill-fetch-sessions-'));
  const broker = await Broker.open({ config: { dataDir: dir } });
  cleanups.push(async () => {
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await broker.createTopic('wide', { partitions: PARTITIONS });
  const fetches: FetchRequest[] = [];
  let listener: KafkaListener | undefined;
  const proxy = await KafkaFrameProxy.start(
    () => listener!.port,
    (_request, response) => response,
    (frame) => {
      const request = decodeRequest(frame);
      if (request.apiKey === ApiKey.Fetch) fetches.push(request.body);
    },
  );
  cleanups.push(() => proxy.close());
  listener = await KafkaListener.start(broker, { host: '127.0.0.1', port: 0, advertisedPort: proxy.port });
  cleanups.push(() => listener!.close());
  const transport = new TcpTransport({ bootstrapServers: [proxy.bootstrap] });
  cleanups.push(() => transport.close());
  const consumer = new Consumer(transport, { maxWaitMs: 200 });
  cleanups.push(() => consumer.close());
  consumer.assign(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: 'wide', partition, offset: 0 })));
  const records = consumer[Symbol.asyncIterator]();
  const take = async (n: number): Promise<string[]> => {
    const out: string[] = [];
    while (out.length < n) {
      const next = await records.next();
      if (next.done === true) throw new Error('the consumer ended');
      const record: ConsumerRecord<Uint8Array, Uint8Array> = next.value;
      out.push(`${record.partition}:${record.offset}:${new TextDecoder().decode(record.value!)}`);
    }
    return out;
  };
  const append = (partition: number, value: string) => broker.append('wide', partition, batch(value));
  return { broker, fetches, take, append, consumer };
}

const partitionsIn = (fetch: FetchRequest) => fetch.topics.reduce((n, t) => n + t.partitions.length, 0);

describe('the SDK consumer uses fetch sessions (KIP-227)', () => {
  it('opens a session with one full fetch, then sends only partitions whose position moved', async () => {
    const { broker, fetches, take, append } = await setUp();
    for (let p = 0; p < PARTITIONS; p++) await append(p, `first-${p}`);
    expect((await take(PARTITIONS)).sort()).toEqual(Array.from({ length: PARTITIONS }, (_, p) => `${p}:0:first-${p}`).sort());
    const [first] = fetches;
    expect([first!.sessionId, first!.sessionEpoch, partitionsIn(first!)]).toEqual([0, 0, PARTITIONS]);
    const mark = fetches.length;
    const rounds: string[] = [];
    for (let i = 0; i < 5; i++) {
      await append(3, `round-${i}`);
      rounds.push(...(await take(1)));
    }
    expect(rounds).toEqual([0, 1, 2, 3, 4].map((i) => `3:${i + 1}:round-${i}`));
    // Every fetch after the first is incremental in the same session, epochs 1, 2, 3, ...
    const incremental = fetches.slice(1);
    const sessionId = incremental[0]!.sessionId;
    expect(sessionId).not.toBe(0);
    expect(incremental.every((f) => f.sessionId === sessionId)).toBe(true);
    expect(incremental.map((f) => f.sessionEpoch)).toEqual(incremental.map((_, i) => i + 1));
    // Once the first records are taken, a fetch names at most the one partition that moved (the
    // first one after the mark may still carry the partitions of the last full answer).
    const quiet = fetches.slice(mark + 1);
    expect(quiet.length).toBeGreaterThanOrEqual(4);
    expect(Math.max(...quiet.map(partitionsIn))).toBeLessThanOrEqual(1);
    expect(broker.fetchSessions.size).toBe(1);
  });

  it('starts over with a full fetch when the broker has lost the session, without losing or repeating records', async () => {
    const { broker, fetches, take, append } = await setUp();
    for (let p = 0; p < PARTITIONS; p++) await append(p, `first-${p}`);
    await take(PARTITIONS);
    await append(5, 'before');
    expect(await take(1)).toEqual(['5:1:before']);
    const lost = fetches.at(-1)!.sessionId;
    expect(lost).not.toBe(0);
    broker.fetchSessions.remove(lost);
    const mark = fetches.length;
    await append(5, 'after');
    await append(9, 'after');
    expect((await take(2)).sort()).toEqual(['5:2:after', '9:1:after']);
    // The incremental fetch that met FETCH_SESSION_ID_NOT_FOUND is followed by a full one that
    // names the lost session (epoch 0: close it, open another) with every partition at its position.
    const restart = fetches.slice(mark).find((f) => f.sessionEpoch === 0);
    expect(restart).toBeDefined();
    expect([restart!.sessionId, partitionsIn(restart!)]).toEqual([lost, PARTITIONS]);
    const positions = new Map(restart!.topics[0]!.partitions.map((p) => [p.partition, Number(p.fetchOffset)]));
    expect(positions.get(5)).toBe(2);
    expect(positions.get(0)).toBe(1);
    // The restart's answer may have carried both records: one more record is fetched in the new session.
    await append(9, 'later');
    expect(await take(1)).toEqual(['9:2:later']);
    const renewed = fetches.at(-1)!;
    expect(renewed.sessionId).not.toBe(lost);
    expect(renewed.sessionEpoch).toBeGreaterThanOrEqual(1);
    expect(broker.fetchSessions.size).toBe(1);
  });

  it('drops its session on the broker when it closes', async () => {
    const { broker, fetches, take, append, consumer } = await setUp();
    for (let p = 0; p < PARTITIONS; p++) await append(p, `first-${p}`);
    await take(PARTITIONS);
    await append(2, 'more');
    await take(1);
    const sessionId = fetches.at(-1)!.sessionId;
    expect(sessionId).not.toBe(0);
    expect(broker.fetchSessions.size).toBe(1);
    await consumer.close();
    const last = fetches.at(-1)!;
    expect([last.sessionId, last.sessionEpoch, partitionsIn(last)]).toEqual([sessionId, -1, 0]);
    expect(broker.fetchSessions.size).toBe(0);
  });
});
