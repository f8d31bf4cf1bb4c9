import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { ApiKey, decodeResponse, encodeRequest, type FetchRequest, type ProduceRequest, ZERO_UUID } from '../../sdk/protocol/mod.ts';
import { ErrorCode } from '../../sdk/protocol/error-codes.ts';
import { RecordBatchBuilder, readRecordBatches } from '../../sdk/record/mod.ts';
import { type BrokerProcess, startBrokerProcess } from '../helpers/broker-process.ts';
import { RawKafkaClient } from '../helpers/raw-kafka-client.ts';
import { fetchRequest } from '../helpers/read-partition.ts';

let broker: BrokerProcess;
const clients: RawKafkaClient[] = [];

async function client(): Promise<RawKafkaClient> {
  const c = await RawKafkaClient.connect(broker.port);
  clients.push(c);
  return c;
}

beforeAll(async () => {
  broker = await startBrokerProcess();
  const admin = await client();
  // Metadata auto-creates; the topics these tests use get one partition each.
  await admin.request(ApiKey.Metadata, 6, {
    topics: ['events', 'bounded', 'pipelined', 'long-poll', 'by-id', 'max-ts'].map((name) => ({ name, topicId: '' })),
    allowAutoTopicCreation: true,
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: false,
  });
});

afterAll(async () => {
  for (const c of clients) c.close();
  await broker.dispose();
});

const encoder = new TextEncoder();

function batch(values: string[]): Uint8Array {
  const builder = new RecordBatchBuilder({});
  for (const value of values) builder.append({ key: null, value: encoder.encode(value), headers: [] });
  return builder.seal();
}

function produce(topic: string, records: Uint8Array | null, acks = -1): ProduceRequest {
  return { transactionalId: null, acks, timeoutMs: 30_000, topicData: [{ name: topic, partitionData: [{ index: 0, records }] }] };
}

function fetch(topic: string, fetchOffset: bigint, options: Parameters<typeof fetchRequest>[3] = {}): FetchRequest {
  return fetchRequest(topic, 0, fetchOffset, options);
}

function produceError(response: { responses: { partitionResponses: { errorCode: number }[] }[] }): number {
  return response.responses[0]!.partitionResponses[0]!.errorCode;
}

