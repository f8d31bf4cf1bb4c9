import { afterEach, describe, expect, it } from 'vitest';
import { AclOperation, type AclOperationValue, AclPermission, PatternType, ResourceType } from '../../../broker/auth/acl.ts';
import { KafkaListener } from '../../../broker/kafka/kafka-listener.ts';
import { ShareDeadLetterHeader } from '../../../broker/share/share-dead-letter.ts';
import { ErrorCode } from '../../../sdk/protocol/error-codes.ts';
import { ApiKey } from '../../../sdk/protocol/mod.ts';
import { RawKafkaClient } from '../../helpers/raw-kafka-client.ts';
import { headerMap, readTopic } from '../../helpers/share-fixtures.ts';
import { openTestApp, type TestApp } from '../../unit/broker/http/http-test-support.ts';

const GROUP = 32;

let app: TestApp | undefined;
let listener: KafkaListener | undefined;
let raw: RawKafkaClient | undefined;
afterEach(async () => {
  raw?.close();
  await listener?.close();
  await app?.close();
  raw = undefined;
  listener = undefined;
  app = undefined;
});

async function open(dir?: string, authorizer?: { superUsers: string[] }): Promise<void> {
  raw?.close();
  await listener?.close();
  app = await openTestApp({}, dir, { shareGroups: { defaults: { autoOffsetReset: 'earliest' } }, ...(authorizer === undefined ? {} : { authorizer }) });
  listener = await KafkaListener.start(app.broker, { host: '127.0.0.1', port: 0, limits: { shutdownGraceMs: 0 } });
  raw = await RawKafkaClient.connect(listener.port);
}

async function restart(): Promise<void> {
  const dir = app!.dataDir;
  raw!.close();
  await listener!.close();
  await app!.close(false);
  raw = undefined;
  listener = undefined;
  await open(dir);
}

async function describeGroup(group: string): Promise<Record<string, { value: string | null; source: number }>> {
  const answer = await raw!.request(ApiKey.DescribeConfigs, 4, { resources: [{ resourceType: GROUP, resourceName: group, configurationKeys: null }], includeSynonyms: true, includeDocumentation: true });
  const result = answer.results[0]!;
  expect(result.errorCode, result.errorMessage ?? '').toBe(0);
  return Object.fromEntries(result.configs.map((c) => [c.name, { value: c.value, source: c.configSource }]));
}

async function alter(group: string, configs: { name: string; configOperation: number; value: string | null }[], validateOnly = false) {
  const answer = await raw!.request(ApiKey.IncrementalAlterConfigs, 1, { resources: [{ resourceType: GROUP, resourceName: group, configs }], validateOnly });
  return answer.responses[0]!;
}

