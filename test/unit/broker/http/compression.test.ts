import { afterEach, describe, expect, it } from 'vitest';
import { isKafkaError } from '../../../../sdk/protocol/kafka-error.ts';
import { BATCH_HEADER_BYTES, BatchOffset, crc32c, RecordBatchBuilder, readRecordBatches } from '../../../../sdk/record/mod.ts';
import { IsolationLevel } from '../../../../broker/fetch/fetch-types.ts';
import { openTestApp, problemOf, type TestApp } from './http-test-support.ts';

let t: TestApp;
afterEach(() => t.close());

/** The compression attribute of every batch stored in `topic`-0. */
async function storedCompressions(topic: string): Promise<number[]> {
  const [result] = await t.broker.fetch({
    partitions: [{ topic, partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }],
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1 << 20,
    isolationLevel: IsolationLevel.readUncommitted,
  });
  return [...readRecordBatches(result!.records)].map((b) => b.compression);
}

async function createTopic(name: string, config: Record<string, string> = {}): Promise<void> {
  expect((await t.request('/v1/topics', { json: { name, partitions: 1, config } })).status).toBe(201);
}

const records = { records: Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: { n: i, text: 'compressible '.repeat(20) }, partition: 0 })) };

describe('compression over the HTTP API', () => {
  it('writes the codec the request asks for when the topic says producer, uncompressed when it asks for none, and reads every codec back', async () => {
    t = await openTestApp();
    await createTopic('events');
    const queries = ['', '?compression=none', '?compression=gzip', '?compression=snappy', '?compression=lz4', '?compression=zstd'];
    for (const query of queries) expect((await t.request(`/v1/topics/events/records${query}`, { json: records })).status).toBe(200);
    expect(await storedCompressions('events')).toEqual([0, 0, 1, 2, 3, 4]);
    const read = await (await t.request('/v1/topics/events/partitions/0/records?limit=1000')).json();
    expect(read.records.length).toBe(120);
    expect(read.records.map((r: { value: { n: number } }) => r.value.n)).toEqual(queries.flatMap(() => records.records.map((r) => r.value.n)));
  });

  it("lets a topic's compression.type override the request, with Kafka's names", async () => {
    t = await openTestApp();
    await createTopic('zstd-topic', { 'compression.type': 'zstd' });
    await createTopic('plain-topic', { 'compression.type': 'uncompressed' });
    await createTopic('lz4-topic', { 'compression.type': 'lz4' });
    expect((await t.request('/v1/topics/zstd-topic/records?compression=gzip', { json: records })).status).toBe(200);
    expect((await t.request('/v1/topics/plain-topic/records?compression=snappy', { json: records })).status).toBe(200);
    expect((await t.request('/v1/topics/lz4-topic/records', { json: records })).status).toBe(200);
    expect(await storedCompressions('zstd-topic')).toEqual([4]);
    expect(await storedCompressions('plain-topic')).toEqual([0]);
    expect(await storedCompressions('lz4-topic')).toEqual([3]);
    const config = await (await t.request('/v1/topics/lz4-topic')).json();
    expect(config.configs).toContainEqual({ name: 'compression.type', value: 'lz4', isDefault: false });
    expect((await t.request('/v1/topics/lz4-topic/config', { method: 'PATCH', json: { 'compression.type': 'producer' } })).status).toBe(200);
    expect((await t.request('/v1/topics/lz4-topic/records?compression=snappy', { json: records })).status).toBe(200);
    expect(await storedCompressions('lz4-topic')).toEqual([3, 2]);
  });

  it('refuses unknown codec names in the request and in compression.type', async () => {
    t = await openTestApp();
    await createTopic('events');
    const bad = await problemOf(await t.request('/v1/topics/events/records?compression=brotli', { json: records }));
    expect(bad).toMatchObject({ status: 400, detail: 'compression must be one of none, gzip, snappy, lz4, zstd, got "brotli"' });
    const badConfig = await problemOf(await t.request('/v1/topics', { json: { name: 'x', partitions: 1, config: { 'compression.type': 'brotli' } } }));
    expect(badConfig.status).toBe(400);
    expect(badConfig.detail).toContain('compression.type must be one of producer, uncompressed, gzip, snappy, lz4, zstd, got "brotli"');
  });

  it('answers a stored batch it cannot decode with a corrupt-records problem naming the offsets and the codec', async () => {
    t = await openTestApp();
    await createTopic('events');
    expect((await t.request('/v1/topics/events/records', { json: { records: [{ value: 'fine', partition: 0 }] } })).status).toBe(200);
    // A client's lz4 batch whose records are garbage, under a valid CRC: the broker stores it as sent.
    const builder = new RecordBatchBuilder({ compression: 'lz4' });
    builder.append({ value: new TextEncoder().encode('x'.repeat(100)), timestamp: 1 });
    builder.append({ value: new TextEncoder().encode('y'), timestamp: 1 });
    const batch = builder.seal();
    batch.fill(0x55, BATCH_HEADER_BYTES + 7);
    new DataView(batch.buffer, batch.byteOffset).setUint32(BatchOffset.crc, crc32c(batch, BatchOffset.attributes, batch.length));
    await t.broker.append('events', 0, batch);
    const first = await (await t.request('/v1/topics/events/partitions/0/records?limit=1')).json();
    expect(first.records.map((r: { value: unknown }) => r.value)).toEqual(['fine']);
    const problem = await problemOf(await t.request('/v1/topics/events/partitions/0/records?offset=1'));
    expect(problem).toMatchObject({ status: 500, type: 'https://rill.dev/problems/corrupt-records', kafkaError: 'CORRUPT_MESSAGE' });
    expect(problem.detail).toMatch(/^the records at events-0 offsets 1 to 2 \(a lz4 batch\) cannot be read: CORRUPT_MESSAGE: lz4 records cannot be decompressed: /);
  });

  it('refuses on produce a batch whose compression value names no codec, so none is ever stored', async () => {
    t = await openTestApp();
    await createTopic('events');
    const builder = new RecordBatchBuilder();
    builder.append({ value: new Uint8Array([1]), timestamp: 1 });
    const batch = builder.seal();
    const dv = new DataView(batch.buffer, batch.byteOffset);
    dv.setInt16(BatchOffset.attributes, 5);
    dv.setUint32(BatchOffset.crc, crc32c(batch, BatchOffset.attributes, batch.length));
    const error = await t.broker.append('events', 0, batch).catch((e: unknown) => e);
    expect(isKafkaError(error, 'UNSUPPORTED_COMPRESSION_TYPE')).toBe(true);
    expect((error as Error).message).toContain('compression type 5 is not a Kafka codec');
  });
});
