import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Broker } from '../../../broker/broker.ts';
import { type AclBinding, AclOperation, type AclOperationValue, AclPermission, PatternType, ResourceType, type ResourceTypeValue } from '../../../broker/auth/acl.ts';
import { KafkaListener } from '../../../broker/kafka/kafka-listener.ts';
import { ApiKey } from '../../../sdk/protocol/mod.ts';
import { ErrorCode } from '../../../sdk/protocol/error-codes.ts';
import { RawKafkaClient } from '../../helpers/raw-kafka-client.ts';
import { appendValues } from '../../helpers/share-fixtures.ts';

let dir: string;
let broker: Broker;
let listener: KafkaListener;
const clients: RawKafkaClient[] = [];
let openId: string;
let closedId: string;

/** Each request's principal is `User:<client id>` (the test hook, no SASL). */
async function as(user: string): Promise<RawKafkaClient> {
  const c = await RawKafkaClient.connect(listener.port, '127.0.0.1', user);
  clients.push(c);
  return c;
}

function allow(resourceType: ResourceTypeValue, resourceName: string, operation: AclOperationValue): AclBinding {
  return { resourceType, resourceName, patternType: PatternType.LITERAL, principal: 'User:alice', host: '*', operation, permissionType: AclPermission.ALLOW };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rill-share-acls-'));
  broker = await Broker.open({ config: { dataDir: dir }, authorizer: { superUsers: ['User:admin'] }, shareGroups: { defaults: { autoOffsetReset: 'earliest' } } });
  listener = await KafkaListener.start(broker, {
    host: '127.0.0.1',
    port: 0,
    limits: { shutdownGraceMs: 0 },
    principalResolver: (_connection, header) => (header.clientId ? { type: 'User', name: header.clientId } : undefined),
  });
  openId = (await broker.createTopic('open', { partitions: 1 })).topicId;
  closedId = (await broker.createTopic('closed', { partitions: 1 })).topicId;
  await appendValues(broker, 'open', ['o']);
  await appendValues(broker, 'closed', ['c']);
  await broker.authorizer!.createAcls([
    allow(ResourceType.GROUP, 'shared', AclOperation.READ),
    allow(ResourceType.GROUP, 'shared', AclOperation.DESCRIBE),
    allow(ResourceType.TOPIC, 'open', AclOperation.READ),
  ]);
});

afterAll(async () => {
  for (const c of clients) c.close();
  await listener.close();
  await broker.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('share-group APIs under ACLs', () => {
  it('needs READ on the group and on each topic, and reads nothing it may not', async () => {
    const alice = await as('alice');
    const other = await alice.request(ApiKey.ShareGroupHeartbeat, 0, { groupId: 'private', memberId: '', memberEpoch: 0, rackId: null, subscribedTopicNames: ['open'] });
    expect(other.errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    const joined = await alice.request(ApiKey.ShareGroupHeartbeat, 0, { groupId: 'shared', memberId: '', memberEpoch: 0, rackId: null, subscribedTopicNames: ['open'] });
    expect(joined.errorCode).toBe(0);
    const fetched = await alice.request(ApiKey.ShareFetch, 0, {
      groupId: 'shared',
      memberId: joined.memberId,
      shareSessionEpoch: 0,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1 << 20,
      topics: [openId, closedId].map((topicId) => ({ topicId, partitions: [{ partitionIndex: 0, partitionMaxBytes: 1 << 20, acknowledgementBatches: [] }] })),
      forgottenTopicsData: [],
    });
    const byTopic = new Map(fetched.responses.map((t) => [t.topicId, t.partitions[0]!]));
    expect(byTopic.get(openId)!.acquiredRecords).toEqual([{ firstOffset: 0n, lastOffset: 0n, deliveryCount: 1 }]);
    expect(byTopic.get(closedId)).toMatchObject({ errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, records: null, acquiredRecords: [] });
    expect(broker.shareGroups.sharePartition('shared', 'closed', 0)).toBeUndefined();

    const described = await alice.request(ApiKey.ShareGroupDescribe, 0, { groupIds: ['shared', 'private'], includeAuthorizedOperations: false });
    const shared = described.groups.find((g) => g.groupId === 'shared')!;
    expect(shared).toMatchObject({ errorCode: 0, groupState: 'Stable', assignorName: 'simple' });
    expect(shared.members).toEqual([
      expect.objectContaining({ memberId: joined.memberId, clientId: 'alice', clientHost: '/127.0.0.1', subscribedTopicNames: ['open'], assignment: { topicPartitions: [{ topicId: openId, topicName: 'open', partitions: [0] }] } }),
    ]);
    expect(described.groups.find((g) => g.groupId === 'private')!.errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);

    const mallory = await as('mallory');
    const denied = await mallory.request(ApiKey.ShareAcknowledge, 0, { groupId: 'shared', memberId: joined.memberId, shareSessionEpoch: 1, topics: [] });
    expect(denied.errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
  });
});
