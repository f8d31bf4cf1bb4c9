import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { longSerde, stringSerde } from '../../../sdk/mod.ts';
import { BufferConfig, nullable, StreamsBuilder, Suppressed, TimeWindows, timeWindowedSerde, type Topology } from '../../../streams/mod.ts';
import { openTaskStore } from '../../../streams/state/open-task-store.ts';
import type { ChangelogRecord } from '../../../streams/state/task-store.ts';
import type { OutputRecord } from '../../../streams/runtime/record-collector.ts';
import { Task } from '../../../streams/runtime/task.ts';
import { testDriver } from './helpers/test-driver.ts';

interface Event {
  key: string;
  timestamp: number;
  /** A record without a value: skipped by the aggregation, it still moves the task's stream time. */
  noValue?: boolean;
  /** What happens after the event: nothing, a commit, or a crash (uncommitted work is lost, the task restores from its changelogs and reads again from the last commit). */
  then: 'none' | 'commit' | 'crash';
}

interface Spec {
  sizeMs: number;
  advanceMs: number;
  graceMs: number;
}

/** Every window's final count and timestamp, counted the obvious way: open while stream time < end + grace. */
function finalWindows(events: readonly Omit<Event, 'then'>[], { sizeMs, advanceMs, graceMs }: Spec): Map<string, { endMs: number; count: number; timestamp: number }> {
  let streamTimeMs = -1;
  const windows = new Map<string, { endMs: number; count: number; timestamp: number }>();
  for (const { key, timestamp, noValue } of events) {
    streamTimeMs = Math.max(streamTimeMs, timestamp);
    if (noValue === true) continue;
    for (let start = 0; start <= timestamp; start += advanceMs) {
      if (timestamp >= start + sizeMs || streamTimeMs >= start + sizeMs + graceMs) continue;
      const id = `${key}@${start}`;
      const old = windows.get(id);
      windows.set(id, { endMs: start + sizeMs, count: (old?.count ?? 0) + 1, timestamp: Math.max(timestamp, old?.timestamp ?? timestamp) });
    }
  }
  return windows;
}

function finalCountsTopology(spec: Spec, cached: boolean): Topology {
  const builder = new StreamsBuilder();
  builder
    .stream('events', { key: stringSerde, value: nullable(stringSerde) })
    .groupByKey()
    .windowedBy(TimeWindows.ofSizeAndGrace(spec.sizeMs, spec.graceMs).advanceBy(spec.advanceMs))
    .count({ name: 'counts', cached })
    .suppress(Suppressed.untilWindowCloses(BufferConfig.unbounded(), { name: 'finals' }))
    .toStream()
    .to('finals', { key: timeWindowedSerde(stringSerde, spec.sizeMs), value: longSerde });
  return builder.build();
}

/**
 * Runs the topology as the runtime does under exactly-once, with a task and its stores: outputs and
 * changelog records of a commit become visible together when it commits; a crash drops what was
 * not committed, restores a new task's stores from the committed changelogs, and reads the inputs
 * again from the last committed one.
 */
