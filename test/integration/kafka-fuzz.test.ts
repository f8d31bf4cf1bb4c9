import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey } from '../../sdk/protocol/mod.ts';
import { readBatchHeader } from '../../sdk/record/mod.ts';
import { type BrokerProcess, startBrokerProcess } from '../helpers/broker-process.ts';
import { correlationIds, drawCase, type FuzzCase, type FuzzCaseKind, hex } from '../helpers/fuzz-cases.ts';
import { FuzzConnection } from '../helpers/fuzz-connection.ts';
import { sizePrefixed } from '../helpers/fuzz-mutators.ts';
import { FuzzRandom } from '../helpers/fuzz-random.ts';
import { processRssBytes } from '../helpers/fuzz-rss.ts';
import { buildBatch, buildSeedFrames, type SeedTopics } from '../helpers/fuzz-seeds.ts';
import { RawKafkaClient } from '../helpers/raw-kafka-client.ts';
import { fetchPartitionsRequest } from '../helpers/read-partition.ts';

/**
 * Sends 100,000 random and mutated frames (RILL_FUZZ_FRAMES overrides) at a broker process and checks that it survives: it never exits, its resident
 * memory stays bounded, no data is appended, and a well-formed client keeps working throughout.
 * RILL_FUZZ_SEED replays a run; the seed is printed either way.
 */
const FRAMES = Number(process.env['RILL_FUZZ_FRAMES'] ?? 100_000);
const SEED = Number(process.env['RILL_FUZZ_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const WORKERS = 16;
const RSS_BOUND_BYTES = 400 * 1024 * 1024;
/** The broker's default `maxRequestBytes` (broker/kafka/kafka-server.ts). */
const MAX_REQUEST_BYTES = 100 * 1024 * 1024;
const TOPICS: SeedTopics = { target: 'fuzz-target', targetPartitions: 2, scratchPrefix: 'zq9-' };
const CLEAN_TOPIC = 'fuzz-clean';
const UNEXPECTED_ERROR = /invariant|TypeError|RangeError|ReferenceError|Cannot read|is not a function|undefined|Maximum call stack|out of memory/i;

let broker: BrokerProcess;
const inFlight = new Map<number, FuzzCase>();

beforeAll(async () => {
  broker = await startBrokerProcess({ runtime: 'node' });
});

afterAll(async () => {
  for (const [worker, fuzzCase] of inFlight) {
    console.log(`fuzz worker ${worker} was still waiting on a ${fuzzCase.kind} case (seed ${SEED}): ${hex(fuzzCase.bytes)}`);
  }
  await broker?.dispose();
});

interface Watermarks {
  highWatermark: bigint;
  logStartOffset: bigint;
}

async function watermarks(client: RawKafkaClient, topic: string, partitions: number): Promise<Watermarks[]> {
  const listed = await client.request(ApiKey.ListOffsets, 6, {
    replicaId: -1,
    isolationLevel: 0,
    topics: [{ name: topic, partitions: Array.from({ length: partitions }, (_, p) => ({ partitionIndex: p, currentLeaderEpoch: -1, timestamp: -1n, maxNumOffsets: 1 })) }],
    timeoutMs: 0,
  });
  const fetched = await client.request(ApiKey.Fetch, 11, fetchPartitionsRequest(topic, Array.from({ length: partitions }, (_, p) => ({ partition: p, fetchOffset: 0n })), FETCH_LIMITS));
  return Array.from({ length: partitions }, (_, p) => {
    const latest = listed.topics[0]!.partitions[p]!;
    const data = fetched.responses[0]!.partitions[p]!;
    expect(latest.errorCode).toBe(0);
    expect(data.errorCode).toBe(0);
    expect(data.highWatermark).toBe(latest.offset);
    return { highWatermark: data.highWatermark, logStartOffset: data.logStartOffset };
  });
}

/** Every topic but `skip` whose latest offset is above 0 in some partition: fuzzed requests may create topics, never fill them. */
async function nonEmptyTopics(client: RawKafkaClient, skip: ReadonlySet<string>): Promise<{ topics: number; nonEmpty: string[] }> {
  const metadata = await client.request(ApiKey.Metadata, 1, { topics: null, allowAutoTopicCreation: true, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false });
  const topics = metadata.topics.filter((t) => t.name !== null && !skip.has(t.name));
  if (topics.length === 0) return { topics: 0, nonEmpty: [] };
  const listed = await client.request(ApiKey.ListOffsets, 6, {
    replicaId: -1,
    isolationLevel: 0,
    topics: topics.map((t) => ({ name: t.name!, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, currentLeaderEpoch: -1, timestamp: -1n, maxNumOffsets: 1 })) })),
    timeoutMs: 0,
  });
  const nonEmpty = listed.topics.filter((t) => t.partitions.some((p) => p.errorCode !== 0 || p.offset !== 0n)).map((t) => t.name);
  return { topics: topics.length, nonEmpty };
}

