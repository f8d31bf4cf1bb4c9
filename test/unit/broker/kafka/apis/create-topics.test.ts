import { describe, expect, it } from 'vitest';
import type { Broker } from '../../../../../broker/broker.ts';
import { createTopicsHandler } from '../../../../../broker/kafka/apis/create-topics.ts';
import type { CreateTopicsRequestCreatableTopic } from '../../../../../sdk/protocol/mod.ts';
import { ZERO_UUID } from '../../../../../sdk/protocol/mod.ts';
import { ErrorCode, exchange, Gate, gatedFileSystem, openBroker, versionsOf } from './admin-test-support.ts';

function topic(name: string, fields: Partial<CreateTopicsRequestCreatableTopic> = {}): CreateTopicsRequestCreatableTopic {
  return { name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [], ...fields };
}

function create(broker: Broker, version: number, topics: CreateTopicsRequestCreatableTopic[], extra: { validateOnly?: boolean; timeoutMs?: number } = {}) {
  return exchange(createTopicsHandler, broker, version, { topics, timeoutMs: extra.timeoutMs ?? 30_000, validateOnly: extra.validateOnly ?? false });
}

function overrides(broker: Broker, name: string): Record<string, string> {
  return Object.fromEntries(broker.describeTopic(name).configs.filter((c) => !c.isDefault).map((c) => [c.name, c.value]));
}

