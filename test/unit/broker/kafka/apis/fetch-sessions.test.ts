import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Broker } from '../../../../../broker/broker.ts';
import { FetchSessionCache } from '../../../../../broker/fetch/fetch-session-cache.ts';
import { fetchHandler } from '../../../../../broker/kafka/apis/fetch.ts';
import { Acks } from '../../../../../broker/log/acks.ts';
import { ErrorCode } from '../../../../../sdk/protocol/error-codes.ts';
import type { FetchRequest, FetchResponse } from '../../../../../sdk/protocol/messages/fetch.ts';
import { readRecordBatches, RecordBatchBuilder } from '../../../../../sdk/mod.ts';
import { ZERO_UUID } from '../../../../../sdk/protocol/mod.ts';
import { fetchPartitionsRequest } from '../../../../helpers/read-partition.ts';
import { exchange, openBroker } from './admin-test-support.ts';

const TOPIC = 'events';
const PARTITIONS = 4;

interface Wanted {
  partition: number;
  fetchOffset: number;
}

/** A Fetch request body: topics by name (v12) or by id (v13+). */
function fetchBody(broker: Broker, version: number, sessionId: number, sessionEpoch: number, wanted: readonly Wanted[], forgotten: readonly number[] = []): FetchRequest {
  const body = fetchPartitionsRequest(TOPIC, wanted.map((w) => ({ partition: w.partition, fetchOffset: BigInt(w.fetchOffset) })), { sessionId, sessionEpoch });
  const topic = version >= 13 ? { topic: '', topicId: broker.describeTopic(TOPIC).topicId } : { topic: TOPIC, topicId: ZERO_UUID };
  return {
    ...body,
    topics: wanted.length === 0 ? [] : [{ ...body.topics[0]!, ...topic }],
    forgottenTopicsData: forgotten.length === 0 ? [] : [{ ...topic, partitions: [...forgotten] }],
  };
}

async function fetch(broker: Broker, version: number, sessionId: number, sessionEpoch: number, wanted: readonly Wanted[], forgotten: readonly number[] = []): Promise<FetchResponse> {
  return (await exchange(fetchHandler, broker, version, fetchBody(broker, version, sessionId, sessionEpoch, wanted, forgotten))).wire;
}

/** Partition → [highWatermark, values] as a response carries them. */
function answered(response: FetchResponse): Map<number, { highWatermark: number; values: string[] }> {
  const result = new Map<number, { highWatermark: number; values: string[] }>();
  for (const topic of response.responses) {
    for (const p of topic.partitions) {
      const values = p.records === null ? [] : [...readRecordBatches(p.records)].flatMap((b) => [...b.records()].map((r) => new TextDecoder().decode(r.value!)));
      result.set(p.partitionIndex, { highWatermark: Number(p.highWatermark), values });
    }
  }
  return result;
}

async function produce(broker: Broker, partition: number, values: readonly string[]): Promise<void> {
  const builder = new RecordBatchBuilder({});
  for (const value of values) builder.append({ key: null, value: new TextEncoder().encode(value), headers: [], timestamp: 1 });
  await broker.append(TOPIC, partition, builder.seal(), Acks.all);
}

async function setup(): Promise<Broker> {
  const broker = await openBroker();
  await broker.createTopic(TOPIC, { partitions: PARTITIONS });
  return broker;
}

