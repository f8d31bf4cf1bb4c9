import { describe, expect, it } from 'vitest';
import { FetchSessionHandler } from '../../../../../sdk/client/consumer/fetch-session.ts';
import { ErrorCode } from '../../../../../sdk/protocol/error-codes.ts';

const p = (topic: string, partition: number, fetchOffset: number) => ({ topic, partition, fetchOffset: BigInt(fetchOffset), partitionMaxBytes: 1024 });
const names = (partitions: { topic: string; partition: number }[]) => partitions.map((x) => `${x.topic}-${x.partition}`);

describe('FetchSessionHandler', () => {
  it('sends added and moved partitions, forgets unwanted ones, and counts epochs', () => {
    const session = new FetchSessionHandler();
    const full = session.build([p('a', 0, 0), p('a', 1, 0), p('b', 0, 5)], 12);
    expect([full.sessionId, full.sessionEpoch, full.full, names(full.partitions)]).toEqual([0, 0, true, ['a-0', 'a-1', 'b-0']]);
    expect(session.onResponse(full, ErrorCode.NONE, 42)).toBe(false);

    const next = session.build([p('a', 0, 3), p('a', 1, 0), p('c', 0, 0)], 12);
    expect([next.sessionId, next.sessionEpoch, next.full]).toEqual([42, 1, false]);
    expect(names(next.partitions)).toEqual(['a-0', 'c-0']);
    expect(next.forgotten).toEqual([{ topic: 'b', partitions: [0] }]);
    session.onResponse(next, ErrorCode.NONE, 42);

    const quiet = session.build([p('a', 0, 3), p('a', 1, 0), p('c', 0, 0)], 12);
    expect([quiet.sessionEpoch, quiet.partitions, quiet.forgotten]).toEqual([2, [], []]);
  });

  it('starts over with a full fetch naming the old session after a session error or a lost request', () => {
    const session = new FetchSessionHandler();
    const wanted = [p('a', 0, 0)];
    session.onResponse(session.build(wanted, 12), ErrorCode.NONE, 7);
    const incremental = session.build(wanted, 12);
    expect(session.onResponse(incremental, ErrorCode.INVALID_FETCH_SESSION_EPOCH, 0)).toBe(true);
    const again = session.build(wanted, 12);
    expect([again.sessionId, again.sessionEpoch, names(again.partitions)]).toEqual([7, 0, ['a-0']]);
    session.onResponse(again, ErrorCode.NONE, 8);
    session.build(wanted, 12);
    session.restart();
    expect([session.build(wanted, 12).sessionId, session.build(wanted, 12).sessionEpoch]).toEqual([8, 0]);
  });

  it('stays sessionless when the broker keeps no session, or before Fetch v7', () => {
    const session = new FetchSessionHandler();
    const wanted = [p('a', 0, 0)];
    session.onResponse(session.build(wanted, 12), ErrorCode.NONE, 0);
    expect([session.build(wanted, 12).sessionEpoch, session.build(wanted, 12).full]).toEqual([0, true]);
    const old = session.build(wanted, 6);
    expect([old.sessionId, old.sessionEpoch, old.full]).toEqual([0, -1, true]);
    expect(session.onResponse(old, ErrorCode.NONE, 0)).toBe(false);
  });
});
