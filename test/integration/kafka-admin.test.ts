import { ConfigResourceTypes, Kafka, logLevel, type Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey, ZERO_UUID } from '../../sdk/protocol/mod.ts';
import { ErrorCode } from '../../sdk/protocol/error-codes.ts';
import { Admin as SdkAdmin, TcpTransport } from '../../sdk/mod.ts';
import { type BrokerProcess, startBrokerProcess } from '../helpers/broker-process.ts';
import { runtimes } from '../helpers/child-process.ts';
import { RawKafkaClient } from '../helpers/raw-kafka-client.ts';

/** kafkajs's config entries as a name → value map. */
function configValues(entries: { configName: string; configValue: string }[]): Record<string, string> {
  return Object.fromEntries(entries.map((e) => [e.configName, e.configValue]));
}

/**
 * The Kafka error type a kafkajs admin call failed with, however kafkajs wrapped it (directly,
 * as the cause of a retries-exceeded error, or inside an aggregate of per-topic errors).
 */
async function failureType(call: Promise<unknown>): Promise<string> {
  const error = await call.then(
    () => expect.unreachable('the call should have failed'),
    (e: unknown) => e as { type?: string; cause?: { type?: string }; errors?: { type?: string }[] },
  );
  return error.type ?? error.cause?.type ?? error.errors?.map((e) => e.type).join(',') ?? String(error);
}