describe.each(versionsOf(createTopicsHandler))('CreateTopics v%i', (version) => {
  it('creates a topic with its partitions and configs and describes it (v5+) with its id (v7)', async () => {
    const broker = await openBroker();
    const { wire } = await create(broker, version, [
      topic('orders', { numPartitions: 3, configs: [{ name: 'retention.ms', value: '1000' }, { name: 'cleanup.policy', value: 'compact' }] }),
    ]);
    expect(wire.topics).toHaveLength(1);
    const result = wire.topics[0]!;
    expect(result).toMatchObject({ name: 'orders', errorCode: ErrorCode.NONE });
    if (version >= 1) expect(result.errorMessage).toBeNull();
    const description = broker.describeTopic('orders');
    expect(description.partitions).toHaveLength(3);
    expect(overrides(broker, 'orders')).toEqual({ 'retention.ms': '1000', 'cleanup.policy': 'compact' });
    if (version >= 5) {
      expect(result.numPartitions).toBe(3);
      expect(result.replicationFactor).toBe(1);
      const configs = new Map(result.configs!.map((c) => [c.name, c]));
      expect(configs.get('retention.ms')).toEqual({ name: 'retention.ms', value: '1000', readOnly: false, configSource: 1, isSensitive: false });
      expect(configs.get('segment.bytes')).toMatchObject({ value: '1073741824', configSource: 5 });
      expect(configs.size).toBe(description.configs.length);
    }
    expect(result.topicId).toBe(version >= 7 ? description.topicId : ZERO_UUID);
  });

  it('uses the broker defaults for numPartitions and replicationFactor -1', async () => {
    const broker = await openBroker({ config: { defaultPartitions: 4 } });
    const { wire } = await create(broker, version, [topic('defaults', { numPartitions: -1, replicationFactor: -1 })]);
    expect(wire.topics[0]!.errorCode).toBe(ErrorCode.NONE);
    expect(broker.describeTopic('defaults').partitions).toHaveLength(4);
    if (version >= 5) expect(wire.topics[0]).toMatchObject({ numPartitions: 4, replicationFactor: 1 });
  });

  it.each([3, 0, -2])('rejects replication factor %i with INVALID_REPLICATION_FACTOR', async (replicationFactor) => {
    const broker = await openBroker();
    const { wire } = await create(broker, version, [topic('replicated', { replicationFactor })]);
    expect(wire.topics[0]).toMatchObject({ name: 'replicated', errorCode: ErrorCode.INVALID_REPLICATION_FACTOR });
    if (version >= 1) expect(wire.topics[0]!.errorMessage).toContain(`replication factor ${replicationFactor}`);
    if (version >= 5) expect(wire.topics[0]).toMatchObject({ numPartitions: -1, replicationFactor: -1, configs: null });
    expect(broker.hasTopic('replicated')).toBe(false);
  });

  it('accepts manual assignments that place every partition on this node', async () => {
    const broker = await openBroker();
    const assignments = [
      { partitionIndex: 1, brokerIds: [0] },
      { partitionIndex: 0, brokerIds: [0] },
    ];
    const { wire } = await create(broker, version, [topic('assigned', { numPartitions: -1, replicationFactor: -1, assignments })]);
    expect(wire.topics[0]!.errorCode).toBe(ErrorCode.NONE);
    expect(broker.describeTopic('assigned').partitions).toHaveLength(2);
  });

  it.each([
    ['another broker', [{ partitionIndex: 0, brokerIds: [1] }]],
    ['two replicas', [{ partitionIndex: 0, brokerIds: [0, 1] }]],
    ['no replicas', [{ partitionIndex: 0, brokerIds: [] }]],
    ['a gap in partition indexes', [{ partitionIndex: 0, brokerIds: [0] }, { partitionIndex: 2, brokerIds: [0] }]],
    ['a repeated partition index', [{ partitionIndex: 0, brokerIds: [0] }, { partitionIndex: 0, brokerIds: [0] }]],
  ])('rejects assignments with %s as INVALID_REPLICA_ASSIGNMENT', async (_, assignments) => {
    const broker = await openBroker();
    const { wire } = await create(broker, version, [topic('assigned', { numPartitions: -1, replicationFactor: -1, assignments })]);
    expect(wire.topics[0]!.errorCode).toBe(ErrorCode.INVALID_REPLICA_ASSIGNMENT);
    expect(broker.hasTopic('assigned')).toBe(false);
  });

  it('rejects assignments combined with a partition count as INVALID_REQUEST', async () => {
    const broker = await openBroker();
    const { wire } = await create(broker, version, [topic('both', { numPartitions: 1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [0] }] })]);
    expect(wire.topics[0]!.errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect(broker.hasTopic('both')).toBe(false);
  });

  it('answers an existing topic with TOPIC_ALREADY_EXISTS and leaves it alone', async () => {
    const broker = await openBroker();
    await broker.createTopic('exists', { partitions: 2 });
    const { wire } = await create(broker, version, [topic('exists', { numPartitions: 5 })]);
    expect(wire.topics[0]!.errorCode).toBe(ErrorCode.TOPIC_ALREADY_EXISTS);
    if (version >= 1) expect(wire.topics[0]!.errorMessage).toContain('"exists" already exists');
    expect(broker.describeTopic('exists').partitions).toHaveLength(2);
  });

  it.each([
    ['an illegal topic name', topic('bad name!'), ErrorCode.INVALID_TOPIC_EXCEPTION, 'contains characters'],
    ['zero partitions', topic('zero', { numPartitions: 0 }), ErrorCode.INVALID_PARTITIONS, 'partition count'],
    ['a bad config value', topic('cfg', { configs: [{ name: 'retention.ms', value: 'soon' }] }), ErrorCode.INVALID_CONFIG, 'retention.ms'],
    ['an unknown config', topic('cfg', { configs: [{ name: 'no.such.config', value: '1' }] }), ErrorCode.INVALID_CONFIG, 'no.such.config'],
    ['a null config value', topic('cfg', { configs: [{ name: 'retention.ms', value: null }] }), ErrorCode.INVALID_CONFIG, 'null'],
  ])('rejects %s', async (_, request, errorCode, message) => {
    const broker = await openBroker();
    const { wire } = await create(broker, version, [request]);
    expect(wire.topics[0]!.errorCode).toBe(errorCode);
    if (version >= 1) expect(wire.topics[0]!.errorMessage).toContain(message);
    expect(broker.listTopics({ includeInternal: true })).toEqual([]);
  });

  it('rejects a name given twice with INVALID_REQUEST, answers it once, and still creates the others', async () => {
    const broker = await openBroker();
    const { wire } = await create(broker, version, [topic('twice'), topic('single', { numPartitions: 2 }), topic('twice', { numPartitions: 3 })]);
    expect(wire.topics.map((t) => [t.name, t.errorCode])).toEqual([
      ['twice', ErrorCode.INVALID_REQUEST],
      ['single', ErrorCode.NONE],
    ]);
    expect(broker.listTopics()).toEqual(['single']);
  });

  it('answers several topics in request order, each with its own outcome', async () => {
    const broker = await openBroker();
    await broker.createTopic('b');
    const { wire } = await create(broker, version, [topic('c'), topic('b'), topic('a', { replicationFactor: 2 })]);
    expect(wire.topics.map((t) => [t.name, t.errorCode])).toEqual([
      ['c', ErrorCode.NONE],
      ['b', ErrorCode.TOPIC_ALREADY_EXISTS],
      ['a', ErrorCode.INVALID_REPLICATION_FACTOR],
    ]);
  });

  it.runIf(version >= 1)('validateOnly checks without creating anything', async () => {
    const broker = await openBroker();
    await broker.createTopic('exists');
    const { wire } = await create(
      broker,
      version,
      [topic('fresh', { numPartitions: 6, configs: [{ name: 'retention.ms', value: '5' }] }), topic('exists'), topic('bad', { configs: [{ name: 'segment.bytes', value: '1' }] })],
      { validateOnly: true },
    );
    expect(wire.topics.map((t) => [t.name, t.errorCode])).toEqual([
      ['fresh', ErrorCode.NONE],
      ['exists', ErrorCode.TOPIC_ALREADY_EXISTS],
      ['bad', ErrorCode.INVALID_CONFIG],
    ]);
    expect(wire.topics[2]!.errorMessage).toContain('segment.bytes');
    if (version >= 5) {
      expect(wire.topics[0]).toMatchObject({ numPartitions: 6, replicationFactor: 1 });
      expect(wire.topics[0]!.configs!.find((c) => c.name === 'retention.ms')).toMatchObject({ value: '5', configSource: 1 });
    }
    if (version >= 7) expect(wire.topics[0]!.topicId).toBe(ZERO_UUID);
    expect(broker.listTopics()).toEqual(['exists']);
  });
});

describe('CreateTopics timeoutMs', () => {
  it.each(versionsOf(createTopicsHandler).filter((v) => v === 0 || v === 7))(
    'v%i answers REQUEST_TIMED_OUT when creation outlasts the timeout, and the creation still completes',
    async (version) => {
      const gate = new Gate();
      const { fs, entered } = gatedFileSystem('slow-', gate, 'mkdir');
      const broker = await openBroker({ fs });
      const answer = create(broker, version, [topic('slow-topic', { numPartitions: 2 })], { timeoutMs: 1 });
      await entered;
      const { wire } = await answer;
      expect(wire.topics[0]).toMatchObject({ name: 'slow-topic', errorCode: ErrorCode.REQUEST_TIMED_OUT });
      if (version >= 1) expect(wire.topics[0]!.errorMessage).toContain('1 ms');
      gate.open();
      // Topic changes run one at a time, so this waits for the timed-out creation to finish.
      await broker.createTopic('after');
      expect(broker.describeTopic('slow-topic').partitions).toHaveLength(2);
    },
  );
});