function runWithCrashes(topology: Topology, events: readonly Event[]): { committed: { output: OutputRecord; streamTimeMs: number }[]; crashes: number } {
  const changelogs = new Map<string, ChangelogRecord[]>();
  let pendingChangelog: { store: string; key: Uint8Array; value: Uint8Array | null }[] = [];
  let pendingOutputs: OutputRecord[] = [];
  const committed: { output: OutputRecord; streamTimeMs: number }[] = [];
  const encoder = new TextEncoder();
  const newTask = (): Task => {
    const task = new Task(
      { subtopology: 0, partition: 0 },
      topology.subtopologies[0]!,
      (name) => topology.childrenOf(name),
      {
        applicationId: 'app',
        collector: { send: (r) => void pendingOutputs.push(r), partitionCount: () => 1 },
        topicName: (ref) => ref.name,
        openStore: (spec, taskId) =>
          openTaskStore(spec, { partition: taskId.partition, writeChangelog: (r) => void pendingChangelog.push({ store: spec.name, key: r.key, value: r.value }), changelogTimestampMs: () => 0 }),
        onFailure: (failure) => {
          if (failure.kind !== 'late') throw failure.error;
        },
        nowMs: () => 0,
      },
      { maxInFlightRecords: 10 },
    );
    for (const [name, records] of changelogs) task.taskStore(name).restore(records, records.length);
    return task;
  };
  let task = newTask();
  let next = 0;
  let committedUpTo = 0;
  let crashes = 0;
  let streamTimeMs = -1;
  const crashed = new Set<number>();
  while (next < events.length) {
    const i = next++;
    const event = events[i]!;
    task.accept({ topic: 'events', partition: 0, offset: i, timestamp: event.timestamp, key: encoder.encode(event.key), value: event.noValue === true ? null : encoder.encode('x'), headers: [] });
    const last = i === events.length - 1;
    if (event.then === 'crash' && !crashed.has(i) && !last) {
      crashed.add(i);
      crashes++;
      pendingChangelog = [];
      pendingOutputs = [];
      task.close();
      task = newTask();
      next = committedUpTo;
      continue;
    }
    if (event.then === 'commit' || last) {
      task.prepareCommit();
      task.commitSucceeded();
      for (const r of pendingChangelog) {
        const list = changelogs.get(r.store) ?? [];
        list.push({ offset: list.length, key: r.key, value: r.value });
        changelogs.set(r.store, list);
      }
      for (let j = committedUpTo; j <= i; j++) streamTimeMs = Math.max(streamTimeMs, events[j]!.timestamp);
      committed.push(...pendingOutputs.filter((o) => o.topic === 'finals').map((output) => ({ output, streamTimeMs })));
      pendingChangelog = [];
      pendingOutputs = [];
      committedUpTo = i + 1;
    }
  }
  task.close();
  return { committed, crashes };
}

const eventsArb = fc.array(
  fc.record({
    key: fc.constantFrom('a', 'b', 'c'),
    timestamp: fc.integer({ min: 0, max: 80 }),
    then: fc.constantFrom<Event['then']>('none', 'none', 'commit', 'crash'),
  }),
  { minLength: 1, maxLength: 50 },
);
const specArb = fc
  .record({ sizeMs: fc.integer({ min: 1, max: 12 }), advanceFraction: fc.double({ min: 0, max: 1, noNaN: true }), graceMs: fc.integer({ min: 0, max: 10 }) })
  .map(({ sizeMs, advanceFraction, graceMs }) => ({ sizeMs, advanceMs: Math.max(1, Math.ceil(sizeMs * advanceFraction)), graceMs }));

