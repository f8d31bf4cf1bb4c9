import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringSerde } from '../../../sdk/mod.ts';
import { JoinWindows, type KStream, StreamsBuilder } from '../../../streams/mod.ts';
import { type OutputRecord, valueBytes } from '../../../streams/runtime/record-collector.ts';
import { Task } from '../../../streams/runtime/task.ts';
import { openTaskStore } from '../../../streams/state/open-task-store.ts';
import type { ChangelogRecord } from '../../../streams/state/task-store.ts';

type Kind = 'inner' | 'left' | 'outer';

interface Event {
  side: 'L' | 'R';
  key: string;
  timestamp: number;
  commitAfter: boolean;
}

interface Spec {
  beforeMs: number;
  afterMs: number;
  graceMs: number;
}

/**
 * The join done the obvious way: a record is late when it is more than the grace behind the
 * largest timestamp taken before it; every pair of taken records of one key whose right
 * timestamp is in [left - before, left + after] is a result at the larger timestamp; for left and
 * outer joins, each taken record of an outer side in no pair is a result with null.
 */
function reference(events: readonly Event[], { beforeMs, afterMs, graceMs }: Spec, kind: Kind): { results: string[]; late: number } {
  let streamTimeMs = -1;
  let late = 0;
  const taken: (Event & { value: string })[] = [];
  events.forEach((e, i) => {
    if (e.timestamp + graceMs < streamTimeMs) {
      late++;
      return;
    }
    streamTimeMs = Math.max(streamTimeMs, e.timestamp);
    taken.push({ ...e, value: `${e.side}${i}` });
  });
  const results: string[] = [];
  const matched = new Set<string>();
  for (const l of taken.filter((e) => e.side === 'L')) {
    for (const r of taken.filter((e) => e.side === 'R' && e.key === l.key)) {
      if (r.timestamp < l.timestamp - beforeMs || r.timestamp > l.timestamp + afterMs) continue;
      results.push(`${l.key}:${l.value}+${r.value}@${Math.max(l.timestamp, r.timestamp)}`);
      matched.add(l.value).add(r.value);
    }
  }
  for (const e of taken) {
    if (matched.has(e.value)) continue;
    if (e.side === 'L' && kind !== 'inner') results.push(`${e.key}:${e.value}+null@${e.timestamp}`);
    if (e.side === 'R' && kind === 'outer') results.push(`${e.key}:null+${e.value}@${e.timestamp}`);
  }
  return { results: results.sort(), late };
}

function joinTopology(kind: Kind, windows: JoinWindows) {
  const text = { key: stringSerde, value: stringSerde };
  const builder = new StreamsBuilder();
  const left = builder.stream('left', text);
  const right = builder.stream('right', text);
  const both = (l: string | null, r: string | null): string => `${l ?? 'null'}+${r ?? 'null'}`;
  const joined: KStream<string, string> =
    kind === 'inner' ? left.join(right, both, windows) : kind === 'left' ? left.leftJoin(right, both, windows) : left.outerJoin(right, both, windows);
  joined.to('out', text);
  return builder.build();
}

/**
 * Runs the join in a task, committing where the events say, and optionally "crashes" after event
 * `crashAt`: the task is dropped with its uncommitted outputs and changelog writes, a new task
 * restores its stores from the committed changelog, and the input is replayed from the last
 * commit, as exactly-once processing does after a crash.
 */
