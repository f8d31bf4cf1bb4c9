import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Broker } from '../../../broker/broker.ts';
import { KafkaListener } from '../../../broker/kafka/kafka-listener.ts';
import { ShareDeadLetterHeader } from '../../../broker/share/share-dead-letter.ts';
import { ApiKey, type ShareFetchRequest, type ShareFetchResponse } from '../../../sdk/protocol/mod.ts';
import { ErrorCode } from '../../../sdk/protocol/error-codes.ts';
import { readRecordBatches } from '../../../sdk/record/mod.ts';
import { RawKafkaClient } from '../../helpers/raw-kafka-client.ts';
import { appendValues, headerMap, readTopic, text } from '../../helpers/share-fixtures.ts';
import { eventually } from '../../helpers/eventually.ts';

let dir: string;
let broker: Broker;
let listener: KafkaListener;
let raw: RawKafkaClient;
let topicId: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rill-share-protocol-'));
  broker = await Broker.open({
    config: { dataDir: dir },
    shareGroups: {
      defaults: { autoOffsetReset: 'earliest', recordLockDurationMs: 200, deliveryCountLimit: 2 },
      // Locks that outlast the test, so which member holds what never depends on its speed.
      groups: { 'g-errors': { recordLockDurationMs: 600_000 }, 'g-dlq': { recordLockDurationMs: 600_000 }, 'g-timeout': { recordLockDurationMs: 600_000, sessionTimeoutMs: 1_000 } },
      sweepIntervalMs: 20,
    },
  });
  listener = await KafkaListener.start(broker, { host: '127.0.0.1', port: 0, limits: { shutdownGraceMs: 0 } });
  raw = await RawKafkaClient.connect(listener.port);
  topicId = (await broker.createTopic('jobs', { partitions: 1 })).topicId;
  await appendValues(broker, 'jobs', Array.from({ length: 10 }, (_, i) => `job-${i}`));
});

afterAll(async () => {
  raw.close();
  await listener.close();
  await broker.close();
  rmSync(dir, { recursive: true, force: true });
});

async function joinGroup(groupId: string, topics = ['jobs']) {
  const response = await raw.request(ApiKey.ShareGroupHeartbeat, 0, { groupId, memberId: '', memberEpoch: 0, rackId: null, subscribedTopicNames: topics });
  expect(response.errorCode).toBe(0);
  return response;
}

function shareFetch(groupId: string, memberId: string, epoch: number, acks: ShareFetchRequest['topics'][number]['partitions'][number]['acknowledgementBatches'] = [], maxWaitMs = 0): ShareFetchRequest {
  return {
    groupId,
    memberId,
    shareSessionEpoch: epoch,
    maxWaitMs,
    minBytes: 1,
    maxBytes: 1 << 20,
    topics: [{ topicId, partitions: [{ partitionIndex: 0, partitionMaxBytes: 1 << 20, acknowledgementBatches: acks }] }],
    forgottenTopicsData: [],
  };
}

function partitionOf(response: ShareFetchResponse) {
  return response.responses[0]!.partitions[0]!;
}

function values(response: ShareFetchResponse): string[] {
  const p = partitionOf(response);
  const acquired = (offset: number) => p.acquiredRecords.some((r) => BigInt(offset) >= r.firstOffset && BigInt(offset) <= r.lastOffset);
  const out: string[] = [];
  for (const batch of readRecordBatches(p.records ?? new Uint8Array(0))) for (const r of batch.records()) if (acquired(r.offset)) out.push(text(r.value)!);
  return out;
}

