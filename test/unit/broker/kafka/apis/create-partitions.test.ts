import { describe, expect, it } from 'vitest';
import type { Broker } from '../../../../../broker/broker.ts';
import { createPartitionsHandler } from '../../../../../broker/kafka/apis/create-partitions.ts';
import type { CreatePartitionsRequestCreatePartitionsTopic } from '../../../../../sdk/protocol/mod.ts';
import { ErrorCode, exchange, Gate, gatedFileSystem, openBroker, versionsOf } from './admin-test-support.ts';

function grow(name: string, count: number, assignments: number[][] | null = null): CreatePartitionsRequestCreatePartitionsTopic {
  return { name, count, assignments: assignments === null ? null : assignments.map((brokerIds) => ({ brokerIds })) };
}

function createPartitions(broker: Broker, version: number, topics: CreatePartitionsRequestCreatePartitionsTopic[], extra: { validateOnly?: boolean; timeoutMs?: number } = {}) {
  return exchange(createPartitionsHandler, broker, version, { topics, timeoutMs: extra.timeoutMs ?? 30_000, validateOnly: extra.validateOnly ?? false });
}

function partitionCount(broker: Broker, name: string): number {
  return broker.describeTopic(name).partitions.length;
}

describe.each(versionsOf(createPartitionsHandler))('CreatePartitions v%i', (version) => {
  it('grows a topic when assignments are left to the broker', async () => {
    const broker = await openBroker();
    await broker.createTopic('grow');
    const { wire } = await createPartitions(broker, version, [grow('grow', 3)]);
    expect(wire.results).toEqual([{ name: 'grow', errorCode: ErrorCode.NONE, errorMessage: null }]);
    expect(partitionCount(broker, 'grow')).toBe(3);
  });

  it('accepts assignments that place every new partition on this node', async () => {
    const broker = await openBroker();
    await broker.createTopic('grow', { partitions: 2 });
    const { wire } = await createPartitions(broker, version, [grow('grow', 4, [[0], [0]])]);
    expect(wire.results[0]!.errorCode).toBe(ErrorCode.NONE);
    expect(partitionCount(broker, 'grow')).toBe(4);
  });

  it.each([
    ['another broker', [[0], [1]], 'brokers [1]'],
    ['two replicas', [[0, 1], [0]], 'brokers [0, 1]'],
    ['too few assignments', [[0]], '1 assignments'],
    ['too many assignments', [[0], [0], [0]], '3 assignments'],
  ])('rejects assignments with %s as INVALID_REPLICA_ASSIGNMENT', async (_, assignments, message) => {
    const broker = await openBroker();
    await broker.createTopic('grow');
    const { wire } = await createPartitions(broker, version, [grow('grow', 3, assignments)]);
    expect(wire.results[0]!.errorCode).toBe(ErrorCode.INVALID_REPLICA_ASSIGNMENT);
    expect(wire.results[0]!.errorMessage).toContain(message);
    expect(partitionCount(broker, 'grow')).toBe(1);
  });

  it.each([2, 1, 0])('rejects a count of %i for a 2-partition topic with INVALID_PARTITIONS', async (count) => {
    const broker = await openBroker();
    await broker.createTopic('grow', { partitions: 2 });
    const { wire } = await createPartitions(broker, version, [grow('grow', count, [[0]])]);
    expect(wire.results[0]!.errorCode).toBe(ErrorCode.INVALID_PARTITIONS);
    expect(partitionCount(broker, 'grow')).toBe(2);
  });

  it('answers an unknown topic with a result of its own, never an empty response', async () => {
    const broker = await openBroker();
    const { wire } = await createPartitions(broker, version, [grow('missing', 2), grow('missing-with-assignments', 2, [[0]])]);
    expect(wire.results.map((r) => [r.name, r.errorCode])).toEqual([
      ['missing', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      ['missing-with-assignments', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    ]);
    expect(wire.results[0]!.errorMessage).toContain('"missing" does not exist');
  });

  it('validateOnly checks without adding partitions', async () => {
    const broker = await openBroker();
    await broker.createTopic('grow');
    const { wire } = await createPartitions(broker, version, [grow('grow', 5), grow('missing', 2)], { validateOnly: true });
    expect(wire.results.map((r) => [r.name, r.errorCode])).toEqual([
      ['grow', ErrorCode.NONE],
      ['missing', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    ]);
    expect(partitionCount(broker, 'grow')).toBe(1);
    const invalid = await createPartitions(broker, version, [grow('grow', 1)], { validateOnly: true });
    expect(invalid.wire.results[0]!.errorCode).toBe(ErrorCode.INVALID_PARTITIONS);
  });

  it('rejects a topic named twice with INVALID_REQUEST, answers it once, and grows the others', async () => {
    const broker = await openBroker();
    await broker.createTopic('twice');
    await broker.createTopic('once');
    const { wire } = await createPartitions(broker, version, [grow('twice', 2), grow('once', 2), grow('twice', 3)]);
    expect(wire.results.map((r) => [r.name, r.errorCode])).toEqual([
      ['twice', ErrorCode.INVALID_REQUEST],
      ['once', ErrorCode.NONE],
    ]);
    expect(partitionCount(broker, 'twice')).toBe(1);
    expect(partitionCount(broker, 'once')).toBe(2);
  });
});

describe('CreatePartitions timeoutMs', () => {
  it.each([0, 3])('v%i answers REQUEST_TIMED_OUT when growth outlasts the timeout, and the growth still completes', async (version) => {
    const gate = new Gate();
    const { fs, entered } = gatedFileSystem('slow-topic-1', gate, 'mkdir');
    const broker = await openBroker({ fs });
    await broker.createTopic('slow-topic');
    const answer = createPartitions(broker, version, [grow('slow-topic', 2)], { timeoutMs: 1 });
    await entered;
    const { wire } = await answer;
    expect(wire.results[0]).toMatchObject({ name: 'slow-topic', errorCode: ErrorCode.REQUEST_TIMED_OUT });
    gate.open();
    // Topic changes run one at a time, so this waits for the timed-out growth to finish.
    await broker.createTopic('after');
    expect(partitionCount(broker, 'slow-topic')).toBe(2);
  });
});