function runTask(kind: Kind, windows: JoinWindows, events: readonly Event[], crashAt: number | undefined): { results: string[]; late: number } {
  const topology = joinTopology(kind, windows);
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const committedChangelog = new Map<string, ChangelogRecord[]>();
  let pendingChangelog: [string, ChangelogRecord][] = [];
  let committedOutputs: OutputRecord[] = [];
  let pendingOutputs: OutputRecord[] = [];
  let late = 0;
  const newTask = (): Task => {
    const task: Task = new Task(
      { subtopology: 0, partition: 0 },
      topology.subtopologies[0]!,
      (name) => topology.childrenOf(name),
      {
        applicationId: 'app',
        collector: { send: (r) => void pendingOutputs.push(r), partitionCount: () => 1 },
        topicName: (ref) => ref.name,
        openStore: (spec, taskId) => {
          const store = openTaskStore(spec, {
            partition: taskId.partition,
            writeChangelog: (r) => void pendingChangelog.push([spec.name, { offset: 0, key: r.key, value: r.value }]),
            changelogTimestampMs: () => Math.max(0, task.streamTimeMs),
          });
          const records = committedChangelog.get(spec.name) ?? [];
          store.restore(records, records.length);
          return store;
        },
        onFailure: (failure) => {
          if (failure.kind !== 'late') throw failure.error;
          late++;
        },
        nowMs: () => 0,
      },
      { maxInFlightRecords: 10 },
    );
    return task;
  };
  const commit = (task: Task): void => {
    task.prepareCommit();
    task.commitSucceeded();
    for (const [store, record] of pendingChangelog) {
      const log = committedChangelog.get(store) ?? [];
      log.push({ ...record, offset: log.length });
      committedChangelog.set(store, log);
    }
    committedOutputs = [...committedOutputs, ...pendingOutputs];
    pendingChangelog = [];
    pendingOutputs = [];
  };

  let task = newTask();
  let committedPosition = 0;
  let crashed = false;
  for (let position = 0; position < events.length; ) {
    const event = events[position]!;
    task.accept({ topic: event.side === 'L' ? 'left' : 'right', partition: 0, offset: position, timestamp: event.timestamp, key: encoder.encode(event.key), value: encoder.encode(`${event.side}${position}`), headers: [] });
    position++;
    if (!crashed && position === crashAt) {
      crashed = true;
      task.close();
      pendingChangelog = [];
      pendingOutputs = [];
      position = committedPosition;
      task = newTask();
      continue;
    }
    if (event.commitAfter) {
      commit(task);
      committedPosition = position;
    }
  }
  commit(task);
  task.close();
  const results = committedOutputs.map((r) => `${decoder.decode(r.key!)}:${decoder.decode(valueBytes(r.value)!)}@${r.timestamp}`);
  return { results: results.filter((r) => !r.startsWith('z:')).sort(), late };
}

const eventsArb = fc.array(
  fc.record({ side: fc.constantFrom('L' as const, 'R' as const), key: fc.constantFrom('a', 'b', 'c'), timestamp: fc.integer({ min: 0, max: 60 }), commitAfter: fc.boolean() }),
  { minLength: 1, maxLength: 40 },
);
const specArb = fc
  .record({ beforeMs: fc.integer({ min: -6, max: 15 }), afterMs: fc.integer({ min: -6, max: 15 }), graceMs: fc.integer({ min: 0, max: 10 }) })
  .filter(({ beforeMs, afterMs }) => beforeMs + afterMs >= 0);
const kindArb = fc.constantFrom<Kind>('inner', 'left', 'outer');

/** The spec's windows: the negative bound set last, so that no step makes an empty window. */
function joinWindowsOf({ beforeMs, afterMs, graceMs }: Spec): JoinWindows {
  const windows = JoinWindows.ofTimeDifferenceAndGrace(0, graceMs);
  return beforeMs < 0 ? windows.after(afterMs).before(beforeMs) : windows.before(beforeMs).after(afterMs);
}

/** A record far ahead of every window, on a key no other record has: it closes every window. */
const closeAll: Event = { side: 'R', key: 'z', timestamp: 10_000, commitAfter: false };

describe('KStream-KStream joins against a brute-force model', () => {
  it('emit the same multiset of results once every window closed, and drop the same late records', async () => {
    await fc.assert(
      fc.property(eventsArb, specArb, kindArb, (events, spec, kind) => {
        const windows = joinWindowsOf(spec);
        const got = runTask(kind, windows, [...events, closeAll], undefined);
        const expected = reference(events, spec, kind);
        expect(got.results).toEqual(expected.results);
        expect(got.late).toBe(expected.late);
      }),
      { numRuns: 300 },
    );
  });

  it('emit the same results when the task crashes and restores its stores from the changelog', async () => {
    await fc.assert(
      fc.property(eventsArb, specArb, kindArb, fc.nat(), (events, spec, kind, crashSeed) => {
        const windows = joinWindowsOf(spec);
        const all = [...events, closeAll];
        const got = runTask(kind, windows, all, 1 + (crashSeed % all.length));
        expect(got.results).toEqual(reference(events, spec, kind).results);
      }),
      { numRuns: 300 },
    );
  });
});