describe('share groups over the Kafka protocol', () => {
  it('advertises ShareGroupHeartbeat, ShareFetch and ShareAcknowledge v0', async () => {
    const response = await raw.request(ApiKey.ApiVersions, 3, { clientSoftwareName: 'test', clientSoftwareVersion: '1' });
    for (const key of [ApiKey.ShareGroupHeartbeat, ApiKey.ShareFetch, ApiKey.ShareAcknowledge]) {
      expect(response.apiKeys.find((k) => k.apiKey === key)).toMatchObject({ minVersion: 0, maxVersion: 0 });
    }
  });

  it('joins, fences a stale epoch, refuses unknown members and leaves', async () => {
    const joined = await joinGroup('g-members');
    expect(joined.memberId).not.toBeNull();
    expect(joined.memberEpoch).toBeGreaterThan(0);
    expect(joined.assignment?.topicPartitions).toEqual([{ topicId, partitions: [0] }]);
    const memberId = joined.memberId!;
    const stale = await raw.request(ApiKey.ShareGroupHeartbeat, 0, { groupId: 'g-members', memberId, memberEpoch: joined.memberEpoch + 5, rackId: null, subscribedTopicNames: null });
    expect(stale.errorCode).toBe(ErrorCode.FENCED_MEMBER_EPOCH);
    const unknown = await raw.request(ApiKey.ShareGroupHeartbeat, 0, { groupId: 'g-members', memberId: 'nobody', memberEpoch: 3, rackId: null, subscribedTopicNames: null });
    expect(unknown.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    const second = await joinGroup('g-members');
    // Two members on one partition: both get it (share groups share partitions).
    expect(second.assignment?.topicPartitions).toEqual([{ topicId, partitions: [0] }]);
    const left = await raw.request(ApiKey.ShareGroupHeartbeat, 0, { groupId: 'g-members', memberId, memberEpoch: -1, rackId: null, subscribedTopicNames: null });
    expect(left).toMatchObject({ errorCode: 0, memberEpoch: -1 });
    const fetchAfterLeave = await raw.request(ApiKey.ShareFetch, 0, shareFetch('g-members', memberId, 0));
    expect(fetchAfterLeave.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('answers bad session epochs and acknowledgements of records not acquired with Kafka error codes', async () => {
    const { memberId } = await joinGroup('g-errors');
    const unknown = await raw.request(ApiKey.ShareFetch, 0, shareFetch('g-errors', 'nobody', 0));
    expect(unknown.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    const noSession = await raw.request(ApiKey.ShareFetch, 0, shareFetch('g-errors', memberId!, 3));
    expect(noSession.errorCode).toBe(ErrorCode.SHARE_SESSION_NOT_FOUND);
    const first = await raw.request(ApiKey.ShareFetch, 0, shareFetch('g-errors', memberId!, 0));
    expect(first.errorCode).toBe(0);
    expect(partitionOf(first).acquiredRecords).toEqual([{ firstOffset: 0n, lastOffset: 9n, deliveryCount: 1 }]);
    const badEpoch = await raw.request(ApiKey.ShareFetch, 0, shareFetch('g-errors', memberId!, 7));
    expect(badEpoch.errorCode).toBe(ErrorCode.INVALID_SHARE_SESSION_EPOCH);
    const openWithAcks = await raw.request(ApiKey.ShareFetch, 0, shareFetch('g-errors', memberId!, 0, [{ firstOffset: 0n, lastOffset: 0n, acknowledgeTypes: [1] }]));
    expect(openWithAcks.errorCode).toBe(ErrorCode.INVALID_REQUEST);
    // The refused request did not replace the session: epoch 1 is still the next one.
    const notAcquired = await raw.request(ApiKey.ShareAcknowledge, 0, {
      groupId: 'g-errors',
      memberId: memberId!,
      shareSessionEpoch: 1,
      topics: [{ topicId, partitions: [{ partitionIndex: 0, acknowledgementBatches: [{ firstOffset: 8n, lastOffset: 12n, acknowledgeTypes: [1] }] }] }],
    });
    expect(notAcquired.responses[0]!.partitions[0]!.errorCode).toBe(ErrorCode.INVALID_RECORD_STATE);
    const ackOpens = await raw.request(ApiKey.ShareAcknowledge, 0, { groupId: 'g-errors', memberId: memberId!, shareSessionEpoch: 0, topics: [] });
    expect(ackOpens.errorCode).toBe(ErrorCode.INVALID_SHARE_SESSION_EPOCH);
    // Another member cannot acknowledge what this one holds.
    const other = await joinGroup('g-errors');
    await raw.request(ApiKey.ShareFetch, 0, shareFetch('g-errors', other.memberId!, 0));
    const stolen = await raw.request(ApiKey.ShareAcknowledge, 0, {
      groupId: 'g-errors',
      memberId: other.memberId!,
      shareSessionEpoch: 1,
      topics: [{ topicId, partitions: [{ partitionIndex: 0, acknowledgementBatches: [{ firstOffset: 0n, lastOffset: 0n, acknowledgeTypes: [1] }] }] }],
    });
    expect(stolen.responses[0]!.partitions[0]!.errorCode).toBe(ErrorCode.INVALID_RECORD_STATE);
    expect(broker.shareGroups.sharePartition('g-errors', 'jobs', 0)!.inFlight(0)?.state).toBe('ACQUIRED');
  });

  it('accepts, releases and rejects; a rejected record and one past the delivery limit land in the dead-letter topic', async () => {
    const { memberId } = await joinGroup('g-dlq');
    const first = await raw.request(ApiKey.ShareFetch, 0, shareFetch('g-dlq', memberId!, 0));
    expect(values(first)).toEqual(Array.from({ length: 10 }, (_, i) => `job-${i}`));
    // Accept 0-4, reject 5, release 6-8, keep 9 (locks last 10 minutes here: nothing expires
    // between two requests on a slow machine; share-consumer.test.ts covers lock expiry).
    const second = await raw.request(
      ApiKey.ShareFetch,
      0,
      shareFetch('g-dlq', memberId!, 1, [
        { firstOffset: 0n, lastOffset: 4n, acknowledgeTypes: [1] },
        { firstOffset: 5n, lastOffset: 8n, acknowledgeTypes: [3, 2, 2, 2] },
      ]),
    );
    expect(partitionOf(second).acknowledgeErrorCode).toBe(0);
    expect(partitionOf(second).acquiredRecords).toEqual([{ firstOffset: 6n, lastOffset: 8n, deliveryCount: 2 }]);
    const rejected = (await readTopic(broker, 'g-dlq-dlq')).map(headerMap);
    expect(rejected).toEqual([
      expect.objectContaining({ [ShareDeadLetterHeader.errorKind]: 'rejected', [ShareDeadLetterHeader.topic]: 'jobs', [ShareDeadLetterHeader.partition]: '0', [ShareDeadLetterHeader.offset]: '5', [ShareDeadLetterHeader.deliveryCount]: '1' }),
    ]);
    // Release 6-9: 9 comes back with delivery count 2; 6-8 are at the limit of 2 and go to the
    // dead-letter topic instead.
    const third = await raw.request(ApiKey.ShareFetch, 0, shareFetch('g-dlq', memberId!, 2, [{ firstOffset: 6n, lastOffset: 9n, acknowledgeTypes: [2] }], 5_000));
    expect(partitionOf(third).acknowledgeErrorCode).toBe(0);
    expect(partitionOf(third).acquiredRecords).toEqual([{ firstOffset: 9n, lastOffset: 9n, deliveryCount: 2 }]);
    const dead = await eventually(async () => {
      const records = await readTopic(broker, 'g-dlq-dlq');
      return records.length === 4 ? records : undefined;
    }, 'four dead letters');
    expect(dead.slice(1).map((r) => [text(r.value), headerMap(r)[ShareDeadLetterHeader.errorKind], headerMap(r)[ShareDeadLetterHeader.deliveryCount]])).toEqual([
      ['job-6', 'delivery-limit', '2'],
      ['job-7', 'delivery-limit', '2'],
      ['job-8', 'delivery-limit', '2'],
    ]);
    const state = broker.shareGroups.sharePartition('g-dlq', 'jobs', 0)!;
    expect(state.startOffset).toBe(9);
    // A closing acknowledgement (epoch -1) accepts 9 and ends the session.
    const closed = await raw.request(ApiKey.ShareAcknowledge, 0, {
      groupId: 'g-dlq',
      memberId: memberId!,
      shareSessionEpoch: -1,
      topics: [{ topicId, partitions: [{ partitionIndex: 0, acknowledgementBatches: [{ firstOffset: 9n, lastOffset: 9n, acknowledgeTypes: [1] }] }] }],
    });
    expect(closed.responses[0]!.partitions[0]!.errorCode).toBe(0);
    expect(state.startOffset).toBe(10);
    const afterClose = await raw.request(ApiKey.ShareFetch, 0, shareFetch('g-dlq', memberId!, 4));
    expect(afterClose.errorCode).toBe(ErrorCode.SHARE_SESSION_NOT_FOUND);
  });

  it('releases what a member holds once it stops heartbeating past the session timeout', async () => {
    const { memberId } = await joinGroup('g-timeout');
    const held = await raw.request(ApiKey.ShareFetch, 0, shareFetch('g-timeout', memberId!, 0));
    expect(partitionOf(held).acquiredRecords).toEqual([{ firstOffset: 0n, lastOffset: 9n, deliveryCount: 1 }]);
    // Locks last 10 minutes; only the member's session timeout (1 s) can free the records.
    await eventually(() => (broker.shareGroups.sharePartition('g-timeout', 'jobs', 0)!.inFlight(0)?.state === 'AVAILABLE' ? true : undefined), 'the silent member to expire');
    const gone = await raw.request(ApiKey.ShareFetch, 0, shareFetch('g-timeout', memberId!, 1));
    expect(gone.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    const next = await joinGroup('g-timeout');
    const taken = await raw.request(ApiKey.ShareFetch, 0, shareFetch('g-timeout', next.memberId!, 0));
    expect(partitionOf(taken).acquiredRecords).toEqual([{ firstOffset: 0n, lastOffset: 9n, deliveryCount: 2 }]);
  });

  it('wakes a parked fetch when records arrive', async () => {
    await broker.createTopic('later', { partitions: 1 });
    const laterId = broker.describeTopic('later').topicId;
    const { memberId } = await joinGroup('g-later', ['later']);
    // Ten minutes, far past the test's timeout: only the arriving record can answer this fetch.
    const request = { ...shareFetch('g-later', memberId!, 0, [], 600_000), topics: [{ topicId: laterId, partitions: [{ partitionIndex: 0, partitionMaxBytes: 1 << 20, acknowledgementBatches: [] }] }] };
    // latest/earliest does not matter here: the topic is empty when the share partition starts.
    const pending = raw.request(ApiKey.ShareFetch, 0, request);
    await eventually(() => (broker.shareGroups.sharePartition('g-later', 'later', 0) !== undefined ? true : undefined), 'the share partition to start');
    await appendValues(broker, 'later', ['late']);
    const response = await pending;
    expect(partitionOf(response).acquiredRecords).toEqual([{ firstOffset: 0n, lastOffset: 0n, deliveryCount: 1 }]);
  });
});
