import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, Kafka, logLevel, ResourcePatternTypes, type Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_LOG_FILE } from '../../broker/auth/audit-log.ts';
import { Broker } from '../../broker/broker.ts';
import { KafkaListener } from '../../broker/kafka/kafka-listener.ts';
import { ApiKey, type ProduceRequest, ZERO_UUID } from '../../sdk/protocol/mod.ts';
import { ErrorCode } from '../../sdk/protocol/error-codes.ts';
import { RecordBatchBuilder } from '../../sdk/record/mod.ts';
import { AclOperation, AclPermission, Admin as SdkAdmin, isKafkaError, PatternType, ResourceType, TcpTransport } from '../../sdk/mod.ts';
import { RawKafkaClient } from '../helpers/raw-kafka-client.ts';
import { fetchRequest } from '../helpers/read-partition.ts';

/** Errors that made the broker close a connection: an authorization response it could not encode, above all. */
const brokerErrors: string[] = [];

/** A broker with the authorizer on; each request's principal is `User:<client id>` (the test hook, no SASL). */
async function startBroker(dataDir: string): Promise<{ broker: Broker; listener: KafkaListener }> {
  const broker = await Broker.open({ config: { dataDir }, authorizer: { superUsers: ['User:admin'] }, groups: { initialRebalanceDelayMs: 0 } });
  const listener = await KafkaListener.start(broker, {
    host: '127.0.0.1',
    port: 0,
    limits: { onError: (error) => brokerErrors.push(String(error)) },
    principalResolver: (_connection, header) => (header.clientId ? { type: 'User', name: header.clientId } : undefined),
  });
  return { broker, listener };
}

function batch(value: string): Uint8Array {
  const builder = new RecordBatchBuilder({});
  builder.append({ key: null, value: new TextEncoder().encode(value), headers: [] });
  return builder.seal();
}

function produce(topic: string, value: string, transactionalId: string | null = null): ProduceRequest {
  return { transactionalId, acks: -1, timeoutMs: 30_000, topicData: [{ name: topic, partitionData: [{ index: 0, records: batch(value) }] }] };
}

function metadata(topics: string[] | null, allowAutoTopicCreation = false) {
  return {
    topics: topics === null ? null : topics.map((name) => ({ name, topicId: ZERO_UUID })),
    allowAutoTopicCreation,
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: false,
  };
}

const anyAclFilter = {
  resourceType: AclResourceTypes.ANY,
  resourcePatternType: ResourcePatternTypes.ANY,
  operation: AclOperationTypes.ANY,
  permissionType: AclPermissionTypes.ANY,
};

