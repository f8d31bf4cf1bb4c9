import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Broker } from '../../broker/mod.ts';
import { KafkaListener } from '../../broker/kafka/kafka-listener.ts';
import { Admin, Consumer, Producer, TcpTransport, type Transport } from '../../sdk/mod.ts';
import { ApiKey, type RequestBodies, REQUEST_CODECS, type ResponseBodies, Writer } from '../../sdk/protocol/mod.ts';
import type { SendOptions } from '../../sdk/transport/transport.ts';
import { adminGroupStep } from '../runtime/sdk-group-scenario.ts';
import { runSdkScenario } from '../runtime/sdk-scenario.ts';
import '../helpers/promise-with-resolvers.ts';

const platformatic = (await import('@platformatic/kafka')) as unknown as Record<string, { createRequest(...args: unknown[]): { buffer: Buffer } }>;

/** A transport that remembers every request body the clients send, by API and version. */
class RecordingTransport implements Transport {
  readonly sent = new Map<string, { apiKey: ApiKey; version: number; bodies: unknown[] }>();
  constructor(private readonly inner: Transport) {}
  private record(apiKey: ApiKey, version: number, body: unknown): void {
    const key = `${apiKey}:${version}`;
    const entry = this.sent.get(key) ?? { apiKey, version, bodies: [] };
    // A few samples per API and version are enough; keep the recording bounded.
    if (entry.bodies.length < 5) entry.bodies.push(structuredClone(body));
    this.sent.set(key, entry);
  }
  apiVersion(apiKey: ApiKey, nodeId?: number) {
    return this.inner.apiVersion(apiKey, nodeId);
  }
  supports(apiKey: ApiKey, nodeId?: number) {
    return this.inner.supports(apiKey, nodeId);
  }
  send<K extends ApiKey>(apiKey: K, version: number, body: RequestBodies[K], options?: SendOptions): Promise<ResponseBodies[K]> {
    this.record(apiKey, version, body);
    return this.inner.send(apiKey, version, body, options);
  }
  sendWithoutResponse<K extends ApiKey>(apiKey: K, version: number, body: RequestBodies[K], options?: SendOptions): Promise<void> {
    this.record(apiKey, version, body);
    return this.inner.sendWithoutResponse(apiKey, version, body, options);
  }
  releaseLane(lane: string) {
    return this.inner.releaseLane?.(lane) ?? Promise.resolve();
  }
  brokers() {
    return this.inner.brokers();
  }
  close() {
    return this.inner.close();
  }
}

// Request bodies are mapped field by field into platformatic's positional, untyped arguments.
type Body = any;
/**
 * Our request body → @platformatic/kafka's `createRequest` arguments for the same request. Produce
 * is not here: platformatic builds the record batch itself from messages (its own timestamps,
 * attributes and compression), so its bytes differ by construction; our batches are checked
 * against kafkajs reading them in the interop tests.
 */
const TO_PLATFORMATIC: Partial<Record<ApiKey, (b: Body) => unknown[]>> = {
  [ApiKey.Metadata]: (b) => [b.topics === null ? null : b.topics.map((t: Body) => t.name), b.allowAutoTopicCreation, b.includeTopicAuthorizedOperations],
  [ApiKey.Fetch]: (b) => [
    b.maxWaitMs,
    b.minBytes,
    b.maxBytes,
    b.isolationLevel,
    b.sessionId,
    b.sessionEpoch,
    b.topics.map((t: Body) => ({ topicId: t.topic, partitions: t.partitions })),
    // Platformatic names a topic by `topicId ?? topic` whatever the version; up to v12 the name goes on the wire.
    b.forgottenTopicsData.map((t: Body) => ({ topicId: t.topic, partitions: t.partitions })),
    b.rackId,
  ],
  [ApiKey.ListOffsets]: (b) => [b.replicaId, b.isolationLevel, b.topics],
  [ApiKey.CreateTopics]: (b) => [b.topics, b.timeoutMs, b.validateOnly],
  [ApiKey.DeleteTopics]: (b) => [b.topicNames.map((name: string) => ({ name })), b.timeoutMs],
  [ApiKey.CreatePartitions]: (b) => [b.topics, b.timeoutMs, b.validateOnly],
  [ApiKey.DescribeConfigs]: (b) => [b.resources, b.includeSynonyms, b.includeDocumentation],
  [ApiKey.IncrementalAlterConfigs]: (b) => [b.resources, b.validateOnly],
  [ApiKey.FindCoordinator]: (b) => [b.keyType, b.coordinatorKeys],
  [ApiKey.JoinGroup]: (b) => [b.groupId, b.sessionTimeoutMs, b.rebalanceTimeoutMs, b.memberId, b.groupInstanceId, b.protocolType, b.protocols, b.reason],
  [ApiKey.SyncGroup]: (b) => [b.groupId, b.generationId, b.memberId, b.groupInstanceId, b.protocolType, b.protocolName, b.assignments],
  [ApiKey.Heartbeat]: (b) => [b.groupId, b.generationId, b.memberId, b.groupInstanceId],
  [ApiKey.LeaveGroup]: (b) => [b.groupId, b.members],
  [ApiKey.OffsetCommit]: (b) => [b.groupId, b.generationIdOrMemberEpoch, b.memberId, b.groupInstanceId, b.topics],
  [ApiKey.OffsetFetch]: (b) => [[{ groupId: b.groupId, memberId: null, memberEpoch: -1, topics: b.topics }], b.requireStable],
  [ApiKey.DescribeGroups]: (b) => [b.groups, b.includeAuthorizedOperations],
  [ApiKey.ListGroups]: (b) => [b.statesFilter, b.typesFilter],
  [ApiKey.DeleteGroups]: (b) => [b.groupsNames],
  [ApiKey.InitProducerId]: (b) => [b.transactionalId, b.transactionTimeoutMs, b.producerId, b.producerEpoch],
  [ApiKey.AddPartitionsToTxn]: (b) => [
    [{ transactionalId: b.v3AndBelowTransactionalId, producerId: b.v3AndBelowProducerId, producerEpoch: b.v3AndBelowProducerEpoch, topics: b.v3AndBelowTopics }],
  ],
  [ApiKey.AddOffsetsToTxn]: (b) => [b.transactionalId, b.producerId, b.producerEpoch, b.groupId],
  [ApiKey.EndTxn]: (b) => [b.transactionalId, b.producerId, b.producerEpoch, b.committed],
  [ApiKey.TxnOffsetCommit]: (b) => [b.transactionalId, b.groupId, b.producerId, b.producerEpoch, b.generationId, b.memberId, b.groupInstanceId, b.topics],
};