describe.each(runtimes)('kafkajs admin against the broker process on %s', (runtime) => {
  let broker: BrokerProcess;
  let admin: Admin;

  beforeAll(async () => {
    broker = await startBrokerProcess({ runtime });
    // No retries: an error the broker answers must reach the test, not be retried away.
    const kafka = new Kafka({ clientId: `admin-${runtime}`, brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
    admin = kafka.admin();
    await admin.connect();
  });

  afterAll(async () => {
    await admin?.disconnect();
    await broker?.dispose();
  });

  it('creates topics with config entries, lists them and reports their metadata', async () => {
    const created = await admin.createTopics({
      topics: [
        { topic: 'orders', numPartitions: 3, replicationFactor: 1, configEntries: [{ name: 'retention.ms', value: '3600000' }] },
        { topic: 'events', numPartitions: -1, replicationFactor: -1 },
      ],
    });
    expect(created).toBe(true);
    expect(await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 3 }] })).toBe(false);
    expect((await admin.listTopics()).sort()).toEqual(['events', 'orders']);

    const { topics } = await admin.fetchTopicMetadata({ topics: ['orders', 'events'] });
    const byName = new Map(topics.map((t) => [t.name, t]));
    expect(byName.get('orders')!.partitions.map((p) => [p.partitionId, p.leader, p.replicas, p.isr]).sort()).toEqual([
      [0, 0, [0], [0]],
      [1, 0, [0], [0]],
      [2, 0, [0], [0]],
    ]);
    expect(byName.get('events')!.partitions).toHaveLength(1);
  });

  it('validateOnly creates nothing, and invalid requests fail with the broker\'s error', async () => {
    // kafkajs waits for leaders by default, which a validate-only topic never gets.
    expect(await admin.createTopics({ validateOnly: true, waitForLeaders: false, topics: [{ topic: 'dry-run', numPartitions: 2 }] })).toBe(true);
    expect(await admin.listTopics()).not.toContain('dry-run');

    expect(await failureType(admin.createTopics({ topics: [{ topic: 'replicated', numPartitions: 1, replicationFactor: 3 }] }))).toBe(
      'INVALID_REPLICATION_FACTOR',
    );
    expect(
      await failureType(admin.createTopics({ topics: [{ topic: 'bad-config', configEntries: [{ name: 'retention.ms', value: 'forever' }] }] })),
    ).toBe('INVALID_CONFIG');
    expect(await admin.listTopics()).not.toContain('replicated');
  });

  it('describes topic configs with their sources and alters them', async () => {
    await admin.createTopics({ topics: [{ topic: 'configured', configEntries: [{ name: 'retention.ms', value: '1000' }] }] });
    const described = await admin.describeConfigs({
      includeSynonyms: true,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: 'configured' }],
    });
    const [resource] = described.resources;
    expect(resource).toMatchObject({ errorCode: 0, resourceName: 'configured', resourceType: ConfigResourceTypes.TOPIC });
    const retention = resource!.configEntries.find((e) => e.configName === 'retention.ms')!;
    expect(retention).toMatchObject({ configValue: '1000', isDefault: false, readOnly: false, isSensitive: false });
    expect(retention.configSynonyms.map((s) => s.configName)).toEqual(['retention.ms', 'log.retention.ms']);
    expect(configValues(resource!.configEntries)).toMatchObject({ 'cleanup.policy': 'delete', 'segment.bytes': '1073741824' });

    // AlterConfigs replaces the whole override set: retention.ms returns to its default.
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: 'configured', configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
    });
    const altered = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: 'configured', configNames: ['cleanup.policy', 'retention.ms'] }],
    });
    expect(altered.resources[0]!.configEntries.map((e) => [e.configName, e.configValue, e.isDefault])).toEqual([
      ['cleanup.policy', 'compact', false],
      ['retention.ms', '604800000', true],
    ]);

    const invalid = admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: 'configured', configEntries: [{ name: 'segment.bytes', value: '1' }] }],
    });
    expect(await failureType(invalid)).toBe('INVALID_CONFIG');
  });

  it('describes the broker\'s configs as read-only', async () => {
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.BROKER, name: '0', configNames: ['auto.create.topics.enable', 'log.dirs'] }],
    });
    expect(described.resources[0]!.configEntries.map((e) => [e.configName, e.configValue, e.readOnly])).toEqual([
      ['auto.create.topics.enable', 'true', true],
      ['log.dirs', broker.dataDir, true],
    ]);
  });

  it('adds partitions, validating first when asked, and refuses to shrink', async () => {
    await admin.createTopics({ topics: [{ topic: 'growing', numPartitions: 1 }] });
    await admin.createPartitions({ validateOnly: true, topicPartitions: [{ topic: 'growing', count: 4 }] });
    expect((await admin.fetchTopicMetadata({ topics: ['growing'] })).topics[0]!.partitions).toHaveLength(1);
    await admin.createPartitions({ topicPartitions: [{ topic: 'growing', count: 3, assignments: [[0], [0]] }] });
    expect((await admin.fetchTopicMetadata({ topics: ['growing'] })).topics[0]!.partitions).toHaveLength(3);
    expect(await failureType(admin.createPartitions({ topicPartitions: [{ topic: 'growing', count: 2 }] }))).toBe('INVALID_PARTITIONS');
    expect(await failureType(admin.createPartitions({ topicPartitions: [{ topic: 'nowhere', count: 2 }] }))).toBe('UNKNOWN_TOPIC_OR_PARTITION');
  });

  it('deletes topics', async () => {
    await admin.createTopics({ topics: [{ topic: 'doomed' }, { topic: 'survivor' }] });
    await admin.deleteTopics({ topics: ['doomed'] });
    const remaining = await admin.listTopics();
    expect(remaining).toContain('survivor');
    expect(remaining).not.toContain('doomed');
    expect(await failureType(admin.deleteTopics({ topics: ['doomed'] }))).toBe('UNKNOWN_TOPIC_OR_PARTITION');
  });

  it('deletes records below an offset (DeleteRecords): kafkajs, the SDK admin and DeleteRecords v2 over the wire', async () => {
    await admin.createTopics({ topics: [{ topic: 'purged', numPartitions: 2 }] });
    const kafka = new Kafka({ clientId: `purge-${runtime}`, brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    for (const partition of [0, 1]) {
      await producer.send({ topic: 'purged', acks: -1, messages: Array.from({ length: 10 }, (_, i) => ({ partition, value: `p${partition}-${i}` })) });
    }
    await producer.disconnect();

    // kafkajs looks the leader up in the metadata it already holds, so it must have seen the topic.
    await admin.fetchTopicMetadata({ topics: ['purged'] });
    await admin.deleteTopicRecords({ topic: 'purged', partitions: [{ partition: 0, offset: '4' }] });
    const sdkTransport = new TcpTransport({ bootstrapServers: [broker.bootstrap] });
    try {
      const sdkAdmin = new SdkAdmin(sdkTransport);
      expect(await sdkAdmin.deleteRecords([{ topic: 'purged', partition: 1, offset: -1 }])).toEqual([{ topic: 'purged', partition: 1, lowWatermark: 10 }]);
      await expect(sdkAdmin.deleteRecords([{ topic: 'purged', partition: 0, offset: 11 }])).rejects.toMatchObject({ errorName: 'OFFSET_OUT_OF_RANGE' });
      expect(await sdkAdmin.topicOffsets('purged')).toEqual([
        { partition: 0, earliest: 4, latest: 10 },
        { partition: 1, earliest: 10, latest: 10 },
      ]);
    } finally {
      await sdkTransport.close();
    }
    const raw = await RawKafkaClient.connect(broker.port);
    try {
      const answer = await raw.request(ApiKey.DeleteRecords, 2, {
        topics: [{ name: 'purged', partitions: [{ partitionIndex: 0, offset: 6n }, { partitionIndex: 5, offset: 0n }] }],
        timeoutMs: 10_000,
      });
      expect(answer.topics[0]!.partitions.map((p) => [p.partitionIndex, p.lowWatermark, p.errorCode])).toEqual([
        [0, 6n, 0],
        [5, -1n, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      ]);
    } finally {
      raw.close();
    }
    const consumer = kafka.consumer({ groupId: `purged-${runtime}`, maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'purged', fromBeginning: true });
    const seen: string[] = [];
    const done = new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          seen.push(message.value!.toString());
          if (seen.length === 4) resolve();
        },
      });
    });
    await done;
    await consumer.disconnect();
    expect(seen.sort()).toEqual(['p0-6', 'p0-7', 'p0-8', 'p0-9']);
  });

  it('serves the flexible versions kafkajs never sends: CreateTopics v7, DescribeConfigs v4, DeleteTopics v6 by topic id', async () => {
    const raw = await RawKafkaClient.connect(broker.port);
    try {
      const created = await raw.request(ApiKey.CreateTopics, 7, {
        topics: [{ name: 'flexible', numPartitions: 2, replicationFactor: -1, assignments: [], configs: [{ name: 'segment.ms', value: '60000' }] }],
        timeoutMs: 10_000,
        validateOnly: false,
      });
      const [result] = created.topics;
      expect(result).toMatchObject({ name: 'flexible', errorCode: 0, numPartitions: 2, replicationFactor: 1 });
      expect(result!.topicId).not.toBe(ZERO_UUID);
      expect(result!.configs!.find((c) => c.name === 'segment.ms')).toMatchObject({ value: '60000', configSource: 1 });

      const described = await raw.request(ApiKey.DescribeConfigs, 4, {
        resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: 'flexible', configurationKeys: ['segment.ms'] }],
        includeSynonyms: false,
        includeDocumentation: true,
      });
      expect(described.results[0]!.configs).toMatchObject([{ name: 'segment.ms', value: '60000', configSource: 1, configType: 5 }]);

      const deleted = await raw.request(ApiKey.DeleteTopics, 6, { topics: [{ name: null, topicId: result!.topicId }], topicNames: [], timeoutMs: 10_000 });
      expect(deleted.responses).toEqual([{ name: 'flexible', topicId: result!.topicId, errorCode: 0, errorMessage: null }]);
      expect(await admin.listTopics()).not.toContain('flexible');
    } finally {
      raw.close();
    }
  });
});
