import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AclOperation, AclPermission, CLUSTER_RESOURCE_NAME, PatternType, ResourceType } from '../../broker/auth/acl.ts';
import { Broker, type BrokerOptions } from '../../broker/broker.ts';
import { KafkaListener } from '../../broker/kafka/kafka-listener.ts';
import { ErrorCode } from '../../sdk/protocol/error-codes.ts';
import { ApiKey, ZERO_UUID } from '../../sdk/protocol/mod.ts';
import { RawKafkaClient } from '../helpers/raw-kafka-client.ts';

const NOT_REQUESTED = -2147483648;
const bits = (...operations: number[]) => operations.reduce((field, op) => field | (1 << op), 0);
const Op = AclOperation;
const ALL_TOPIC_OPERATIONS = bits(Op.READ, Op.WRITE, Op.CREATE, Op.DELETE, Op.ALTER, Op.DESCRIBE, Op.DESCRIBE_CONFIGS, Op.ALTER_CONFIGS);
const ALL_GROUP_OPERATIONS = bits(Op.READ, Op.DESCRIBE, Op.DELETE);
const ALL_CLUSTER_OPERATIONS = bits(Op.CREATE, Op.CLUSTER_ACTION, Op.DESCRIBE_CONFIGS, Op.ALTER_CONFIGS, Op.IDEMPOTENT_WRITE, Op.ALTER, Op.DESCRIBE);

const opened: { broker: Broker; listener: KafkaListener; clients: RawKafkaClient[]; dir: string }[] = [];
afterEach(async () => {
  for (const { broker, listener, clients, dir } of opened.splice(0)) {
    for (const client of clients) client.close();
    await listener.close();
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A broker whose requests act as `User:<client id>` (the test hook, no SASL), with topics orders and secret and group billing. */
async function start(options: Omit<BrokerOptions, 'config'>) {
  const dir = mkdtempSync(join(tmpdir(), 'rill-authorized-ops-'));
  const broker = await Broker.open({ ...options, config: { dataDir: dir } });
  const listener = await KafkaListener.start(broker, {
    host: '127.0.0.1',
    port: 0,
    principalResolver: (_connection, header) => (header.clientId ? { type: 'User', name: header.clientId } : undefined),
  });
  const entry = { broker, listener, clients: [] as RawKafkaClient[], dir };
  opened.push(entry);
  await broker.createTopic('orders');
  await broker.createTopic('secret');
  await broker.groups.commitOffsets({ groupId: 'billing', generationId: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1, topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, committedOffset: 0, committedMetadata: null }] }] });
  const as = async (user: string) => {
    const client = await RawKafkaClient.connect(listener.port, '127.0.0.1', user);
    entry.clients.push(client);
    return client;
  };
  return { broker, as };
}

const metadata = (topics: string[], includeTopic: boolean, includeCluster: boolean) => ({
  topics: topics.map((name) => ({ name, topicId: ZERO_UUID })),
  allowAutoTopicCreation: false,
  includeClusterAuthorizedOperations: includeCluster,
  includeTopicAuthorizedOperations: includeTopic,
});

