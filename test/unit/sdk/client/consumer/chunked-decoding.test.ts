import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Broker, EmbeddedTransport } from '../../../../../broker/mod.ts';
import {
  Admin,
  type ConsumerBatch,
  type ConsumerOptions,
  type ConsumerRecord,
  Consumer,
  isKafkaError,
  Producer,
  readRecordBatches,
  stringSerde,
} from '../../../../../sdk/mod.ts';

/**
 * The consumer keeps fetched record batches undecoded and decodes them in chunks as it hands them
 * out: whole stored batches until a chunk holds at least CHUNK_RECORDS records (one larger stored
 * batch stays whole). These tests drive that through the public API over the embedded transport.
 */
const CHUNK_RECORDS = 2048;
/** Records per producer `sendBatch` call; each call becomes one stored batch (checked against the log). */
const LAYOUT = [1000, 1200, 2500, 3000, 1024, 1024, 252];
const TOTAL = LAYOUT.reduce((a, b) => a + b, 0);
const TOPIC = 'chunks';
const TP = { topic: TOPIC, partition: 0 };
/** Big enough that one fetch returns the whole partition. */
const ONE_FETCH = { maxPartitionBytes: 16 * 1024 * 1024, maxBytes: 64 * 1024 * 1024, maxWaitMs: 100 };

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Env {
  broker: Broker;
  transport: EmbeddedTransport;
  consumer(options?: ConsumerOptions<string, string>): Consumer<string, string>;
  producer(options?: ConstructorParameters<typeof Producer<string, string>>[1]): Producer<string, string>;
}

async function openEnv(): Promise<Env> {
  const dataDir = mkdtempSync(join(tmpdir(), 'rill-chunked-'));
  const broker = await Broker.open({ config: { dataDir }, groups: { initialRebalanceDelayMs: 0 } });
  const transport = new EmbeddedTransport(broker);
  const closers: { close(): Promise<void> }[] = [];
  cleanups.push(async () => {
    for (const c of closers.reverse()) await c.close();
    await broker.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  await new Admin(transport).createTopics([{ name: TOPIC, numPartitions: 1 }]);
  return {
    broker,
    transport,
    consumer(options = {}) {
      const c = new Consumer(transport, { keySerde: stringSerde, valueSerde: stringSerde, ...options });
      closers.push(c);
      return c;
    },
    producer(options = {}) {
      const p = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde, batchSizeBytes: 4 * 1024 * 1024, lingerMs: 0, ...options });
      closers.push(p);
      return p;
    },
  };
}

