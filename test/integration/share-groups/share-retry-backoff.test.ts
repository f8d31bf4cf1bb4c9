import { afterEach, describe, expect, it } from 'vitest';
import type { BrokerOptions } from '../../../broker/broker.ts';
import { ShareDeadLetterHeader } from '../../../broker/share/share-dead-letter.ts';
import { openTestApp, type TestApp } from '../../unit/broker/http/http-test-support.ts';
import { headerMap, readTopic } from '../../helpers/share-fixtures.ts';
import { eventually } from '../../helpers/eventually.ts';

/** A clock the test moves: backoffs end when it says, not when real time passes. */
class TestClock {
  constructor(public ms: number) {}
  nowMs = (): number => this.ms;
}

const T0 = 1_800_000_000_000;

function options(clock: TestClock): Omit<BrokerOptions, 'config'> {
  return {
    clock,
    shareGroups: {
      defaults: { autoOffsetReset: 'earliest', deliveryCountLimit: 3, recordLockDurationMs: 10_000, sessionTimeoutMs: 3_600_000, retryBackoffMs: [1_000, 5_000] },
      sweepIntervalMs: 10,
    },
  };
}

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function join(t: TestApp): Promise<string> {
  const answer = await t.request('/v1/share-groups/retry/members', { json: { topics: ['work'] } });
  expect(answer.status).toBe(201);
  return (await answer.json()).memberId as string;
}

async function fetchOffsets(t: TestApp, member: string, maxWaitMs = 0): Promise<[number, number][]> {
  const answer = await t.request(`/v1/share-groups/retry/members/${member}/fetch`, { json: { maxRecords: 10, maxWaitMs } });
  expect(answer.status).toBe(200);
  return ((await answer.json()).records as { offset: number; deliveryCount: number }[]).map((r) => [r.offset, r.deliveryCount]);
}

async function acknowledge(t: TestApp, member: string, offset: number, type: string): Promise<void> {
  const answer = await t.request(`/v1/share-groups/retry/members/${member}/acknowledgements`, { json: { acknowledgements: [{ topic: 'work', partition: 0, offset, type }] } });
  expect(answer.status, JSON.stringify(await answer.clone().json())).toBe(200);
}

describe('share-group retry backoff (rill.share.retry.backoff.ms)', () => {
  it('holds a released record back for ladder[deliveryCount-1], durably across a restart, then redelivers it; past the delivery limit it is dead-lettered', async () => {
    const clock = new TestClock(T0);
    app = await openTestApp({}, undefined, options(clock));
    await app.broker.createTopic('work', { partitions: 1 });
    expect((await app.request('/v1/topics/work/records', { json: { records: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] } })).status).toBe(200);
    let member = await join(app);
    expect(await fetchOffsets(app, member)).toEqual([[0, 1], [1, 1], [2, 1]]);
    await acknowledge(app, member, 0, 'release');
    await acknowledge(app, member, 1, 'accept');
    // Released after its first delivery: held back 1000 ms; later records are not held up by it.
    expect((await app.request('/v1/topics/work/records', { json: { records: [{ value: 'd' }] } })).status).toBe(200);
    expect(await fetchOffsets(app, member)).toEqual([[3, 1]]);
    await acknowledge(app, member, 3, 'accept');
    clock.ms = T0 + 999;
    expect(await fetchOffsets(app, member)).toEqual([]);

    // A restart keeps the due time (it is in __share_group_state).
    const dir = app.dataDir;
    await app.close(false);
    app = await openTestApp({}, dir, options(clock));
    member = await join(app);
    expect(await fetchOffsets(app, member)).toEqual([[2, 2]]);
    expect(await fetchOffsets(app, member)).toEqual([]);
    await acknowledge(app, member, 2, 'accept');

    // Due: a fetch parked for records wakes when the sweep ends the backoff.
    const parked = fetchOffsets(app, member, 20_000);
    clock.ms = T0 + 1_000;
    expect(await parked).toEqual([[0, 2]]);

    // The second step (5000 ms), this time from a lock expiry.
    clock.ms = T0 + 11_000;
    await eventually(() => (app!.broker.shareGroups.sharePartition('retry', 'work', 0)!.inFlight(0)!.state === 'AVAILABLE' ? true : undefined), 'the lock to expire');
    clock.ms = T0 + 15_999;
    expect(await fetchOffsets(app, member)).toEqual([]);
    clock.ms = T0 + 16_000;
    expect(await fetchOffsets(app, member)).toEqual([[0, 3]]);
    // Released at the delivery limit (3): dead-lettered, not held back.
    await acknowledge(app, member, 0, 'release');
    const dead = await readTopic(app.broker, 'retry-dlq');
    expect(dead.map((r) => [headerMap(r)[ShareDeadLetterHeader.errorKind], headerMap(r)[ShareDeadLetterHeader.deliveryCount]])).toEqual([['delivery-limit', '3']]);
    expect(app.broker.shareGroups.sharePartition('retry', 'work', 0)!.startOffset).toBe(4);
  });
});