describe('authorized operations (KIP-430)', () => {
  it('answers the operations the ACLs allow, as Kafka\'s 32-bit field, only when asked', async () => {
    const { broker, as } = await start({ authorizer: { superUsers: ['User:admin'] } });
    const allow = (resourceType: 2 | 3 | 4, resourceName: string, operation: number) => ({
      resourceType,
      resourceName,
      patternType: PatternType.LITERAL,
      principal: 'User:alice',
      host: '*',
      operation: operation as (typeof Op)[keyof typeof Op],
      permissionType: AclPermission.ALLOW,
    });
    await broker.authorizer!.createAcls([
      allow(ResourceType.TOPIC, 'orders', Op.READ),
      allow(ResourceType.TOPIC, 'orders', Op.WRITE),
      allow(ResourceType.GROUP, 'billing', Op.READ),
      allow(ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME, Op.DESCRIBE),
      allow(ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME, Op.IDEMPOTENT_WRITE),
    ]);
    const alice = await as('alice');
    const bob = await as('bob');
    const admin = await as('admin');

    // Read and Write imply Describe.
    const v10 = await alice.request(ApiKey.Metadata, 10, metadata(['orders', 'secret'], true, true));
    expect(v10.topics.map((t) => [t.name, t.errorCode, t.topicAuthorizedOperations])).toEqual([
      ['orders', ErrorCode.NONE, bits(Op.READ, Op.WRITE, Op.DESCRIBE)],
      ['secret', ErrorCode.TOPIC_AUTHORIZATION_FAILED, NOT_REQUESTED],
    ]);
    expect(v10.clusterAuthorizedOperations).toBe(bits(Op.DESCRIBE, Op.IDEMPOTENT_WRITE));
    const notAsked = await alice.request(ApiKey.Metadata, 10, metadata(['orders'], false, false));
    expect([notAsked.topics[0]!.topicAuthorizedOperations, notAsked.clusterAuthorizedOperations]).toEqual([NOT_REQUESTED, NOT_REQUESTED]);
    // v11+ carries no cluster operations; the topic's are still there.
    const v12 = await alice.request(ApiKey.Metadata, 12, metadata(['orders'], true, false));
    expect(v12.topics[0]!.topicAuthorizedOperations).toBe(bits(Op.READ, Op.WRITE, Op.DESCRIBE));
    // A principal that may not describe the cluster gets 0, not an error.
    expect((await bob.request(ApiKey.Metadata, 10, metadata([], false, true))).clusterAuthorizedOperations).toBe(0);
    expect((await admin.request(ApiKey.Metadata, 10, metadata(['secret'], true, true))).topics[0]!.topicAuthorizedOperations).toBe(ALL_TOPIC_OPERATIONS);

    const groups = await alice.request(ApiKey.DescribeGroups, 4, { groups: ['billing'], includeAuthorizedOperations: true });
    expect(groups.groups.map((g) => [g.groupId, g.errorCode, g.authorizedOperations])).toEqual([['billing', ErrorCode.NONE, bits(Op.READ, Op.DESCRIBE)]]);
    expect((await alice.request(ApiKey.DescribeGroups, 4, { groups: ['billing'], includeAuthorizedOperations: false })).groups[0]!.authorizedOperations).toBe(NOT_REQUESTED);
    const denied = await bob.request(ApiKey.DescribeGroups, 4, { groups: ['billing'], includeAuthorizedOperations: true });
    expect(denied.groups.map((g) => [g.errorCode, g.authorizedOperations])).toEqual([[ErrorCode.GROUP_AUTHORIZATION_FAILED, NOT_REQUESTED]]);
    expect((await admin.request(ApiKey.DescribeGroups, 4, { groups: ['billing'], includeAuthorizedOperations: true })).groups[0]!.authorizedOperations).toBe(ALL_GROUP_OPERATIONS);

    const describeCluster = (client: RawKafkaClient, include: boolean, endpointType = 1) =>
      client.request(ApiKey.DescribeCluster, 1, { includeClusterAuthorizedOperations: include, endpointType });
    const cluster = await describeCluster(alice, true);
    expect([cluster.errorCode, cluster.clusterId, cluster.brokers.length, cluster.clusterAuthorizedOperations]).toEqual([ErrorCode.NONE, broker.clusterId, 1, bits(Op.DESCRIBE, Op.IDEMPOTENT_WRITE)]);
    expect((await describeCluster(alice, false)).clusterAuthorizedOperations).toBe(NOT_REQUESTED);
    expect((await describeCluster(bob, true)).clusterAuthorizedOperations).toBe(0);
    expect((await describeCluster(admin, true)).clusterAuthorizedOperations).toBe(ALL_CLUSTER_OPERATIONS);
    expect((await describeCluster(admin, true, 2)).errorCode).toBe(ErrorCode.UNSUPPORTED_ENDPOINT_TYPE);
    const v0 = await admin.request(ApiKey.DescribeCluster, 0, { includeClusterAuthorizedOperations: true, endpointType: 1 });
    expect([v0.errorCode, v0.brokers[0]!.brokerId, v0.clusterAuthorizedOperations]).toEqual([ErrorCode.NONE, broker.config.nodeId, ALL_CLUSTER_OPERATIONS]);
  });

  it('without an authorizer, every supported operation is authorized, as in Kafka', async () => {
    const { as } = await start({});
    const anyone = await as('anyone');
    const v10 = await anyone.request(ApiKey.Metadata, 10, metadata(['orders'], true, true));
    expect([v10.topics[0]!.topicAuthorizedOperations, v10.clusterAuthorizedOperations]).toEqual([ALL_TOPIC_OPERATIONS, ALL_CLUSTER_OPERATIONS]);
    expect((await anyone.request(ApiKey.DescribeGroups, 3, { groups: ['billing'], includeAuthorizedOperations: true })).groups[0]!.authorizedOperations).toBe(ALL_GROUP_OPERATIONS);
    expect((await anyone.request(ApiKey.DescribeCluster, 1, { includeClusterAuthorizedOperations: true, endpointType: 1 })).clusterAuthorizedOperations).toBe(ALL_CLUSTER_OPERATIONS);
  });
});
