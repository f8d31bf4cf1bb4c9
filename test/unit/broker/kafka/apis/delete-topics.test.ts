import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Broker } from '../../../../../broker/broker.ts';
import { deleteTopicsHandler } from '../../../../../broker/kafka/apis/delete-topics.ts';
import type { DeleteTopicsRequest } from '../../../../../sdk/protocol/mod.ts';
import { ZERO_UUID } from '../../../../../sdk/protocol/mod.ts';
import { ErrorCode, exchange, Gate, gatedFileSystem, openBroker, versionsOf } from './admin-test-support.ts';

/** A request naming topics by name, in the form the version carries. */
function byName(version: number, names: string[], timeoutMs = 30_000): DeleteTopicsRequest {
  return version >= 6
    ? { topics: names.map((name) => ({ name, topicId: ZERO_UUID })), topicNames: [], timeoutMs }
    : { topics: [], topicNames: names, timeoutMs };
}

function deleteTopics(broker: Broker, version: number, request: DeleteTopicsRequest) {
  return exchange(deleteTopicsHandler, broker, version, request);
}

describe.each(versionsOf(deleteTopicsHandler))('DeleteTopics v%i', (version) => {
  it('deletes topics by name and reports each one', async () => {
    const broker = await openBroker();
    const { topicId } = await broker.createTopic('gone', { partitions: 2 });
    await broker.createTopic('kept');
    const { wire } = await deleteTopics(broker, version, byName(version, ['gone']));
    expect(wire.responses).toHaveLength(1);
    expect(wire.responses[0]).toMatchObject({ name: 'gone', errorCode: ErrorCode.NONE });
    expect(wire.responses[0]!.topicId).toBe(version >= 6 ? topicId : ZERO_UUID);
    expect(broker.listTopics()).toEqual(['kept']);
  });

  it('answers an unknown topic with UNKNOWN_TOPIC_OR_PARTITION', async () => {
    const broker = await openBroker();
    const { wire } = await deleteTopics(broker, version, byName(version, ['missing']));
    expect(wire.responses[0]).toMatchObject({ name: 'missing', errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION });
    if (version >= 5) expect(wire.responses[0]!.errorMessage).toContain('"missing" does not exist');
  });

  it('refuses to delete an internal topic with INVALID_TOPIC_EXCEPTION', async () => {
    const broker = await openBroker();
    await broker.createTopic('__consumer_offsets');
    const { wire } = await deleteTopics(broker, version, byName(version, ['__consumer_offsets']));
    expect(wire.responses[0]!.errorCode).toBe(ErrorCode.INVALID_TOPIC_EXCEPTION);
    if (version >= 5) expect(wire.responses[0]!.errorMessage).toContain('internal topic');
    expect(broker.hasTopic('__consumer_offsets')).toBe(true);
  });

  it('rejects a topic named twice with INVALID_REQUEST, answers it once and keeps it', async () => {
    const broker = await openBroker();
    await broker.createTopic('twice');
    await broker.createTopic('once');
    const { wire } = await deleteTopics(broker, version, byName(version, ['twice', 'once', 'twice']));
    expect(wire.responses.map((r) => [r.name, r.errorCode])).toEqual([
      ['twice', ErrorCode.INVALID_REQUEST],
      ['once', ErrorCode.NONE],
    ]);
    expect(broker.listTopics()).toEqual(['twice']);
  });

  it.runIf(version >= 6)('deletes a topic named by its id', async () => {
    const broker = await openBroker();
    const { topicId } = await broker.createTopic('by-id');
    const { wire } = await deleteTopics(broker, version, { topics: [{ name: null, topicId }], topicNames: [], timeoutMs: 30_000 });
    expect(wire.responses[0]).toEqual({ name: 'by-id', topicId, errorCode: ErrorCode.NONE, errorMessage: null });
    expect(broker.hasTopic('by-id')).toBe(false);
  });

  it.runIf(version >= 6)('answers an unknown topic id with UNKNOWN_TOPIC_ID', async () => {
    const broker = await openBroker();
    await broker.createTopic('other');
    const topicId = '0123456789abcdef0123456789abcdef'.replace(/(.{8})(.{4})(.{4})(.{4})(.{12})/, '$1-$2-$3-$4-$5');
    const { wire } = await deleteTopics(broker, version, { topics: [{ name: null, topicId }], topicNames: [], timeoutMs: 30_000 });
    expect(wire.responses[0]).toMatchObject({ name: null, topicId, errorCode: ErrorCode.UNKNOWN_TOPIC_ID });
    expect(broker.hasTopic('other')).toBe(true);
  });

  it.runIf(version >= 6)('rejects an entry with both or neither of name and id as INVALID_REQUEST', async () => {
    const broker = await openBroker();
    const { topicId } = await broker.createTopic('named');
    const { wire } = await deleteTopics(broker, version, {
      topics: [
        { name: 'named', topicId },
        { name: null, topicId: ZERO_UUID },
      ],
      topicNames: [],
      timeoutMs: 30_000,
    });
    expect(wire.responses.map((r) => r.errorCode)).toEqual([ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_REQUEST]);
    expect(broker.hasTopic('named')).toBe(true);
  });
});

describe('DeleteTopics timeoutMs', () => {
  it.each([0, 6])('v%i answers REQUEST_TIMED_OUT when deletion outlasts the timeout, and the deletion still completes', async (version) => {
    const gate = new Gate();
    const { fs, entered } = gatedFileSystem('doomed-', gate, 'removeDirectory');
    const broker = await openBroker({ fs });
    await broker.createTopic('doomed-topic');
    const answer = deleteTopics(broker, version, byName(version, ['doomed-topic'], 1));
    await entered;
    const { wire } = await answer;
    expect(wire.responses[0]).toMatchObject({ name: 'doomed-topic', errorCode: ErrorCode.REQUEST_TIMED_OUT });
    expect(existsSync(join(broker.config.dataDir, 'doomed-topic-0'))).toBe(true);
    gate.open();
    // Topic changes run one at a time, so this waits for the timed-out deletion to finish.
    await broker.createTopic('after');
    expect(existsSync(join(broker.config.dataDir, 'doomed-topic-0'))).toBe(false);
    expect(broker.listTopics()).toEqual(['after']);
  });
});
