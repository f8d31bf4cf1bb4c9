import { describe, expect, it } from 'vitest';
import type { TopicPartition } from '../../../sdk/mod.ts';
import { BUFFERED_RECORDS_PER_PARTITION, PartitionGroup } from '../../../streams/runtime/partition-group.ts';
import type { InputRecord } from '../../../streams/runtime/task.ts';

const left = { topic: 'left', partition: 2 };
const right = { topic: 'right', partition: 2 };

function records(tp: TopicPartition, timestamps: number[], firstOffset = 0): InputRecord[] {
  return timestamps.map((timestamp, i) => ({ ...tp, offset: firstOffset + i, timestamp, key: null, value: null, headers: [] }));
}

/** Takes records while the group lets the task go on; returns their `topic@timestamp`. */
function drain(group: PartitionGroup, nowMs: number, lags: Map<string, number | undefined>): string[] {
  const out: string[] = [];
  for (let next = group.next(nowMs, (tp) => lags.get(tp.topic)); next !== undefined; next = group.next(nowMs, (tp) => lags.get(tp.topic))) {
    out.push(`${next.tp.topic}@${next.record.timestamp}`);
  }
  return out;
}

describe('PartitionGroup (max.task.idle.ms)', () => {
  it('hands out records in timestamp order across partitions, and waits for a partition whose records the broker still holds', () => {
    const group = new PartitionGroup([left, right], 0);
    const lags = new Map<string, number | undefined>([['left', 0]]);
    group.add('left', 2, records(left, [1, 3, 5, 7]));
    // The lag of "right" is not known yet: wait for the fetch.
    expect(drain(group, 0, lags)).toEqual([]);
    lags.set('right', 4);
    expect(drain(group, 0, lags)).toEqual([]);
    group.add('right', 2, records(right, [2, 4, 9]));
    lags.set('right', 1);
    // "left" runs empty while caught up: with 0 ms of idling the task goes on without it.
    expect(drain(group, 0, lags)).toEqual(['left@1', 'right@2', 'left@3', 'right@4', 'left@5', 'left@7', 'right@9']);
    expect(group.enforcedProcessing).toBe(1);
    expect(group.isEmpty).toBe(true);
  });

  it('waits maxTaskIdleMs on a caught-up empty partition before going on, and starts the wait again once it has records', () => {
    const group = new PartitionGroup([left, right], 100);
    const lags = new Map<string, number | undefined>([
      ['left', 0],
      ['right', 0],
    ]);
    group.add('left', 2, records(left, [10, 20]));
    expect(drain(group, 1_000, lags)).toEqual([]);
    expect(group.idleDeadlineMs).toBe(1_100);
    expect(drain(group, 1_099, lags)).toEqual([]);
    group.add('right', 2, records(right, [15]));
    expect(drain(group, 1_099, lags)).toEqual(['left@10', 'right@15']);
    expect(group.idleDeadlineMs).toBe(1_099 + 100);
    expect(drain(group, 1_199, lags)).toEqual(['left@20']);
    expect(group.idleDeadlineMs).toBe(Infinity);
  });

  it('never waits with -1', () => {
    const group = new PartitionGroup([left, right], -1);
    group.add('right', 2, records(right, [5, 1]));
    expect(drain(group, 0, new Map())).toEqual(['right@5', 'right@1']);
  });

  it('asks to pause a partition that holds as much as it may, and to resume it once below', () => {
    const group = new PartitionGroup([left, right], 0);
    const full = records(left, Array.from({ length: BUFFERED_RECORDS_PER_PARTITION }, (_, i) => i));
    expect(group.add('left', 2, full.slice(0, 10))).toBe(false);
    expect(group.add('left', 2, full.slice(10))).toBe(true);
    expect(group.add('left', 2, [])).toBe(false);
    expect(group.resumable()).toEqual([]);
    const lags = new Map<string, number | undefined>([['right', 0]]);
    expect(group.next(0, (tp) => lags.get(tp.topic))?.record.offset).toBe(0);
    expect(group.resumable()).toEqual([left]);
    expect(group.resumable()).toEqual([]);
    group.clear();
    expect(group.isEmpty).toBe(true);
    expect(() => group.add('other', 2, [])).toThrow(/not an input partition/);
  });
});
