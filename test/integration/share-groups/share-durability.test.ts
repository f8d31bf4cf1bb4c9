import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Broker, type BrokerOptions } from '../../../broker/broker.ts';
import { FaultInjectingFileSystem } from '../../../broker/log/fault-injecting-file-system.ts';
import { nodeFileSystem } from '../../../broker/log/file-system.ts';
import { ShareDeadLetterHeader } from '../../../broker/share/share-dead-letter.ts';
import type { AcknowledgementBatch } from '../../../broker/share/share-partition.ts';
import { ErrorCode } from '../../../sdk/protocol/error-codes.ts';
import { eventually } from '../../helpers/eventually.ts';
import { appendValues, headerMap, readTopic } from '../../helpers/share-fixtures.ts';

const GROUP = 'g';
const TOPIC = 'd';
const shareGroups: BrokerOptions['shareGroups'] = { defaults: { autoOffsetReset: 'earliest', deliveryCountLimit: 2, recordLockDurationMs: 600_000 } };
const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rill-share-durable-'));
  dirs.push(dir);
  return dir;
}

function acks(partitionTopicId: string, batches: AcknowledgementBatch[]) {
  return [{ topicId: partitionTopicId, partition: 0, partitionMaxBytes: 1 << 20, acknowledgementBatches: batches }];
}

/** Joins a member and acquires everything it can, accepting as it goes; returns the offsets delivered. */
async function drain(broker: Broker, memberId: string): Promise<Map<number, number>> {
  const topicId = broker.describeTopic(TOPIC).topicId;
  const joined = await broker.shareGroups.heartbeat(GROUP, { memberId, memberEpoch: 0, rackId: null, subscribedTopicNames: [TOPIC] });
  expect(joined.errorCode).toBe(0);
  const delivered = new Map<number, number>();
  let pending: AcknowledgementBatch[] = [];
  for (let epoch = 0; ; epoch++) {
    const response = await broker.shareGroups.shareFetch({ groupId: GROUP, memberId, shareSessionEpoch: epoch, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, partitions: acks(topicId, pending), forgotten: [] });
    expect(response.errorCode).toBe(0);
    const ranges = response.partitions[0]?.acquiredRecords ?? [];
    if (ranges.length === 0 && pending.length === 0) return delivered;
    pending = ranges.map((r) => ({ firstOffset: r.firstOffset, lastOffset: r.lastOffset, acknowledgeTypes: [1] }));
    for (const r of ranges) for (let o = r.firstOffset; o <= r.lastOffset; o++) delivered.set(o, r.deliveryCount);
  }
}