describe('suppress(untilWindowCloses) against a brute-force model', () => {
  it('emits a window once when, after a restore, the aggregation takes a record the window had closed to (its stream time came from a record it skipped)', () => {
    const spec = { sizeMs: 10, advanceMs: 10, graceMs: 10 };
    const events: Event[] = [
      { key: 'a', timestamp: 33, then: 'commit' },
      // Stream time 50 closes [30,40) (end 40 + grace 10); the aggregation skips this record, so its store never shows 50.
      { key: 'x', timestamp: 50, noValue: true, then: 'none' },
      { key: 'b', timestamp: 45, then: 'commit' },
      // Late at stream time 50, yet a restored aggregation only knows 45 and takes it into [30,40) again.
      { key: 'a', timestamp: 35, then: 'crash' },
      { key: 'z', timestamp: 100, then: 'commit' },
    ];
    const lines = runWithCrashes(finalCountsTopology(spec, true), events).committed.map(({ output }) => {
      const key = timeWindowedSerde(stringSerde, spec.sizeMs).deserialize(output.key!);
      return `${key.key}@${key.window.startMs}=${longSerde.deserialize(output.value as Uint8Array)}`;
    });
    expect(lines).toEqual(['a@30=1', 'b@40=1']);
  });

  it('emits one final result per closed window with its count and timestamp, none for open windows, through commits at random points and crashes', async () => {
    let crashes = 0;
    await fc.assert(
      fc.asyncProperty(eventsArb, specArb, fc.boolean(), async (events, spec, cached) => {
        // A last record far ahead closes every window of the events (not its own).
        const flushAt = 80 + spec.sizeMs + spec.graceMs + 1;
        const all: Event[] = [...events, { key: 'z', timestamp: flushAt, then: 'commit' }];
        const run = runWithCrashes(finalCountsTopology(spec, cached), all);
        const committed = run.committed;
        crashes += run.crashes;
        const windowed = timeWindowedSerde(stringSerde, spec.sizeMs);
        const emitted = new Map<string, string>();
        for (const { output, streamTimeMs } of committed) {
          const key = windowed.deserialize(output.key!);
          const id = `${key.key}@${key.window.startMs}`;
          expect(emitted.has(id), `${id} emitted twice`).toBe(false);
          expect(key.window.endMs + spec.graceMs, `${id} emitted before it closed`).toBeLessThanOrEqual(streamTimeMs);
          emitted.set(id, `${longSerde.deserialize(output.value as Uint8Array)} ts${output.timestamp}`);
        }
        const expected = new Map([...finalWindows(events, spec)].map(([id, w]) => [id, `${w.count} ts${w.timestamp}`]));
        expect(emitted).toEqual(expected);
      }),
      { numRuns: 200 },
    );
    expect(crashes).toBeGreaterThan(100);
  });
});

describe('suppress(untilTimeLimit) against a brute-force model', () => {
  it("emits each key's latest value once per wait, as the model of a non-resetting buffer says", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ key: fc.constantFrom('a', 'b', 'c', 'd'), value: fc.option(fc.integer({ min: 0, max: 9 }), { freq: 4 }), timestamp: fc.integer({ min: 0, max: 60 }) }), { maxLength: 40 }),
        fc.integer({ min: 0, max: 15 }),
        async (updates, waitMs) => {
          const serde = { key: stringSerde, value: nullable(longSerde) };
          const builder = new StreamsBuilder();
          builder.table('prices', serde).suppress(Suppressed.untilTimeLimit(waitMs, BufferConfig.unbounded())).toStream().to('out', serde);
          const driver = testDriver(builder.build(), { applicationId: 'app' });
          const input = driver.inputTopic('prices', serde);
          const output = driver.outputTopic('out', serde);

          const table = new Map<string, number>();
          const held = new Map<string, { sinceMs: number; prior: number | undefined; value: number | undefined; timestamp: number }>();
          let streamTimeMs = -1;
          for (const { key, value, timestamp } of updates) {
            await input.pipe(key, value, { timestamp });
            const expected: string[] = [];
            streamTimeMs = Math.max(streamTimeMs, timestamp);
            const old = table.get(key);
            if (value === null) table.delete(key);
            else table.set(key, value);
            // The table forwards a change unless it deletes an absent key; the suppression acts in a commit a change reached it.
            if (value === null && old === undefined) {
              expect(output.readRecords()).toEqual([]);
              continue;
            }
            const h = held.get(key);
            held.set(key, { sinceMs: h?.sinceMs ?? timestamp, prior: h === undefined ? old : h.prior, value: value ?? undefined, timestamp });
            const due = [...held].filter(([, h]) => h.sinceMs <= streamTimeMs - waitMs).sort(([ka, a], [kb, b]) => a.sinceMs - b.sinceMs || (ka < kb ? -1 : 1));
            for (const [k, h] of due) {
              held.delete(k);
              if (h.value === undefined && h.prior === undefined) continue;
              expected.push(`${k}=${h.value ?? null} ts${h.timestamp}`);
            }
            expect(output.readRecords().map((r) => `${r.key}=${r.value} ts${r.timestamp}`)).toEqual(expected);
          }
          driver.close();
        },
      ),
      { numRuns: 200 },
    );
  });
});