describe('ACL authorization over the Kafka wire', () => {
  let dataDir: string;
  let broker: Broker;
  let listener: KafkaListener;
  let admin: Admin;
  const clients: RawKafkaClient[] = [];
  const as = async (user: string): Promise<RawKafkaClient> => {
    const c = await RawKafkaClient.connect(listener.port, '127.0.0.1', user);
    clients.push(c);
    return c;
  };
  const kafkajsAdmin = async (): Promise<Admin> => {
    const kafka = new Kafka({ clientId: 'admin', brokers: [`127.0.0.1:${listener.port}`], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
    const a = kafka.admin();
    await a.connect();
    return a;
  };
  const highWatermark = (topic: string) => broker.describeTopic(topic).partitions[0]!.highWatermark;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'rill-acls-'));
    ({ broker, listener } = await startBroker(dataDir));
    admin = await kafkajsAdmin();
    await admin.createTopics({ topics: [{ topic: 'orders' }, { topic: 'secret' }, { topic: 'app-events' }] });
    await admin.createAcls({
      acl: [
        { resourceType: AclResourceTypes.TOPIC, resourceName: 'orders', resourcePatternType: ResourcePatternTypes.LITERAL, principal: 'User:alice', host: '*', operation: AclOperationTypes.WRITE, permissionType: AclPermissionTypes.ALLOW },
        { resourceType: AclResourceTypes.TOPIC, resourceName: 'orders', resourcePatternType: ResourcePatternTypes.LITERAL, principal: 'User:alice', host: '*', operation: AclOperationTypes.READ, permissionType: AclPermissionTypes.ALLOW },
        { resourceType: AclResourceTypes.TOPIC, resourceName: 'app-', resourcePatternType: ResourcePatternTypes.PREFIXED, principal: 'User:alice', host: '*', operation: AclOperationTypes.ALL, permissionType: AclPermissionTypes.ALLOW },
        { resourceType: AclResourceTypes.TOPIC, resourceName: 'app-events', resourcePatternType: ResourcePatternTypes.LITERAL, principal: 'User:alice', host: '*', operation: AclOperationTypes.DELETE, permissionType: AclPermissionTypes.DENY },
        { resourceType: AclResourceTypes.GROUP, resourceName: 'app-', resourcePatternType: ResourcePatternTypes.PREFIXED, principal: 'User:alice', host: '*', operation: AclOperationTypes.READ, permissionType: AclPermissionTypes.ALLOW },
        { resourceType: AclResourceTypes.TRANSACTIONAL_ID, resourceName: 'tx-alice', resourcePatternType: ResourcePatternTypes.LITERAL, principal: 'User:alice', host: '*', operation: AclOperationTypes.WRITE, permissionType: AclPermissionTypes.ALLOW },
        // A grant from another host only: it must not apply to 127.0.0.1.
        { resourceType: AclResourceTypes.TOPIC, resourceName: 'secret', resourcePatternType: ResourcePatternTypes.LITERAL, principal: 'User:alice', host: '10.1.2.3', operation: AclOperationTypes.ALL, permissionType: AclPermissionTypes.ALLOW },
      ],
    });
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await admin?.disconnect();
    await listener?.close();
    await broker?.close();
    rmSync(dataDir, { recursive: true, force: true });
    expect(brokerErrors).toEqual([]);
  });

  it('Produce, Fetch and ListOffsets: Topic Write / Read / Describe; nothing denied is appended or read', async () => {
    const alice = await as('alice');
    const bob = await as('bob');
    const before = highWatermark('orders');
    const denied = await bob.request(ApiKey.Produce, 7, produce('orders', 'from-bob'));
    expect(denied.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    expect(highWatermark('orders')).toBe(before);
    const allowed = await alice.request(ApiKey.Produce, 7, produce('orders', 'from-alice'));
    expect(allowed.responses[0]!.partitionResponses[0]!.errorCode).toBe(0);
    expect(highWatermark('orders')).toBe(before + 1);
    // Host-restricted grant from 10.1.2.3 does not apply to 127.0.0.1.
    const fromWrongHost = await alice.request(ApiKey.Produce, 7, produce('secret', 'x'));
    expect(fromWrongHost.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    expect(highWatermark('secret')).toBe(0);
    const bobFetch = await bob.request(ApiKey.Fetch, 11, fetchRequest('orders', 0, 0n));
    expect(bobFetch.responses[0]!.partitions[0]).toMatchObject({ errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, records: null });
    const aliceFetch = await alice.request(ApiKey.Fetch, 11, fetchRequest('orders', 0, 0n));
    expect(aliceFetch.responses[0]!.partitions[0]!.errorCode).toBe(0);
    expect(aliceFetch.responses[0]!.partitions[0]!.records!.byteLength).toBeGreaterThan(0);

    const listOffsets = (c: RawKafkaClient) =>
      c.request(ApiKey.ListOffsets, 3, {
        replicaId: -1,
        isolationLevel: 0,
        topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n, maxNumOffsets: 1 }] }],
        timeoutMs: 0,
      });
    expect((await listOffsets(bob)).topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    expect((await listOffsets(alice)).topics[0]!.partitions[0]!.offset).toBe(BigInt(highWatermark('orders')));
  });

  it('Metadata hides topics the principal may not describe and refuses auto-creation without Create', async () => {
    const alice = await as('alice');
    const bob = await as('bob');
    const adminClient = await as('admin');
    const names = async (c: RawKafkaClient) => (await c.request(ApiKey.Metadata, 12, metadata(null))).topics.map((t) => t.name).sort();
    expect(await names(alice)).toEqual(['app-events', 'orders']);
    expect(await names(bob)).toEqual([]);
    expect(await names(adminClient)).toEqual(expect.arrayContaining(['app-events', 'orders', 'secret']));
    const explicit = await alice.request(ApiKey.Metadata, 12, metadata(['secret', 'orders']));
    expect(explicit.topics.map((t) => [t.name, t.errorCode, t.partitions.length]).sort()).toEqual([
      ['orders', 0, 1],
      ['secret', ErrorCode.TOPIC_AUTHORIZATION_FAILED, 0],
    ]);
    const autoCreate = await alice.request(ApiKey.Metadata, 12, metadata(['not-yet'], true));
    expect(autoCreate.topics[0]!.errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    expect(broker.hasTopic('not-yet')).toBe(false);
    // v0 asks for all topics with an empty list.
    expect((await bob.request(ApiKey.Metadata, 0, metadata([], true))).topics).toEqual([]);
  });

  it('topic administration: CreateTopics, DeleteTopics, CreatePartitions, DeleteRecords, configs', async () => {
    const alice = await as('alice');
    const bob = await as('bob');
    const create = await bob.request(ApiKey.CreateTopics, 5, {
      topics: [{ name: 'bobs', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 1000,
      validateOnly: false,
    });
    expect(create.topics[0]!.errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    expect(broker.hasTopic('bobs')).toBe(false);
    const aliceCreate = await alice.request(ApiKey.CreateTopics, 5, {
      topics: [{ name: 'app-created', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }, { name: 'other', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 1000,
      validateOnly: false,
    });
    expect(aliceCreate.topics.map((t) => [t.name, t.errorCode]).sort()).toEqual([
      ['app-created', 0],
      ['other', ErrorCode.TOPIC_AUTHORIZATION_FAILED],
    ]);

    const del = (c: RawKafkaClient, name: string) => c.request(ApiKey.DeleteTopics, 4, { topics: [], topicNames: [name], timeoutMs: 1000 });
    expect((await del(bob, 'orders')).responses[0]!.errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    // DENY Delete on app-events wins over the prefixed ALLOW All.
    expect((await del(alice, 'app-events')).responses[0]!.errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    expect(broker.hasTopic('orders') && broker.hasTopic('app-events')).toBe(true);
    expect((await del(alice, 'app-created')).responses[0]!.errorCode).toBe(0);
    expect(broker.hasTopic('app-created')).toBe(false);

    const partitions = await bob.request(ApiKey.CreatePartitions, 1, { topics: [{ name: 'orders', count: 3, assignments: null }], timeoutMs: 1000, validateOnly: false });
    expect(partitions.results[0]!.errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    expect(broker.describeTopic('orders').partitions).toHaveLength(1);

    const logStart = broker.describeTopic('orders').partitions[0]!.logStartOffset;
    const records = await bob.request(ApiKey.DeleteRecords, 1, { topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, offset: -1n }] }], timeoutMs: 1000 });
    expect(records.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    expect(broker.describeTopic('orders').partitions[0]!.logStartOffset).toBe(logStart);

    const describe = await bob.request(ApiKey.DescribeConfigs, 1, {
      resources: [{ resourceType: 2, resourceName: 'orders', configurationKeys: null }, { resourceType: 4, resourceName: '0', configurationKeys: null }],
      includeSynonyms: false,
      includeDocumentation: false,
    });
    expect(describe.results.map((r) => r.errorCode).sort()).toEqual([ErrorCode.TOPIC_AUTHORIZATION_FAILED, ErrorCode.CLUSTER_AUTHORIZATION_FAILED]);
    const alter = await bob.request(ApiKey.IncrementalAlterConfigs, 0, {
      resources: [{ resourceType: 2, resourceName: 'orders', configs: [{ name: 'retention.ms', configOperation: 0, value: '1234' }] }],
      validateOnly: false,
    });
    expect(alter.responses[0]!.errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    const legacyAlter = await bob.request(ApiKey.AlterConfigs, 1, {
      resources: [{ resourceType: 2, resourceName: 'orders', configs: [{ name: 'retention.ms', value: '1234' }] }, { resourceType: 4, resourceName: '0', configs: [] }],
      validateOnly: false,
    });
    expect(legacyAlter.responses.map((r) => [r.resourceName, r.errorCode])).toEqual([['orders', ErrorCode.TOPIC_AUTHORIZATION_FAILED], ['0', ErrorCode.CLUSTER_AUTHORIZATION_FAILED]]);
    expect(broker.describeTopic('orders').configs.find((c) => c.name === 'retention.ms')!.value).not.toBe('1234');
  });

  it('groups: Group Read for membership and commits, Describe for lookups, Delete for deletion', async () => {
    const alice = await as('alice');
    const bob = await as('bob');
    const join = (c: RawKafkaClient, groupId: string) =>
      c.request(ApiKey.JoinGroup, 5, {
        groupId,
        sessionTimeoutMs: 10_000,
        rebalanceTimeoutMs: 10_000,
        memberId: '',
        groupInstanceId: null,
        protocolType: 'consumer',
        protocols: [{ name: 'range', metadata: new Uint8Array(0) }],
        reason: null,
      });
    expect((await join(bob, 'app-1')).errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    expect((await join(alice, 'app-1')).errorCode).not.toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    expect((await bob.request(ApiKey.Heartbeat, 3, { groupId: 'app-1', generationId: 1, memberId: 'm', groupInstanceId: null })).errorCode).toBe(
      ErrorCode.GROUP_AUTHORIZATION_FAILED,
    );
    const find = await bob.request(ApiKey.FindCoordinator, 3, { key: 'app-1', keyType: 0, coordinatorKeys: [] });
    expect(find.errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);

    const commit = (c: RawKafkaClient, groupId: string, topic: string) =>
      c.request(ApiKey.OffsetCommit, 5, {
        groupId,
        generationIdOrMemberEpoch: -1,
        memberId: '',
        groupInstanceId: null,
        retentionTimeMs: -1n,
        topics: [{ name: topic, partitions: [{ partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata: null }] }],
      });
    expect((await commit(bob, 'app-commits', 'orders')).topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    expect((await commit(alice, 'app-commits', 'secret')).topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    expect((await commit(alice, 'app-commits', 'orders')).topics[0]!.partitions[0]!.errorCode).toBe(0);
    const fetchOffsets = (c: RawKafkaClient) =>
      c.request(ApiKey.OffsetFetch, 7, { groupId: 'app-commits', topics: [{ name: 'orders', partitionIndexes: [0] }], groups: [], requireStable: false });
    expect((await fetchOffsets(bob)).errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    expect((await fetchOffsets(alice)).topics[0]!.partitions[0]!.committedOffset).toBe(1n);

    const described = await bob.request(ApiKey.DescribeGroups, 4, { groups: ['app-commits'], includeAuthorizedOperations: false });
    expect(described.groups[0]!.errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    const listed = async (c: RawKafkaClient) => (await c.request(ApiKey.ListGroups, 4, { statesFilter: [], typesFilter: [] })).groups.map((g) => g.groupId);
    expect(await listed(bob)).toEqual([]);
    expect(await listed(alice)).toContain('app-commits');
    const deleted = await bob.request(ApiKey.DeleteGroups, 1, { groupsNames: ['app-commits'] });
    expect(deleted.results[0]!.errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    expect((await fetchOffsets(alice)).topics[0]!.partitions[0]!.committedOffset).toBe(1n);
  });

  it('transactions: TransactionalId Write; idempotence without one needs Cluster IdempotentWrite', async () => {
    const alice = await as('alice');
    const bob = await as('bob');
    const init = (c: RawKafkaClient, transactionalId: string | null) =>
      c.request(ApiKey.InitProducerId, 3, { transactionalId, transactionTimeoutMs: 10_000, producerId: -1n, producerEpoch: -1 });
    expect((await init(bob, 'tx-alice')).errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    expect((await init(bob, null)).errorCode).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    // Write on some topic is enough for an idempotent producer (KIP-679).
    expect((await init(alice, null)).errorCode).toBe(0);
    const granted = await init(alice, 'tx-alice');
    expect(granted.errorCode).toBe(0);
    const end = await bob.request(ApiKey.EndTxn, 3, { transactionalId: 'tx-alice', producerId: granted.producerId, producerEpoch: granted.producerEpoch, committed: true });
    expect(end.errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    const before = highWatermark('orders');
    const txnProduce = await bob.request(ApiKey.Produce, 7, produce('orders', 'txn', 'tx-alice'));
    expect(txnProduce.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    expect(highWatermark('orders')).toBe(before);
    const find = await bob.request(ApiKey.FindCoordinator, 4, { key: '', keyType: 1, coordinatorKeys: ['tx-alice'] });
    expect(find.coordinators[0]!.errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  });

  it('the ACL APIs need Cluster Alter / Describe, reject malformed filters, and kafkajs reads back what it wrote', async () => {
    const bob = await as('bob');
    const adminClient = await as('admin');
    expect((await bob.request(ApiKey.DescribeAcls, 1, { resourceTypeFilter: 1, resourceNameFilter: null, patternTypeFilter: 1, principalFilter: null, hostFilter: null, operation: 1, permissionType: 1 })).errorCode).toBe(
      ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
    );
    const bobCreates = await bob.request(ApiKey.CreateAcls, 1, {
      creations: [{ resourceType: 2, resourceName: '*', resourcePatternType: 3, principal: 'User:bob', host: '*', operation: 2, permissionType: 3 }],
    });
    expect(bobCreates.results[0]!.errorCode).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    expect((await admin.describeAcls({ ...anyAclFilter, principal: 'User:bob' })).resources).toEqual([]);

    const invalid = await adminClient.request(ApiKey.CreateAcls, 1, {
      creations: [
        { resourceType: 2, resourceName: 't', resourcePatternType: 2, principal: 'User:x', host: '*', operation: 3, permissionType: 3 },
        { resourceType: 2, resourceName: 't', resourcePatternType: 3, principal: 'nocolon', host: '*', operation: 3, permissionType: 3 },
        { resourceType: 4, resourceName: 'not-the-cluster', resourcePatternType: 3, principal: 'User:x', host: '*', operation: 7, permissionType: 3 },
        { resourceType: 2, resourceName: 't', resourcePatternType: 3, principal: 'User:x', host: '*', operation: 1, permissionType: 3 },
      ],
    });
    expect(invalid.results.map((r) => r.errorCode)).toEqual(Array(4).fill(ErrorCode.INVALID_REQUEST));
    const badFilter = await adminClient.request(ApiKey.DescribeAcls, 1, { resourceTypeFilter: 1, resourceNameFilter: null, patternTypeFilter: 0, principalFilter: null, hostFilter: null, operation: 1, permissionType: 1 });
    expect(badFilter.errorCode).toBe(ErrorCode.INVALID_REQUEST);

    const described = await admin.describeAcls({ ...anyAclFilter, resourceType: AclResourceTypes.TOPIC, resourceName: 'app-events', resourcePatternType: ResourcePatternTypes.MATCH, principal: 'User:alice' });
    expect(described.resources.map((r) => [r.resourceName, r.resourcePatternType, r.acls.map((a) => [a.operation, a.permissionType])]).sort()).toEqual([
      ['app-', ResourcePatternTypes.PREFIXED, [[AclOperationTypes.ALL, AclPermissionTypes.ALLOW]]],
      ['app-events', ResourcePatternTypes.LITERAL, [[AclOperationTypes.DELETE, AclPermissionTypes.DENY]]],
    ]);

    await admin.createAcls({
      acl: [{ resourceType: AclResourceTypes.GROUP, resourceName: 'temp', resourcePatternType: ResourcePatternTypes.LITERAL, principal: 'User:carol', host: '*', operation: AclOperationTypes.READ, permissionType: AclPermissionTypes.ALLOW }],
    });
    const removed = await admin.deleteAcls({ filters: [{ ...anyAclFilter, principal: 'User:carol' }] });
    expect(removed.filterResponses[0]!.matchingAcls.map((a) => [a.resourceName, a.principal])).toEqual([['temp', 'User:carol']]);
    expect((await admin.describeAcls({ ...anyAclFilter, principal: 'User:carol' })).resources).toEqual([]);
  });

  it('the SDK admin client creates, describes and deletes ACLs, and surfaces the broker\'s errors', async () => {
    const transports: TcpTransport[] = [];
    const sdkAdmin = (clientId: string) => {
      const transport = new TcpTransport({ bootstrapServers: [`127.0.0.1:${listener.port}`], clientId });
      transports.push(transport);
      return new SdkAdmin(transport);
    };
    try {
      const root = sdkAdmin('admin');
      const entry = {
        resourceType: ResourceType.GROUP,
        resourceName: 'sdk-',
        patternType: PatternType.PREFIXED,
        principal: 'User:dora',
        host: '*',
        operation: AclOperation.READ,
        permission: AclPermission.ALLOW,
      } as const;
      await root.createAcls([entry]);
      expect(await root.describeAcls({ principal: 'User:dora' })).toEqual([entry]);
      expect(await root.describeAcls({ resourceType: ResourceType.GROUP, resourceName: 'sdk-group', patternType: PatternType.MATCH, principal: 'User:dora' })).toEqual([entry]);
      const dora = await as('dora');
      const heartbeat = await dora.request(ApiKey.Heartbeat, 3, { groupId: 'sdk-group', generationId: 1, memberId: 'm', groupInstanceId: null });
      expect(heartbeat.errorCode).not.toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
      const refused = await sdkAdmin('bob').createAcls([entry]).then(
        () => expect.unreachable('bob may not alter the cluster'),
        (error: unknown) => error,
      );
      expect(isKafkaError(refused, 'CLUSTER_AUTHORIZATION_FAILED')).toBe(true);
      expect(await root.deleteAcls([{ principal: 'User:dora' }])).toEqual([entry]);
      expect(await root.describeAcls({ principal: 'User:dora' })).toEqual([]);
    } finally {
      for (const t of transports) await t.close();
    }
  });

  it('writes denials to the audit log', () => {
    const lines = readFileSync(join(dataDir, AUDIT_LOG_FILE), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toContainEqual(expect.objectContaining({ event: 'denied', principal: 'User:bob', host: '127.0.0.1', apiKey: ApiKey.Produce, resourceType: 2, resourceName: 'orders', operation: 4 }));
  });

  it('keeps ACLs across a restart', async () => {
    await admin.disconnect();
    for (const c of clients.splice(0)) c.close();
    await listener.close();
    await broker.close();
    ({ broker, listener } = await startBroker(dataDir));
    admin = await kafkajsAdmin();
    expect((await admin.describeAcls({ ...anyAclFilter, principal: 'User:alice' })).resources).toHaveLength(6);
    const bob = await as('bob');
    const alice = await as('alice');
    expect((await bob.request(ApiKey.Produce, 7, produce('orders', 'again'))).responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    expect((await alice.request(ApiKey.Produce, 7, produce('orders', 'again'))).responses[0]!.partitionResponses[0]!.errorCode).toBe(0);
  });
});

describe('without an authorizer', () => {
  it('allows everything and answers the ACL APIs with SECURITY_DISABLED', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'rill-noacl-'));
    const broker = await Broker.open({ config: { dataDir } });
    const listener = await KafkaListener.start(broker, { host: '127.0.0.1', port: 0 });
    const c = await RawKafkaClient.connect(listener.port, '127.0.0.1', 'anyone');
    try {
      await c.request(ApiKey.Metadata, 12, metadata(['open'], true));
      expect((await c.request(ApiKey.Produce, 7, produce('open', 'x'))).responses[0]!.partitionResponses[0]!.errorCode).toBe(0);
      const describe = await c.request(ApiKey.DescribeAcls, 1, { resourceTypeFilter: 1, resourceNameFilter: null, patternTypeFilter: 1, principalFilter: null, hostFilter: null, operation: 1, permissionType: 1 });
      expect(describe.errorCode).toBe(ErrorCode.SECURITY_DISABLED);
    } finally {
      c.close();
      await listener.close();
      await broker.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