describe('share-group state durability', () => {
  it('keeps acknowledgements and delivery counts across a restart', async () => {
    const dataDir = tempDir();
    let broker = await Broker.open({ config: { dataDir }, shareGroups });
    const topicId = (await broker.createTopic(TOPIC, { partitions: 1 })).topicId;
    await appendValues(broker, TOPIC, Array.from({ length: 10 }, (_, i) => `d-${i}`), 5);
    await broker.shareGroups.heartbeat(GROUP, { memberId: 'a', memberEpoch: 0, rackId: null, subscribedTopicNames: [TOPIC] });
    await broker.shareGroups.shareFetch({ groupId: GROUP, memberId: 'a', shareSessionEpoch: 0, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, partitions: acks(topicId, []), forgotten: [] });
    const acked = await broker.shareGroups.shareAcknowledge({ groupId: GROUP, memberId: 'a', shareSessionEpoch: 1, partitions: acks(topicId, [{ firstOffset: 0, lastOffset: 3, acknowledgeTypes: [1, 1, 2, 1] }]) });
    expect(acked.partitions[0]!.errorCode).toBe(0);
    await broker.close();

    broker = await Broker.open({ config: { dataDir }, shareGroups });
    const state = broker.shareGroups.sharePartition(GROUP, TOPIC, 0)!;
    expect(state.startOffset).toBe(2);
    expect(state.snapshot().ranges).toEqual([
      { firstOffset: 2, lastOffset: 2, state: 'AVAILABLE', deliveryCount: 1, availableAtMs: 0 },
      { firstOffset: 3, lastOffset: 3, state: 'ACKNOWLEDGED', deliveryCount: 1, availableAtMs: 0 },
      { firstOffset: 4, lastOffset: 9, state: 'AVAILABLE', deliveryCount: 1, availableAtMs: 0 },
    ]);
    const delivered = await drain(broker, 'b');
    expect([...delivered]).toEqual([2, 4, 5, 6, 7, 8, 9].map((o) => [o, 2]));
    await broker.close();
  });

  it('does not archive a record whose dead-letter copy failed: it is delivered again', async () => {
    const fs = new FaultInjectingFileSystem(nodeFileSystem);
    const broker = await Broker.open({ config: { dataDir: tempDir() }, fs, shareGroups });
    const topicId = (await broker.createTopic(TOPIC, { partitions: 1 })).topicId;
    await broker.createTopic('g-dlq', { partitions: 1 });
    await appendValues(broker, TOPIC, ['x', 'y']);
    await broker.shareGroups.heartbeat(GROUP, { memberId: 'a', memberEpoch: 0, rackId: null, subscribedTopicNames: [TOPIC] });
    await broker.shareGroups.shareFetch({ groupId: GROUP, memberId: 'a', shareSessionEpoch: 0, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, partitions: acks(topicId, []), forgotten: [] });
    fs.failNextOperation((operation) => operation.includes('g-dlq-0') && operation.startsWith('write'));
    const rejected = await broker.shareGroups.shareAcknowledge({ groupId: GROUP, memberId: 'a', shareSessionEpoch: 1, partitions: acks(topicId, [{ firstOffset: 0, lastOffset: 0, acknowledgeTypes: [3] }]) });
    expect(rejected.partitions[0]!.errorCode).not.toBe(ErrorCode.NONE);
    const state = broker.shareGroups.sharePartition(GROUP, TOPIC, 0)!;
    expect(state.startOffset).toBe(0);
    expect(state.inFlight(0)).toMatchObject({ state: 'AVAILABLE', deliveryCount: 1 });
    const again = await broker.shareGroups.shareFetch({ groupId: GROUP, memberId: 'a', shareSessionEpoch: 2, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, partitions: acks(topicId, []), forgotten: [] });
    expect(again.partitions[0]!.acquiredRecords).toEqual([{ firstOffset: 0, lastOffset: 0, deliveryCount: 2 }]);
    await broker.close().catch(() => undefined);
  });

  it('loses no record and undoes no answered acknowledgement whichever filesystem step a crash stops', async () => {
    const steps: { name: string; run: (broker: Broker, topicId: string) => Promise<unknown> }[] = [
      { name: 'join', run: (b) => b.shareGroups.heartbeat(GROUP, { memberId: 'a', memberEpoch: 0, rackId: null, subscribedTopicNames: [TOPIC] }) },
      { name: 'acquire', run: (b, t) => b.shareGroups.shareFetch({ groupId: GROUP, memberId: 'a', shareSessionEpoch: 0, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, partitions: acks(t, []), forgotten: [] }) },
      {
        name: 'accept 0-3, reject 4, release 5',
        run: (b, t) => b.shareGroups.shareFetch({ groupId: GROUP, memberId: 'a', shareSessionEpoch: 1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, partitions: acks(t, [{ firstOffset: 0, lastOffset: 5, acknowledgeTypes: [1, 1, 1, 1, 3, 2] }]), forgotten: [] }),
      },
      { name: 'accept 6-9, release 5 at the limit', run: (b, t) => b.shareGroups.shareAcknowledge({ groupId: GROUP, memberId: 'a', shareSessionEpoch: 2, partitions: acks(t, [{ firstOffset: 5, lastOffset: 9, acknowledgeTypes: [2, 1, 1, 1, 1] }]) }) },
    ];
    /** Offsets that must never come back once the step that finished them was answered. */
    const finishedBy = [[], [], [0, 1, 2, 3, 4], [5, 6, 7, 8, 9]];

    async function setUp(fs: FaultInjectingFileSystem) {
      const dataDir = tempDir();
      const broker = await Broker.open({ config: { dataDir }, fs, shareGroups });
      const topicId = (await broker.createTopic(TOPIC, { partitions: 1 })).topicId;
      await appendValues(broker, TOPIC, Array.from({ length: 10 }, (_, i) => `d-${i}`), 5);
      // Topic creation has its own crash tests; here the crashes land in share-state and
      // dead-letter appends only.
      await broker.createTopic('g-dlq', { partitions: 1 });
      await broker.shareGroups.heartbeat('warm-up', { memberId: 'w', memberEpoch: 0, rackId: null, subscribedTopicNames: [TOPIC] });
      return { dataDir, broker, topicId };
    }

    const dry = new FaultInjectingFileSystem(nodeFileSystem);
    const dryRun = await setUp(dry);
    const before = dry.operations.length;
    for (const step of steps) {
      const answer = (await step.run(dryRun.broker, dryRun.topicId)) as { errorCode: number };
      expect(answer.errorCode, step.name).toBe(0);
    }
    const total = dry.operations.length - before;
    await dryRun.broker.close();
    expect(total).toBeGreaterThan(4);

    for (let crashAt = 1; crashAt <= total; crashAt++) {
      const fs = new FaultInjectingFileSystem(nodeFileSystem);
      const { dataDir, broker, topicId } = await setUp(fs);
      fs.crashAtOperation(crashAt);
      const answered: number[] = [];
      for (const [i, step] of steps.entries()) {
        const answer = (await step.run(broker, topicId).catch(() => undefined)) as { errorCode: number; partitions?: { errorCode: number; acknowledgeErrorCode: number }[] } | undefined;
        const ok = answer !== undefined && answer.errorCode === 0 && (answer.partitions ?? []).every((p) => p.errorCode === 0 && p.acknowledgeErrorCode === 0);
        if (!ok || fs.hasCrashed) break;
        answered.push(...finishedBy[i]!);
      }
      await broker.close().catch(() => undefined);
      expect(fs.hasCrashed, `crash at step ${crashAt}`).toBe(true);

      const reopened = await Broker.open({ config: { dataDir }, shareGroups });
      try {
        const delivered = await drain(reopened, 'b');
        // A record restored at the delivery limit is copied to the dead-letter topic in the
        // background (the fetch that finds it starts the copy), and archived once the copy is durable.
        await eventually(() => (reopened.shareGroups.sharePartition(GROUP, TOPIC, 0)?.startOffset === 10 ? true : undefined), 'every record to be finished');
        const deadLetters = (await readTopic(reopened, 'g-dlq')).map((r) => Number(headerMap(r)[ShareDeadLetterHeader.offset]));
        const context = `crash before filesystem step ${crashAt} of ${total}, answered ${answered.join(',')}`;
        for (const offset of answered) expect(delivered.has(offset), `${context}: ${offset} came back`).toBe(false);
        const acknowledgedByScenario = new Set([0, 1, 2, 3, 6, 7, 8, 9]);
        for (let offset = 0; offset < 10; offset++) {
          const accountedFor = delivered.has(offset) || deadLetters.includes(offset) || acknowledgedByScenario.has(offset);
          expect(accountedFor, `${context}: ${offset} was lost`).toBe(true);
        }
        for (const count of delivered.values()) expect(count).toBeLessThanOrEqual(2);
      } finally {
        await reopened.close();
      }
    }
  });
});