const FETCH_LIMITS = { maxBytes: 16 * 1024 * 1024, partitionMaxBytes: 8 * 1024 * 1024 };

function produceBody(topic: string, partition: number, records: Uint8Array) {
  return { transactionalId: null, acks: -1, timeoutMs: 30_000, topicData: [{ name: topic, partitionData: [{ index: partition, records }] }] };
}

async function createTopic(client: RawKafkaClient, name: string, partitions: number, advertised: Set<number>): Promise<void> {
  if (advertised.has(ApiKey.CreateTopics)) {
    const created = await client.request(ApiKey.CreateTopics, 4, {
      topics: [{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 10_000,
      validateOnly: false,
    });
    expect(created.topics[0]!.errorCode).toBe(0);
    return;
  }
  // Without CreateTopics, topics come from Metadata auto-creation with the broker's default partition count.
  const metadata = await client.request(ApiKey.Metadata, 4, { topics: [{ topicId: '00000000-0000-0000-0000-000000000000', name }], allowAutoTopicCreation: true, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false });
  expect(metadata.topics[0]!.errorCode).toBe(0);
}

/** A well-formed client on its own connection: Produce acks=-1 then Fetch, until `stop` resolves. */
async function cleanClientLoop(port: number, stopped: () => boolean): Promise<{ rounds: number; records: number }> {
  const client = await RawKafkaClient.connect(port);
  try {
    let expectedOffset = 0n;
    let rounds = 0;
    while (!stopped() || rounds === 0) {
      const recordsCount = 1 + (rounds % 7);
      const produced = await client.request(ApiKey.Produce, 7, produceBody(CLEAN_TOPIC, 0, buildBatch(recordsCount, rounds)));
      const partition = produced.responses[0]!.partitionResponses[0]!;
      expect(partition.errorCode).toBe(0);
      expect(partition.baseOffset).toBe(expectedOffset);
      const fetched = await client.request(ApiKey.Fetch, 11, fetchPartitionsRequest(CLEAN_TOPIC, [{ partition: 0, fetchOffset: expectedOffset }], FETCH_LIMITS));
      const data = fetched.responses[0]!.partitions[0]!;
      expect(data.errorCode).toBe(0);
      expect(data.highWatermark).toBe(expectedOffset + BigInt(recordsCount));
      const header = readBatchHeader(data.records!, 0);
      expect(header.baseOffset).toBe(Number(expectedOffset));
      expect(header.recordsCount).toBe(recordsCount);
      expectedOffset += BigInt(recordsCount);
      rounds++;
    }
    return { rounds, records: Number(expectedOffset) };
  } finally {
    client.close();
  }
}

describe('Kafka listener under fuzzed input', () => {
  it(`survives ${FRAMES.toLocaleString('en')} random and mutated frames`, { timeout: 600_000 }, async () => {
    console.log(`kafka fuzz: seed ${SEED} (replay with RILL_FUZZ_SEED=${SEED}), ${FRAMES} frames, ${WORKERS} workers`);
    const pid = broker.process.child.pid!;
    let exited = false;
    void broker.process.exit().then(() => (exited = true));

    const admin = await RawKafkaClient.connect(broker.port);
    const versions = await admin.request(ApiKey.ApiVersions, 3, { clientSoftwareName: 'rill-fuzz', clientSoftwareVersion: '1' });
    expect(versions.errorCode).toBe(0);
    const advertisedKeys = new Set(versions.apiKeys.map((a) => a.apiKey));
    for (const key of [ApiKey.ApiVersions, ApiKey.Metadata, ApiKey.Produce, ApiKey.Fetch, ApiKey.ListOffsets]) expect(advertisedKeys).toContain(key);

    await createTopic(admin, TOPICS.target, TOPICS.targetPartitions, advertisedKeys);
    await createTopic(admin, CLEAN_TOPIC, 1, advertisedKeys);
    const metadata = await admin.request(ApiKey.Metadata, 4, { topics: [{ topicId: '00000000-0000-0000-0000-000000000000', name: TOPICS.target }], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false });
    const targetPartitions = metadata.topics[0]!.partitions.length;
    const topics = { ...TOPICS, targetPartitions };
    for (let p = 0; p < targetPartitions; p++) {
      for (let b = 0; b < 3; b++) {
        const produced = await admin.request(ApiKey.Produce, 7, produceBody(TOPICS.target, p, buildBatch(5, b)));
        expect(produced.responses[0]!.partitionResponses[0]!.errorCode).toBe(0);
      }
    }
    const before = await watermarks(admin, TOPICS.target, targetPartitions);
    expect(before.every((w) => w.highWatermark === 15n)).toBe(true);

    const { seeds, missing } = buildSeedFrames(versions.apiKeys, topics);
    expect(missing).toEqual([]);
    const produceSeeds = seeds.filter((s) => s.apiKey === ApiKey.Produce);
    const mutating = new Set<number>([ApiKey.Produce, ApiKey.CreateTopics, ApiKey.DeleteTopics, ApiKey.CreatePartitions]);
    const harmlessSeeds = seeds.filter((s) => !mutating.has(s.apiKey));
    const ctx = { seeds, produceSeeds, harmlessSeeds, maxRequestBytes: MAX_REQUEST_BYTES, protectedTopics: new Set([TOPICS.target, CLEAN_TOPIC]) };
    console.log(`kafka fuzz: ${seeds.length} seed frames over apis ${[...advertisedKeys].sort((a, b) => a - b).join(',')}`);

    let maxRss = processRssBytes(pid) ?? 0;
    const sampleRss = (): void => {
      const rss = processRssBytes(pid);
      if (rss !== undefined) maxRss = Math.max(maxRss, rss);
    };
    const sampler = setInterval(sampleRss, 100);

    let fuzzDone = false;
    const clean = cleanClientLoop(broker.port, () => fuzzDone);

    // A frame of exactly the maximum request size, and one byte past it, each on its own connection.
    const maxFrame = sizePrefixed(new Uint8Array(MAX_REQUEST_BYTES).fill(0xa5));
    await (await FuzzConnection.open(broker.port)).sendAndClose(maxFrame);
    sampleRss();
    await (await FuzzConnection.open(broker.port)).sendAndClose(sizePrefixed(new Uint8Array(1024), MAX_REQUEST_BYTES + 1));

    const counts = new Map<FuzzCaseKind | 'closedByBroker' | 'answeredOnly' | 'connections' | 'unsafeSkipped', number>();
    const bump = (key: Parameters<typeof counts.get>[0], n = 1): void => void counts.set(key, (counts.get(key) ?? 0) + n);
    const failures: string[] = [];
    const started = performance.now();
    const quota = Math.ceil(FRAMES / WORKERS);

    const worker = async (index: number): Promise<number> => {
      const rng = new FuzzRandom((SEED + index * 0x9e3779b1) >>> 0);
      let sent = 0;
      let connection: FuzzConnection | undefined;
      while (sent < quota && failures.length === 0 && !exited) {
        const fuzzCase = drawCase(rng, ctx);
        if (fuzzCase === undefined) {
          bump('unsafeSkipped');
          continue;
        }
        if (connection === undefined || connection.closed) {
          connection = await FuzzConnection.open(broker.port);
          bump('connections');
        }
        inFlight.set(index, fuzzCase);
        bump(fuzzCase.kind);
        if (fuzzCase.path === 'close') {
          await connection.sendAndClose(fuzzCase.bytes);
        } else {
          const answeredBefore = connection.responses;
          const outcome = await connection.sendWithSentinel(fuzzCase.bytes, correlationIds(fuzzCase.bytes), fuzzCase.chunkBytes);
          bump(outcome === 'closed' ? 'closedByBroker' : 'answeredOnly');
          if (fuzzCase.mustAnswer && (outcome !== 'answered' || connection.responses !== answeredBefore + fuzzCase.frames)) {
            failures.push(`a valid ${fuzzCase.kind} frame was not answered (${outcome}): ${hex(fuzzCase.bytes)}`);
          }
          if (rng.chance(0.02)) connection.destroy();
        }
        inFlight.delete(index);
        sent += fuzzCase.frames;
        if (sent % 256 < fuzzCase.frames) sampleRss();
      }
      connection?.destroy();
      return sent;
    };
    const sent = (await Promise.all(Array.from({ length: WORKERS }, (_, i) => worker(i)))).reduce((a, b) => a + b, 0);
    const fuzzSeconds = (performance.now() - started) / 1000;
    fuzzDone = true;
    const cleanResult = await clean;
    clearInterval(sampler);
    sampleRss();

    const after = await watermarks(admin, TOPICS.target, targetPartitions);
    const appendedElsewhere = await nonEmptyTopics(admin, new Set([TOPICS.target, CLEAN_TOPIC]));
    const stillAnswers = await admin.request(ApiKey.ApiVersions, 3, { clientSoftwareName: 'rill-fuzz', clientSoftwareVersion: '1' });
    admin.close();

    const errorLines = broker.process.stderr.split('\n').filter((line) => line.length > 0);
    const unexpected = errorLines.filter((line) => UNEXPECTED_ERROR.test(line));
    const kinds = new Map<string, number>();
    for (const line of errorLines) {
      const kind = line.replace(/^rill: closed connection from [^:]+:\d+: /, '').replace(/-?\d+/g, 'N').slice(0, 90);
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
    console.log(
      `kafka fuzz: ${sent} frames in ${fuzzSeconds.toFixed(1)} s (${Math.round(sent / fuzzSeconds)}/s), broker max RSS ${(maxRss / 1e6).toFixed(1)} MB, ` +
        `clean client ${cleanResult.rounds} rounds (${cleanResult.records} records), ${appendedElsewhere.topics} other topics exist (all empty: ${appendedElsewhere.nonEmpty.length === 0})\n  cases: ${JSON.stringify(Object.fromEntries(counts))}\n` +
        `  broker errors by kind (${kinds.size} kinds):\n    ${[...kinds].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${n} × ${k}`).join('\n    ')}`,
    );

    expect(failures).toEqual([]);
    expect(exited).toBe(false);
    expect(stillAnswers.errorCode).toBe(0);
    expect(sent).toBeGreaterThanOrEqual(FRAMES);
    expect(maxRss).toBeGreaterThan(0);
    expect(maxRss).toBeLessThan(RSS_BOUND_BYTES);
    expect(after).toEqual(before);
    expect(appendedElsewhere.nonEmpty).toEqual([]);
    expect(cleanResult.rounds).toBeGreaterThan(0);
    expect(unexpected.slice(0, 10)).toEqual([]);
  });
});