const camelApi = (apiKey: ApiKey) => {
  const name = Object.entries(ApiKey).find(([, v]) => v === apiKey)![0];
  return name.charAt(0).toLowerCase() + name.slice(1);
};

describe('request bytes our client sends agree with @platformatic/kafka 2.12.1', () => {
  let dir: string;
  let broker: Broker;
  let listener: KafkaListener;
  let recording: RecordingTransport;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rill-sdk-conformance-'));
    broker = await Broker.open({ config: { dataDir: dir }, groups: { initialRebalanceDelayMs: 0 } });
    listener = await KafkaListener.start(broker, { host: '127.0.0.1', port: 0 });
    recording = new RecordingTransport(new TcpTransport({ bootstrapServers: [`127.0.0.1:${listener.port}`] }));
    const check = (condition: boolean, what: string) => {
      if (!condition) throw new Error(`scenario failed: ${what}`);
    };
    await runSdkScenario(recording, 'rec');
    await adminGroupStep(recording, 'rec', check);
    // A consume-transform-produce step, for AddOffsetsToTxn and TxnOffsetCommit.
    const consumer = new Consumer(recording, { groupId: 'rec-eos', autoOffsetReset: 'earliest', maxWaitMs: 100, heartbeatIntervalMs: 100 });
    consumer.subscribe(['rec-tx']);
    const tx = new Producer(recording, { transactionalId: 'rec-eos-tx' });
    for await (const r of consumer) {
      await tx.transaction(async (t) => {
        await t.send({ topic: 'rec-events', value: r.value });
        await t.sendOffsets([{ topic: r.topic, partition: r.partition, offset: r.offset + 1 }], consumer.groupMetadata());
      });
      break;
    }
    await tx.close();
    await consumer.close();
    await new Admin(recording).deleteTopics(['rec-bulk']);
  });

  afterAll(async () => {
    await recording.close();
    await listener.close();
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('covers every request type the client sent except Produce (ApiVersions goes below the Transport; conformance.test.ts covers it)', () => {
    const sentKeys = new Set([...recording.sent.values()].map((e) => e.apiKey));
    const uncovered = [...sentKeys].filter((k) => k !== ApiKey.Produce && TO_PLATFORMATIC[k] === undefined).map(camelApi);
    expect(uncovered).toEqual([]);
    expect(sentKeys.size).toBe(24);
  });

  it('re-encodes every recorded request body to the same bytes as platformatic at the same version', () => {
    const mismatches: string[] = [];
    let compared = 0;
    for (const { apiKey, version, bodies } of recording.sent.values()) {
      const map = TO_PLATFORMATIC[apiKey];
      if (map === undefined) continue;
      const codec = platformatic[`${camelApi(apiKey)}V${version}`];
      if (codec === undefined) {
        mismatches.push(`${camelApi(apiKey)} v${version}: platformatic has no codec`);
        continue;
      }
      for (const body of bodies) {
        const w = new Writer();
        (REQUEST_CODECS[apiKey] as unknown as { encode(w: Writer, v: number, m: unknown): void }).encode(w, version, body);
        const ours = Buffer.from(w.finish()).toString('hex');
        const theirs = Buffer.from(codec.createRequest(...map(body)).buffer).toString('hex');
        compared++;
        if (ours !== theirs) mismatches.push(`${camelApi(apiKey)} v${version}: ours ${ours} platformatic ${theirs}`);
      }
    }
    expect(mismatches).toEqual([]);
    expect(compared).toBeGreaterThanOrEqual(40);
  });
});