/** Fails with a message instead of hanging the test when something never arrives. */
async function within<T>(promise: Promise<T>, what: string, ms = 5_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function nextValue<T>(it: AsyncIterator<T>, what: string): Promise<T> {
  const result = await within(it.next(), what);
  if (result.done === true) throw new Error(`iterator ended while waiting for ${what}`);
  return result.value;
}

/** Stored batches of the partition as the broker holds them: [baseOffset, lastOffset, records]. */
async function storedLayout(broker: Broker, topic = TOPIC): Promise<{ baseOffset: number; lastOffset: number; count: number; control: boolean }[]> {
  const [result] = await broker.fetch({ partitions: [{ topic, partition: 0, fetchOffset: 0, partitionMaxBytes: 64 << 20 }], maxWaitMs: 0, minBytes: 0, maxBytes: 64 << 20 });
  expect(result!.error).toBeUndefined();
  return [...readRecordBatches(result!.records)].map((b) => ({ baseOffset: b.baseOffset, lastOffset: b.lastOffset, count: b.recordsCount, control: b.isControl }));
}

/** Produces LAYOUT.length stored batches of the given sizes, values `v<offset>`; checks the log holds exactly that layout. */
async function produceLayout(env: Env): Promise<number[]> {
  const producer = env.producer();
  let offset = 0;
  for (const size of LAYOUT) {
    const records = Array.from({ length: size }, (_, i) => ({ topic: TOPIC, partition: 0, key: `k${offset + i}`, value: `v${offset + i}` }));
    const acked = await producer.sendBatch(records);
    expect(acked.map((m) => m.offset)).toEqual(records.map((_, i) => offset + i));
    offset += size;
  }
  const layout = await storedLayout(env.broker);
  // The test is only meaningful if every sendBatch landed as one stored batch.
  expect(layout.map((b) => b.count)).toEqual(LAYOUT);
  return layout.map((b) => b.baseOffset);
}

/** The chunks the rule gives for one fetched item starting at `from`: [firstOffset, nextOffset) per chunk. */
function expectedChunks(bases: number[], from: number, end: number): [number, number][] {
  const batches = bases.map((base, i) => ({ base, next: bases[i + 1] ?? end })).filter((b) => b.next > from);
  const chunks: [number, number][] = [];
  for (let i = 0; i < batches.length; ) {
    const first = Math.max(from, batches[i]!.base);
    let count = 0;
    const start = i;
    while (i < batches.length && (i === start || count < CHUNK_RECORDS)) {
      count += batches[i]!.next - Math.max(from, batches[i]!.base);
      i++;
    }
    chunks.push([first, batches[i - 1]!.next]);
  }
  return chunks;
}

function offsetsOf(records: readonly ConsumerRecord<string, string>[]): number[] {
  return records.map((r) => r.offset);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

describe('chunked decoding: batches()', () => {
  it('hands one fetched partition out in contiguous chunks of whole stored batches, each record once and in order', { timeout: 20_000 }, async () => {
    const env = await openEnv();
    const bases = await produceLayout(env);
    expect(expectedChunks(bases, 0, TOTAL)).toEqual([
      [0, 2200],
      [2200, 4700],
      [4700, 7700],
      [7700, 9748],
      [9748, 10000],
    ]);

    const consumer = env.consumer({ ...ONE_FETCH });
    consumer.assign([{ ...TP, offset: 0 }]);
    const it = consumer.batches();
    const got: ConsumerBatch<string, string>[] = [];
    let seen = 0;
    while (seen < TOTAL) {
      const batch = await nextValue(it, `records past offset ${seen}`);
      got.push(batch);
      seen += batch.records.length;
      // The position is the chunk's next offset as soon as the chunk is handed out.
      expect(consumer.position(TP)).toBe(batch.records.at(-1)!.offset + 1);
    }
    expect(got.map((b) => [b.records[0]!.offset, b.records.at(-1)!.offset + 1])).toEqual(expectedChunks(bases, 0, TOTAL));

    let expectedNext = 0;
    for (const [i, batch] of got.entries()) {
      expect(batch.topic).toBe(TOPIC);
      expect(batch.partition).toBe(0);
      expect(batch.records.length).toBeGreaterThan(0);
      expect(batch.records[0]!.offset).toBe(expectedNext);
      expect(offsetsOf(batch.records)).toEqual(range(expectedNext, expectedNext + batch.records.length));
      if (i < got.length - 1) expect(batch.records.length).toBeGreaterThanOrEqual(CHUNK_RECORDS);
      expect(batch.highWatermark).toBe(TOTAL);
      expectedNext += batch.records.length;
    }
    const all = got.flatMap((b) => b.records);
    expect(all.length).toBe(TOTAL);
    expect(all.every((r, i) => r.offset === i && r.value === `v${i}` && r.key === `k${i}` && r.topic === TOPIC && r.partition === 0)).toBe(true);
    // Chunks of 2500 and 3000 are single stored batches bigger than the chunk size, kept whole.
    expect(got.map((b) => b.records.length)).toEqual([2200, 2500, 3000, 2048, 252]);
    expect(consumer.position(TP)).toBe(TOTAL);
  });

  it('skips the records before the fetch offset in the first stored batch and counts only the rest toward the chunk', { timeout: 20_000 }, async () => {
    const env = await openEnv();
    const bases = await produceLayout(env);
    const consumer = env.consumer({ ...ONE_FETCH });
    consumer.assign([{ ...TP, offset: 500 }]);
    const it = consumer.batches();
    const got: ConsumerBatch<string, string>[] = [];
    for (let seen = 500; seen < TOTAL; ) {
      const batch = await nextValue(it, `records past offset ${seen}`);
      got.push(batch);
      seen = batch.records.at(-1)!.offset + 1;
    }
    // 500 left of the first batch + 1200 < 2048, so the 2500-record batch joins the first chunk.
    expect(got.map((b) => [b.records[0]!.offset, b.records.at(-1)!.offset + 1])).toEqual(expectedChunks(bases, 500, TOTAL));
    expect(got[0]!.records[0]!.offset).toBe(500);
    expect(got[0]!.records.length).toBe(500 + 1200 + 2500);
    expect(offsetsOf(got.flatMap((b) => b.records))).toEqual(range(500, TOTAL));
  });

  it('a seek between chunks drops the rest of the fetched item; the next batch starts at the sought offset', { timeout: 20_000 }, async () => {
    const env = await openEnv();
    await produceLayout(env);
    const consumer = env.consumer({ ...ONE_FETCH });
    consumer.assign([{ ...TP, offset: 0 }]);
    const it = consumer.batches();
    const first = await nextValue(it, 'the first chunk');
    expect(first.records.length).toBe(2200);
    consumer.seek(TP, 7000);
    expect(consumer.position(TP)).toBe(7000);
    const afterSeek = await nextValue(it, 'the chunk at the sought offset');
    expect(afterSeek.records[0]!.offset).toBe(7000);
    const rest = [...afterSeek.records];
    while (rest.at(-1)!.offset < TOTAL - 1) rest.push(...(await nextValue(it, 'the rest after the seek')).records);
    expect(offsetsOf(rest)).toEqual(range(7000, TOTAL));
  });

  it('leaving batches() after one chunk and iterating again continues at the position', { timeout: 20_000 }, async () => {
    const env = await openEnv();
    await produceLayout(env);
    const consumer = env.consumer({ ...ONE_FETCH });
    consumer.assign([{ ...TP, offset: 0 }]);
    for await (const batch of consumer.batches()) {
      expect(batch.records.length).toBe(2200);
      break;
    }
    expect(consumer.position(TP)).toBe(2200);
    const rest: ConsumerRecord<string, string>[] = [];
    const it = consumer.batches();
    while (rest.length < TOTAL - 2200) rest.push(...(await nextValue(it, 'the rest after iterating again')).records);
    expect(offsetsOf(rest)).toEqual(range(2200, TOTAL));
  });

  it('leaving the record iterator mid-chunk and iterating again continues at the next record', { timeout: 20_000 }, async () => {
    const env = await openEnv();
    await produceLayout(env);
    const consumer = env.consumer({ ...ONE_FETCH });
    consumer.assign([{ ...TP, offset: 0 }]);
    const seen: number[] = [];
    for await (const record of consumer) {
      seen.push(record.offset);
      if (seen.length === 5) break;
    }
    expect(consumer.position(TP)).toBe(5);
    for await (const record of consumer) {
      seen.push(record.offset);
      if (seen.length === TOTAL) break;
    }
    expect(seen).toEqual(range(0, TOTAL));
  });

  it('pausing a partition holds back what was already fetched until it resumes', { timeout: 20_000 }, async () => {
    const env = await openEnv();
    await produceLayout(env);
    const consumer = env.consumer({ ...ONE_FETCH, maxWaitMs: 50 });
    consumer.assign([{ ...TP, offset: 0 }]);
    const it = consumer.batches();
    const first = await nextValue(it, 'the first chunk');
    expect(offsetsOf(first.records)).toEqual(range(0, 2200));
    consumer.pause([TP]);
    const nextChunk = it.next();
    const held = await Promise.race([nextChunk, new Promise<'nothing'>((resolve) => setTimeout(() => resolve('nothing'), 200))]);
    expect(held).toBe('nothing');
    consumer.resume([TP]);
    const rest: ConsumerRecord<string, string>[] = [...((await nextChunk).value as ConsumerBatch<string, string>).records];
    while (rest.length < TOTAL - 2200) rest.push(...(await nextValue(it, 'the rest after resuming')).records);
    expect(offsetsOf(rest)).toEqual(range(2200, TOTAL));
  });
});

describe('chunked decoding: position and commit at chunk boundaries', () => {
  it('an assigned consumer without a group: its position after a chunk is the next chunk\'s first offset, and a new consumer assigned there continues without gap or repeat', { timeout: 20_000 }, async () => {
    const env = await openEnv();
    await produceLayout(env);
    const a = env.consumer({ ...ONE_FETCH });
    a.assign([{ ...TP, offset: 0 }]);
    const it = a.batches();
    const first = await nextValue(it, 'the first chunk');
    const boundary = a.position(TP)!;
    expect(boundary).toBe(first.records.at(-1)!.offset + 1);
    expect(boundary).toBe(2200);
    await expect(a.commit()).rejects.toSatisfy((e: unknown) => isKafkaError(e, 'INVALID_CONFIG'));
    const second = await nextValue(it, 'the second chunk');
    expect(second.records[0]!.offset).toBe(boundary);
    await a.close();

    const b = env.consumer({ ...ONE_FETCH });
    b.assign([{ ...TP, offset: boundary }]);
    const resumed: ConsumerRecord<string, string>[] = [];
    const itB = b.batches();
    while (resumed.length < TOTAL - boundary) resumed.push(...(await nextValue(itB, 'the resumed records')).records);
    expect(offsetsOf([...first.records, ...resumed])).toEqual(range(0, TOTAL));
  });

  it('an assigned consumer with a groupId commits its chunk-boundary position outside any generation; a new consumer resumes from the committed offset', { timeout: 20_000 }, async () => {
    const env = await openEnv();
    await produceLayout(env);
    const a = env.consumer({ ...ONE_FETCH, groupId: 'plain', enableAutoCommit: false });
    a.assign([{ ...TP, offset: 0 }]);
    const it = a.batches();
    const first = await nextValue(it, 'the first chunk');
    expect(a.position(TP)).toBe(2200);
    await a.commit();
    expect(await a.committed([TP])).toEqual([{ ...TP, offset: 2200, metadata: '' }]);
    // Take one more chunk without committing it.
    const second = await nextValue(it, 'the second chunk');
    expect(second.records[0]!.offset).toBe(2200);
    expect(a.position(TP)).toBe(4700);
    await a.close();

    const b = env.consumer({ ...ONE_FETCH, groupId: 'plain', enableAutoCommit: false });
    const [committed] = await b.committed([TP]);
    expect(committed!.offset).toBe(2200);
    b.assign([{ ...TP, offset: committed!.offset }]);
    const itB = b.batches();
    const resumed: ConsumerRecord<string, string>[] = [];
    while (resumed.length < TOTAL - 2200) resumed.push(...(await nextValue(itB, 'the resumed records')).records);
    expect(offsetsOf([...first.records, ...resumed])).toEqual(range(0, TOTAL));
  });

  it('a subscribed consumer without auto-commit commits at the chunk boundary; a new member of the group resumes exactly there', { timeout: 20_000 }, async () => {
    const env = await openEnv();
    await produceLayout(env);
    const options = { ...ONE_FETCH, groupId: 'g', enableAutoCommit: false, autoOffsetReset: 'earliest' as const, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 100 };
    const a = env.consumer(options);
    a.subscribe([TOPIC]);
    const it = a.batches();
    const first = await nextValue(it, 'the first chunk');
    expect(first.records[0]!.offset).toBe(0);
    expect(first.records.length).toBe(2200);
    expect(first.groupMetadata?.groupId).toBe('g');
    expect(a.position(TP)).toBe(2200);
    await a.commit();
    // Consumed but never committed (auto-commit is off, close must not commit it either).
    const second = await nextValue(it, 'the second chunk');
    expect(second.records[0]!.offset).toBe(2200);
    expect(a.position(TP)).toBe(4700);
    await a.close();

    const b = env.consumer(options);
    b.subscribe([TOPIC]);
    const itB = b.batches();
    const resumed: ConsumerRecord<string, string>[] = [];
    while (resumed.length < TOTAL - 2200) resumed.push(...(await nextValue(itB, 'the resumed records')).records);
    expect(resumed[0]!.offset).toBe(2200);
    expect(offsetsOf([...first.records, ...resumed])).toEqual(range(0, TOTAL));
    expect(b.position(TP)).toBe(TOTAL);
  });
});

describe('chunked decoding: the record iterator', () => {
  async function consumeFew(env: Env): Promise<{ consumer: Consumer<string, string>; it: AsyncIterator<ConsumerRecord<string, string>> }> {
    await produceLayout(env);
    const consumer = env.consumer({ ...ONE_FETCH });
    consumer.assign([{ ...TP, offset: 0 }]);
    const it = consumer[Symbol.asyncIterator]();
    for (let i = 0; i < 5; i++) {
      const record = await nextValue(it, `record ${i}`);
      expect(record.offset).toBe(i);
      expect(consumer.position(TP)).toBe(i + 1);
    }
    return { consumer, it };
  }

  async function readUpTo(it: AsyncIterator<ConsumerRecord<string, string>>, lastOffset: number): Promise<ConsumerRecord<string, string>[]> {
    const out: ConsumerRecord<string, string>[] = [];
    while (out.at(-1)?.offset !== lastOffset) {
      out.push(await nextValue(it, `records up to ${lastOffset}`));
      if (out.length > TOTAL) throw new Error('more records than the partition holds');
    }
    return out;
  }

  it('a seek back to an earlier offset in the middle of a chunk: the next records start there, none left over from the stale chunk', { timeout: 20_000 }, async () => {
    const env = await openEnv();
    const { consumer, it } = await consumeFew(env);
    consumer.seek(TP, 2);
    expect(consumer.position(TP)).toBe(2);
    const after = await readUpTo(it, TOTAL - 1);
    expect(offsetsOf(after)).toEqual(range(2, TOTAL));
    expect(after.every((r) => r.value === `v${r.offset}`)).toBe(true);
    expect(consumer.position(TP)).toBe(TOTAL);
  });

  it('a seek forward past the current chunk: the next record is the sought one', { timeout: 20_000 }, async () => {
    const env = await openEnv();
    const { consumer, it } = await consumeFew(env);
    consumer.seek(TP, 6000);
    const after = await readUpTo(it, TOTAL - 1);
    expect(offsetsOf(after)).toEqual(range(6000, TOTAL));
    expect(consumer.position(TP)).toBe(TOTAL);
  });

  it('a seek while holding the last record of a chunk does not let the following chunk of the stale item through', { timeout: 20_000 }, async () => {
    const env = await openEnv();
    await produceLayout(env);
    const consumer = env.consumer({ ...ONE_FETCH });
    consumer.assign([{ ...TP, offset: 0 }]);
    const it = consumer[Symbol.asyncIterator]();
    const head = await readUpTo(it, 2199);
    expect(offsetsOf(head)).toEqual(range(0, 2200));
    expect(consumer.position(TP)).toBe(2200);
    consumer.seek(TP, 100);
    const after = await readUpTo(it, TOTAL - 1);
    expect(offsetsOf(after)).toEqual(range(100, TOTAL));
  });

  it('the position moves record by record, also across chunk boundaries', { timeout: 20_000 }, async () => {
    const env = await openEnv();
    await produceLayout(env);
    const consumer = env.consumer({ ...ONE_FETCH });
    consumer.assign([{ ...TP, offset: 0 }]);
    const it = consumer[Symbol.asyncIterator]();
    let positionsOk = true;
    for (let i = 0; i < TOTAL; i++) {
      const record = await nextValue(it, `record ${i}`);
      if (record.offset !== i || consumer.position(TP) !== i + 1) positionsOk = false;
    }
    expect(positionsOk).toBe(true);
  });
});

describe('chunked decoding: headers', () => {
  it('round-trips headers; a record without headers has a frozen empty headers array', { timeout: 20_000 }, async () => {
    const env = await openEnv();
    const producer = env.producer();
    const bin = new Uint8Array([0, 1, 2, 255]);
    await producer.sendBatch([
      { topic: TOPIC, partition: 0, value: 'plain-0' },
      { topic: TOPIC, partition: 0, value: 'with-1', headers: { trace: 'abc', bin, nothing: null } },
      { topic: TOPIC, partition: 0, value: 'plain-2', headers: [] },
      { topic: TOPIC, partition: 0, value: 'with-3', headers: [{ key: 'dup', value: new TextEncoder().encode('a') }, { key: 'dup', value: new TextEncoder().encode('b') }] },
      { topic: TOPIC, partition: 0, value: 'plain-4', headers: {} },
    ]);

    const check = (records: readonly ConsumerRecord<string, string>[]): void => {
      expect(records.map((r) => r.value)).toEqual(['plain-0', 'with-1', 'plain-2', 'with-3', 'plain-4']);
      for (const r of [records[0]!, records[2]!, records[4]!]) {
        expect(r.headers.length).toBe(0);
        expect(Object.isFrozen(r.headers)).toBe(true);
        // Shared by every record without headers: the application cannot write into it.
        expect(() => (r.headers as unknown as unknown[]).push({ key: 'x', value: null })).toThrow(TypeError);
        expect(r.headers.length).toBe(0);
      }
      const h1 = records[1]!.headers;
      expect(h1.map((h) => h.key)).toEqual(['trace', 'bin', 'nothing']);
      expect(new TextDecoder().decode(h1[0]!.value!)).toBe('abc');
      expect([...h1[1]!.value!]).toEqual([0, 1, 2, 255]);
      expect(h1[2]!.value).toBeNull();
      const h3 = records[3]!.headers;
      expect(h3.map((h) => [h.key, new TextDecoder().decode(h.value!)])).toEqual([
        ['dup', 'a'],
        ['dup', 'b'],
      ]);
    };

    const viaBatches = env.consumer({ ...ONE_FETCH });
    viaBatches.assign([{ ...TP, offset: 0 }]);
    const batch = await nextValue(viaBatches.batches(), 'the batch');
    check(batch.records);
    await viaBatches.close();

    const viaRecords = env.consumer({ ...ONE_FETCH });
    viaRecords.assign([{ ...TP, offset: 0 }]);
    const it = viaRecords[Symbol.asyncIterator]();
    const records: ConsumerRecord<string, string>[] = [];
    for (let i = 0; i < 5; i++) records.push(await nextValue(it, `record ${i}`));
    check(records);
    // The missing headers of two records are one and the same frozen array (never a per-record copy).
    expect(records[0]!.headers).toBe(records[2]!.headers);
  });
});

describe('chunked decoding: read_committed over aborted transactions', () => {
  async function produceTransactions(env: Env, plan: { kind: 'commit' | 'abort'; count: number; tag: string }[]): Promise<void> {
    const tx = env.producer({ transactionalId: 'tx-chunks' });
    for (const step of plan) {
      await tx.beginTransaction();
      await tx.sendBatch(Array.from({ length: step.count }, (_, i) => ({ topic: TOPIC, partition: 0, value: `${step.tag}-${i}` })));
      if (step.kind === 'commit') await tx.commitTransaction();
      else await tx.abortTransaction();
    }
  }

  it('never hands out aborted records; after each chunk the position is past the aborted data and markers', { timeout: 20_000 }, async () => {
    const env = await openEnv();
    await produceTransactions(env, [
      { kind: 'commit', count: 3000, tag: 'c1' },
      { kind: 'abort', count: 2500, tag: 'ab' },
      { kind: 'commit', count: 1500, tag: 'c2' },
      { kind: 'abort', count: 700, tag: 'ab2' },
    ]);
    const layout = await storedLayout(env.broker);
    const end = layout.at(-1)!.lastOffset + 1;
    expect(end).toBe(3000 + 1 + 2500 + 1 + 1500 + 1 + 700 + 1);
    expect(env.broker.listOffsets(TOPIC, 0, -1, 1).offset).toBe(end);
    const c2Base = 3000 + 1 + 2500 + 1;

    const consumer = env.consumer({ ...ONE_FETCH, isolationLevel: 'read_committed' });
    consumer.assign([{ ...TP, offset: 0 }]);
    const it = consumer.batches();
    const first = await nextValue(it, 'the first committed chunk');
    expect(first.records.map((r) => r.value)).toEqual(range(0, 3000).map((i) => `c1-${i}`));
    // The next data in the fetched item is c2, past the aborted batch and both markers.
    expect(consumer.position(TP)).toBe(c2Base);
    const second = await nextValue(it, 'the second committed chunk');
    expect(second.records.map((r) => r.value)).toEqual(range(0, 1500).map((i) => `c2-${i}`));
    expect(offsetsOf(second.records)).toEqual(range(c2Base, c2Base + 1500));
    // The last chunk of the item ends the position past the trailing aborted data and its marker.
    expect(consumer.position(TP)).toBe(end);
  });

  it('the record iterator skips aborted data too and continues at the committed data after it', { timeout: 20_000 }, async () => {
    const env = await openEnv();
    await produceTransactions(env, [
      { kind: 'commit', count: 1000, tag: 'c1' },
      { kind: 'abort', count: 2500, tag: 'ab' },
      { kind: 'commit', count: 1500, tag: 'c2' },
    ]);
    const consumer = env.consumer({ ...ONE_FETCH, isolationLevel: 'read_committed' });
    consumer.assign([{ ...TP, offset: 0 }]);
    const it = consumer[Symbol.asyncIterator]();
    const values: string[] = [];
    let last: ConsumerRecord<string, string> | undefined;
    while (last?.value !== 'c2-1499') {
      last = await nextValue(it, 'committed records');
      values.push(last.value!);
      if (values.length > 2500) break;
    }
    expect(values).toEqual([...range(0, 1000).map((i) => `c1-${i}`), ...range(0, 1500).map((i) => `c2-${i}`)]);
    expect(last.offset).toBe(1000 + 1 + 2500 + 1 + 1499);
    expect(consumer.position(TP)).toBe(last.offset + 1);
  });

  it('over many small fetches the aborted records still never appear and the position reaches the end', { timeout: 20_000 }, async () => {
    const env = await openEnv();
    await produceTransactions(env, [
      { kind: 'commit', count: 500, tag: 'c1' },
      { kind: 'abort', count: 500, tag: 'ab' },
      { kind: 'commit', count: 500, tag: 'c2' },
      { kind: 'abort', count: 500, tag: 'ab2' },
      { kind: 'commit', count: 500, tag: 'c3' },
    ]);
    const end = (await storedLayout(env.broker)).at(-1)!.lastOffset + 1;
    // Small fetches: each answer holds about one stored batch.
    const consumer = env.consumer({ maxPartitionBytes: 1024, isolationLevel: 'read_committed' });
    consumer.assign([{ ...TP, offset: 0 }]);
    const it = consumer.batches();
    const records: ConsumerRecord<string, string>[] = [];
    while (records.at(-1)?.value !== 'c3-499') {
      records.push(...(await nextValue(it, 'committed records')).records);
      if (records.length > 1500) break;
    }
    expect(records.map((r) => r.value)).toEqual(['c1', 'c2', 'c3'].flatMap((tag) => range(0, 500).map((i) => `${tag}-${i}`)));
    // The last data record is followed only by its commit marker, which a later fetch may bring.
    expect(records.at(-1)!.offset).toBe(end - 2);
    expect(consumer.position(TP)).toBeGreaterThanOrEqual(end - 1);
    expect(consumer.position(TP)).toBeLessThanOrEqual(end);
  });
});