describe('Kafka protocol against the broker process', () => {
  it('answers ApiVersions at every version it advertises and probes above it with a v0-framed error 35', async () => {
    const c = await client();
    for (let version = 0; version <= 4; version++) {
      const response = await c.request(ApiKey.ApiVersions, version, { clientSoftwareName: 'test', clientSoftwareVersion: '1' });
      expect(response.errorCode).toBe(0);
      expect(response.apiKeys.map((k) => k.apiKey)).toEqual(expect.arrayContaining([0, 1, 2, 3, 18]));
    }
    // ApiVersions v9 with a flexible (v2) request header: key, version, correlation id, client id, empty tag section.
    const probe = Uint8Array.from([0, 18, 0, 9, 0, 0, 0, 77, 0, 4, 0x74, 0x65, 0x73, 0x74, 0, 0, 0]);
    const reply = decodeResponse(ApiKey.ApiVersions, 0, await c.sendFrame(probe));
    expect(reply.correlationId).toBe(77);
    expect(reply.body.errorCode).toBe(ErrorCode.UNSUPPORTED_VERSION);
    const apiVersions = reply.body.apiKeys.find((k) => k.apiKey === ApiKey.ApiVersions)!;
    expect(apiVersions).toEqual({ apiKey: 18, minVersion: 0, maxVersion: 4 });
  });

  it('closes the connection on an API it does not advertise', async () => {
    const c = await client();
    await expect(
      // A single-node broker has no leaders to elect.
      c.request(ApiKey.ElectLeaders, 1, { electionType: 0, topicPartitions: null, timeoutMs: 1000 }),
    ).rejects.toThrow(/closed/);
  });

  it('gives per-partition error codes for unknown topics, bad CRCs, oversized batches, bad acks and missing records', async () => {
    const c = await client();
    expect(produceError(await c.request(ApiKey.Produce, 7, produce('no-such-topic', batch(['x']))))).toBe(
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    );
    const corrupt = batch(['a', 'b']);
    corrupt[corrupt.length - 2]! ^= 0x55;
    expect(produceError(await c.request(ApiKey.Produce, 7, produce('events', corrupt)))).toBe(ErrorCode.CORRUPT_MESSAGE);
    const huge = batch(['h'.repeat(1_100_000)]);
    expect(produceError(await c.request(ApiKey.Produce, 7, produce('events', huge)))).toBe(ErrorCode.MESSAGE_TOO_LARGE);
    expect(produceError(await c.request(ApiKey.Produce, 7, produce('events', batch(['a']), 2)))).toBe(ErrorCode.INVALID_REQUIRED_ACKS);
    expect(produceError(await c.request(ApiKey.Produce, 7, produce('events', null)))).toBe(ErrorCode.INVALID_RECORD);
    const offsets = await c.request(ApiKey.ListOffsets, 3, {
      replicaId: -1,
      isolationLevel: 0,
      topics: [{ name: 'events', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n, maxNumOffsets: 1 }] }],
      timeoutMs: 0,
    });
    expect(offsets.topics[0]!.partitions[0]!.offset).toBe(0n);
  });

  it('serves a fetch offset inside a batch with the whole batch, and OFFSET_OUT_OF_RANGE past the end', async () => {
    const c = await client();
    const written = await c.request(ApiKey.Produce, 7, produce('bounded', batch(['r0', 'r1', 'r2', 'r3'])));
    expect(written.responses[0]!.partitionResponses[0]!.baseOffset).toBe(0n);
    const inside = await c.request(ApiKey.Fetch, 11, fetch('bounded', 2n));
    const partition = inside.responses[0]!.partitions[0]!;
    expect(partition.highWatermark).toBe(4n);
    const batches = [...readRecordBatches(partition.records!)];
    expect(batches).toHaveLength(1);
    expect(batches[0]!.baseOffset).toBe(0);
    const beyond = await c.request(ApiKey.Fetch, 11, fetch('bounded', 5n));
    expect(beyond.responses[0]!.partitions[0]!.errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
    const session = await c.request(ApiKey.Fetch, 11, fetch('bounded', 0n, { sessionId: 1234, sessionEpoch: 3 }));
    expect(session.errorCode).toBe(ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
  });

  it('serves Fetch v13 to v17 by topic id, and answers an unknown topic id at once with UNKNOWN_TOPIC_ID', async () => {
    const c = await client();
    await c.request(ApiKey.Produce, 7, produce('by-id', batch(['a', 'b'])));
    const metadata = await c.request(ApiKey.Metadata, 12, {
      topics: [{ topicId: ZERO_UUID, name: 'by-id' }],
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
    const topicId = metadata.topics[0]!.topicId;
    expect(topicId).not.toBe(ZERO_UUID);
    for (const version of [13, 14, 15, 16, 17]) {
      const request = fetch('', 0n);
      request.topics[0]!.topicId = topicId;
      const response = await c.request(ApiKey.Fetch, version, request);
      expect(response.responses[0]!.topicId).toBe(topicId);
      const partition = response.responses[0]!.partitions[0]!;
      expect(partition.errorCode).toBe(0);
      expect([...readRecordBatches(partition.records!)].map((b) => b.lastOffset)).toEqual([1]);
    }
    // A long poll of 5 minutes: answered at once (the test's timeout would end it otherwise).
    const unknown = fetch('', 0n, { maxWaitMs: 300_000, minBytes: 1 });
    unknown.topics[0]!.topicId = randomUUID();
    const response = await c.request(ApiKey.Fetch, 17, unknown);
    expect(response.responses[0]!.partitions[0]!.errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_ID);
  });

  it('answers ListOffsets v7 to v10: max timestamp (-3), earliest local (-4) and latest tiered (-5, none)', async () => {
    const c = await client();
    const builder = new RecordBatchBuilder({});
    for (const [value, timestamp] of [['old', 5_000], ['newest', 9_000], ['late', 7_000]] as const) {
      builder.append({ key: null, value: encoder.encode(value), headers: [], timestamp });
    }
    expect(produceError(await c.request(ApiKey.Produce, 7, produce('max-ts', builder.seal())))).toBe(0);
    const list = (version: number, timestamp: bigint) =>
      c
        .request(ApiKey.ListOffsets, version, {
          replicaId: -1,
          isolationLevel: 0,
          topics: [{ name: 'max-ts', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp, maxNumOffsets: 1 }] }],
          timeoutMs: 0,
        })
        .then((r) => r.topics[0]!.partitions[0]!);
    for (const version of [7, 8, 9, 10]) {
      expect(await list(version, -3n)).toMatchObject({ errorCode: 0, offset: 1n, timestamp: 9_000n });
    }
    expect(await list(8, -4n)).toMatchObject({ errorCode: 0, offset: 0n });
    expect(await list(9, -5n)).toMatchObject({ errorCode: 0, offset: -1n });
  });

  it('answers pipelined requests in order and sends nothing for acks=0', async () => {
    const c = await client();
    const requests = Array.from({ length: 20 }, (_, i) =>
      i % 3 === 0
        ? c.request(ApiKey.Metadata, 6, { topics: null, allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false })
        : c.request(ApiKey.Produce, 7, produce('pipelined', batch([`p${i}`]))),
    );
    const responses = await Promise.all(requests);
    const offsets = responses.filter((r) => 'responses' in r).map((r) => (r as { responses: { partitionResponses: { baseOffset: bigint }[] }[] }).responses[0]!.partitionResponses[0]!.baseOffset);
    expect(offsets).toEqual(offsets.map((_, i) => BigInt(i)));

    c.writeFrame(encodeRequest(ApiKey.Produce, 7, { correlationId: 999, clientId: null }, produce('pipelined', batch(['fire-and-forget']), 0)));
    const after = await c.request(ApiKey.Fetch, 11, fetch('pipelined', BigInt(offsets.length), { maxWaitMs: 10_000, minBytes: 1 }));
    const values = [...readRecordBatches(after.responses[0]!.partitions[0]!.records!)].flatMap((b) => [...b.records()]);
    expect(new TextDecoder().decode(values[0]!.value!)).toBe('fire-and-forget');
  });

  it('parks a fetch until another connection produces', async () => {
    const consumer = await client();
    const producer = await client();
    const parked = consumer.request(ApiKey.Fetch, 11, fetch('long-poll', 0n, { maxWaitMs: 60_000, minBytes: 1 }));
    await producer.request(ApiKey.Produce, 7, produce('long-poll', batch(['wake up'])));
    const woken = await parked;
    expect(woken.responses[0]!.partitions[0]!.highWatermark).toBe(1n);
    expect(woken.responses[0]!.partitions[0]!.records!.byteLength).toBeGreaterThan(0);
  });
});