describe.each([12, 17])('fetch sessions (KIP-227), Fetch v%i', (version) => {
  it('open with a full fetch, then answer incremental fetches with only the partitions that changed', async () => {
    const broker = await setup();
    await produce(broker, 1, ['a', 'b']);
    const all = [0, 1, 2, 3].map((partition) => ({ partition, fetchOffset: 0 }));
    const opened = await fetch(broker, version, 0, 0, all);
    expect(opened.sessionId).toBeGreaterThan(0);
    expect([...answered(opened)]).toEqual([
      [0, { highWatermark: 0, values: [] }],
      [1, { highWatermark: 2, values: ['a', 'b'] }],
      [2, { highWatermark: 0, values: [] }],
      [3, { highWatermark: 0, values: [] }],
    ]);
    const id = opened.sessionId;

    // The consumer moved partition 1 past what it read, and nothing else changed: the response is empty.
    const idle = await fetch(broker, version, id, 1, [{ partition: 1, fetchOffset: 2 }]);
    expect([idle.errorCode, idle.sessionId, idle.responses]).toEqual([0, id, []]);

    // A record arrived on partition 3; the consumer sends nothing.
    await produce(broker, 3, ['c']);
    const next = await fetch(broker, version, id, 2, []);
    expect([...answered(next)]).toEqual([[3, { highWatermark: 1, values: ['c'] }]]);

    // Partition 3 stays at offset 0 in the session until the consumer says otherwise, so it comes back.
    const again = await fetch(broker, version, id, 3, []);
    expect([...answered(again)]).toEqual([[3, { highWatermark: 1, values: ['c'] }]]);

    // Forgotten partitions are no longer read.
    await produce(broker, 0, ['d']);
    const forgot = await fetch(broker, version, id, 4, [{ partition: 3, fetchOffset: 1 }], [0]);
    expect(forgot.responses).toEqual([]);
    expect(broker.fetchSessions.size).toBe(1);
  });

  it('answer a wrong epoch with INVALID_FETCH_SESSION_EPOCH, an unknown id with FETCH_SESSION_ID_NOT_FOUND, and close a session with epoch -1', async () => {
    const broker = await setup();
    const opened = await fetch(broker, version, 0, 0, [{ partition: 0, fetchOffset: 0 }]);
    const id = opened.sessionId;
    expect((await fetch(broker, version, id, 5, [])).errorCode).toBe(ErrorCode.INVALID_FETCH_SESSION_EPOCH);
    // A wrong epoch leaves the session as it was: the right one still works.
    expect((await fetch(broker, version, id, 1, [])).errorCode).toBe(0);
    expect((await fetch(broker, version, id + 1, 1, [])).errorCode).toBe(ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
    expect((await fetch(broker, version, 0, 3, [])).errorCode).toBe(ErrorCode.INVALID_FETCH_SESSION_EPOCH);

    await produce(broker, 0, ['x']);
    const closing = await fetch(broker, version, id, -1, [{ partition: 0, fetchOffset: 0 }]);
    expect([closing.sessionId, [...answered(closing)]]).toEqual([0, [[0, { highWatermark: 1, values: ['x'] }]]]);
    expect((await fetch(broker, version, id, 2, [])).errorCode).toBe(ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
    expect(broker.fetchSessions.size).toBe(0);
  });

  it('keep what a consumer reads through incremental fetches identical to full fetches, whatever the interleaving', async () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant('produce' as const), partition: fc.integer({ min: 0, max: PARTITIONS - 1 }), count: fc.integer({ min: 1, max: 3 }) }),
      fc.record({ kind: fc.constant('fetch' as const) }),
      fc.record({ kind: fc.constant('toggle' as const), partition: fc.integer({ min: 0, max: PARTITIONS - 1 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 25 }), async (steps) => {
        const broker = await setup();
        try {
          const produced = Array.from({ length: PARTITIONS }, () => [] as string[]);
          const consumed = Array.from({ length: PARTITIONS }, () => [] as string[]);
          const followed = new Set([0, 1, 2, 3]);
          const offsets = [0, 0, 0, 0];
          /** What the session holds per partition, as the consumer last told it. */
          const sent = new Map<number, number>();
          const opened = await fetch(broker, version, 0, 0, [...followed].map((partition) => ({ partition, fetchOffset: 0 })));
          for (const p of followed) sent.set(p, 0);
          let epoch = 1;
          const take = (response: FetchResponse): void => {
            for (const [partition, { highWatermark, values }] of answered(response)) {
              expect(followed.has(partition)).toBe(true);
              consumed[partition]!.push(...values);
              offsets[partition]! += values.length;
              expect(highWatermark).toBe(produced[partition]!.length);
            }
          };
          take(opened);
          let serial = 0;
          for (const s of [...steps, { kind: 'fetch' as const }, { kind: 'fetch' as const }]) {
            if (s.kind === 'produce') {
              const values = Array.from({ length: s.count }, () => `r${serial++}`);
              await produce(broker, s.partition, values);
              produced[s.partition]!.push(...values);
            } else if (s.kind === 'toggle') {
              if (followed.has(s.partition)) followed.delete(s.partition);
              else followed.add(s.partition);
            } else {
              const changed = [...followed].filter((p) => sent.get(p) !== offsets[p]).map((partition) => ({ partition, fetchOffset: offsets[partition]! }));
              const forgotten = [...sent.keys()].filter((p) => !followed.has(p));
              const response = await fetch(broker, version, opened.sessionId, epoch, changed, forgotten);
              expect(response.errorCode).toBe(0);
              epoch++;
              for (const p of forgotten) sent.delete(p);
              for (const c of changed) sent.set(c.partition, c.fetchOffset);
              take(response);
            }
          }
          for (const p of followed) expect(consumed[p]).toEqual(produced[p]!.slice(0, consumed[p]!.length));
          // Followed from the start and never dropped: read to the end.
          for (const p of [0, 1, 2, 3]) if (!steps.some((s) => s.kind === 'toggle' && s.partition === p)) expect(consumed[p]).toEqual(produced[p]);
        } finally {
          await broker.close();
        }
      }),
      { numRuns: 25 },
    );
  });
});

describe('the fetch session cache', () => {
  it('holds at most maxSlots sessions and evicts the least recently used only once it has been idle long enough', () => {
    let nowMs = 0;
    const cache = new FetchSessionCache({ maxSlots: 2, evictionIdleMs: 1_000 }, () => nowMs);
    const a = cache.create()!;
    nowMs = 10;
    const b = cache.create()!;
    expect(cache.create()).toBeUndefined();
    nowMs = 1_005;
    cache.touch(a.id);
    // b was used at 10, a at 1005: b is the least recently used, but idle for only 995 ms.
    expect(cache.create()).toBeUndefined();
    nowMs = 1_010;
    const c = cache.create()!;
    expect([cache.touch(b.id), cache.touch(a.id)?.id, cache.size]).toEqual([undefined, a.id, 2]);
    expect(new Set([a.id, b.id, c.id]).size).toBe(3);
  });
});