describe('share group configs on the GROUP config resource (type 32)', () => {
  it('describes defaults, sets and validates overrides all or none, applies them to a running group, keeps them across a restart, and deletes them', async () => {
    await open();
    expect(await describeGroup('orders')).toEqual({
      'share.record.lock.duration.ms': { value: '30000', source: 5 },
      'share.delivery.count.limit': { value: '5', source: 5 },
      'share.auto.offset.reset': { value: 'earliest', source: 5 },
      'share.isolation.level': { value: 'read_committed', source: 5 },
      'rill.share.dead.letter.topic': { value: 'orders-dlq', source: 5 },
      'rill.share.retry.backoff.ms': { value: '', source: 5 },
    });

    const bad: [string, string, number, string][] = [
      ['share.delivery.count.limit', '0', ErrorCode.INVALID_CONFIG, 'share.delivery.count.limit must be a positive integer'],
      ['share.record.lock.duration.ms', 'soon', ErrorCode.INVALID_CONFIG, 'must be an integer'],
      ['share.auto.offset.reset', 'middle', ErrorCode.INVALID_CONFIG, 'latest or earliest'],
      ['share.isolation.level', 'dirty', ErrorCode.INVALID_CONFIG, 'read_committed or read_uncommitted'],
      ['rill.share.dead.letter.topic', 'no spaces', ErrorCode.INVALID_CONFIG, 'not a valid topic name'],
      ['rill.share.dead.letter.topic', '__consumer_offsets', ErrorCode.INVALID_CONFIG, 'internal topic'],
      ['rill.share.retry.backoff.ms', '1000,-5', ErrorCode.INVALID_CONFIG, 'non-negative'],
      ['retention.ms', '1', ErrorCode.INVALID_CONFIG, 'is not a share group config'],
    ];
    for (const [name, value, errorCode, message] of bad) {
      // A good change next to a bad one is not applied either.
      const good = name === 'share.isolation.level' ? { name: 'share.record.lock.duration.ms', configOperation: 0, value: '12345' } : { name: 'share.isolation.level', configOperation: 0, value: 'read_uncommitted' };
      const answer = await alter('orders', [good, { name, configOperation: 0, value }]);
      expect([answer.errorCode, answer.errorMessage], `${name}=${value}`).toEqual([errorCode, expect.stringContaining(message)]);
    }
    expect((await alter('orders', [{ name: 'rill.share.retry.backoff.ms', configOperation: 2, value: '5' }])).errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect((await alter('orders', [{ name: 'share.delivery.count.limit', configOperation: 0, value: '3' }], true)).errorCode).toBe(0);
    const unchanged = await describeGroup('orders');
    expect([unchanged['share.delivery.count.limit'], unchanged['share.isolation.level'], unchanged['share.record.lock.duration.ms']]).toEqual([
      { value: '5', source: 5 },
      { value: 'read_committed', source: 5 },
      { value: '30000', source: 5 },
    ]);

    // A running group: a member holds a record; the limit drops to 1 and its release dead-letters it.
    await app!.broker.createTopic('jobs', { partitions: 1 });
    expect((await app!.request('/v1/topics/jobs/records', { json: { records: [{ value: 'x' }] } })).status).toBe(200);
    const member = (await (await app!.request('/v1/share-groups/orders/members', { json: { topics: ['jobs'] } })).json()).memberId as string;
    const fetched = await (await app!.request(`/v1/share-groups/orders/members/${member}/fetch`, { json: {} })).json();
    expect(fetched.records).toHaveLength(1);
    const set = await alter('orders', [
      { name: 'share.delivery.count.limit', configOperation: 0, value: '1' },
      { name: 'rill.share.dead.letter.topic', configOperation: 0, value: 'orders.failed' },
      { name: 'rill.share.retry.backoff.ms', configOperation: 0, value: '1000, 10000,60000' },
    ]);
    expect([set.errorCode, set.errorMessage]).toEqual([0, null]);
    const released = await app!.request(`/v1/share-groups/orders/members/${member}/acknowledgements`, { json: { acknowledgements: [{ topic: 'jobs', partition: 0, offset: 0, type: 'release' }] } });
    expect(released.status).toBe(200);
    const dead = await readTopic(app!.broker, 'orders.failed');
    expect(dead.map((r) => headerMap(r)[ShareDeadLetterHeader.errorKind])).toEqual(['delivery-limit']);

    await restart();
    expect(await describeGroup('orders')).toMatchObject({
      'share.delivery.count.limit': { value: '1', source: 8 },
      'rill.share.dead.letter.topic': { value: 'orders.failed', source: 8 },
      'rill.share.retry.backoff.ms': { value: '1000,10000,60000', source: 8 },
      'share.record.lock.duration.ms': { value: '30000', source: 5 },
    });
    expect(app!.broker.shareGroups.configOf('orders')).toMatchObject({ deliveryCountLimit: 1, deadLetterTopic: 'orders.failed', retryBackoffMs: [1000, 10000, 60000] });
    // Other groups keep the defaults.
    expect((await describeGroup('other'))['share.delivery.count.limit']).toEqual({ value: '5', source: 5 });

    const removed = await alter('orders', [
      { name: 'share.delivery.count.limit', configOperation: 1, value: null },
      { name: 'rill.share.dead.letter.topic', configOperation: 1, value: null },
      { name: 'rill.share.retry.backoff.ms', configOperation: 1, value: null },
    ]);
    expect(removed.errorCode).toBe(0);
    await restart();
    expect(Object.values(await describeGroup('orders')).every((c) => c.source === 5)).toBe(true);
    expect(app!.broker.shareGroups.configOf('orders')).toMatchObject({ deliveryCountLimit: 5, deadLetterTopic: null, retryBackoffMs: [] });
  });

  it('needs Group AlterConfigs to alter and Group DescribeConfigs to describe, as Kafka checks the GROUP resource', async () => {
    await open(undefined, { superUsers: [] });
    const denied = await alter('orders', [{ name: 'share.delivery.count.limit', configOperation: 0, value: '2' }]);
    expect(denied.errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    const described = await raw!.request(ApiKey.DescribeConfigs, 4, { resources: [{ resourceType: GROUP, resourceName: 'orders', configurationKeys: null }], includeSynonyms: false, includeDocumentation: false });
    expect(described.results[0]!.errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    const grant = (operation: AclOperationValue) => ({ resourceType: ResourceType.GROUP, resourceName: 'orders', patternType: PatternType.LITERAL, principal: 'User:ANONYMOUS', host: '*', operation, permissionType: AclPermission.ALLOW });
    await app!.broker.authorizer!.createAcls([grant(AclOperation.ALTER_CONFIGS), grant(AclOperation.DESCRIBE_CONFIGS)]);
    expect((await alter('orders', [{ name: 'share.delivery.count.limit', configOperation: 0, value: '2' }])).errorCode).toBe(0);
    expect((await describeGroup('orders'))['share.delivery.count.limit']).toEqual({ value: '2', source: 8 });
    expect((await alter('others', [{ name: 'share.delivery.count.limit', configOperation: 0, value: '2' }])).errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
  });
});
