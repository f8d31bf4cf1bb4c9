import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonSerde, longSerde, stringSerde } from '../../../sdk/mod.ts';
import { type ReadOnlyWindowStore, StreamsBuilder, TimeWindows, timeWindowedSerde, type ValueAndTimestamp } from '../../../streams/mod.ts';
import { openTaskStore } from '../../../streams/state/open-task-store.ts';
import { startOfWindowKey } from '../../../streams/state/window-key.ts';
import { type OutputRecord, valueBytes } from '../../../streams/runtime/record-collector.ts';
import { Task } from '../../../streams/runtime/task.ts';
import { testDriver } from './helpers/test-driver.ts';

interface Event {
  key: string;
  timestamp: number;
}

interface Spec {
  sizeMs: number;
  advanceMs: number;
  graceMs: number;
}

/**
 * Windowed counting done the obvious way: every window start that is a multiple of the advance
 * and holds the timestamp, open while stream time < end + grace. Returns each update as the
 * topology should emit it (`key@[start,end)=count tsN`), every window's final count, and the
 * largest window start written (the store keeps windows that start after it minus the retention).
 */
function reference(events: readonly Event[], { sizeMs, advanceMs, graceMs }: Spec) {
  let streamTimeMs = -1;
  let maxStartMs = -1;
  let late = 0;
  const windows = new Map<string, { key: string; startMs: number; count: number; timestamp: number }>();
  const emitted: string[] = [];
  const updates: { key: string; startMs: number; line: string }[] = [];
  for (const { key, timestamp } of events) {
    streamTimeMs = Math.max(streamTimeMs, timestamp);
    const open: number[] = [];
    for (let start = 0; start <= timestamp; start += advanceMs) {
      if (timestamp < start + sizeMs && streamTimeMs < start + sizeMs + graceMs) open.push(start);
    }
    if (open.length === 0) {
      late++;
      continue;
    }
    for (const startMs of open) {
      const id = `${key}@${startMs}`;
      const old = windows.get(id);
      const window = { key, startMs, count: (old?.count ?? 0) + 1, timestamp: Math.max(timestamp, old?.timestamp ?? timestamp) };
      windows.set(id, window);
      maxStartMs = Math.max(maxStartMs, startMs);
      const line = `${key}@[${startMs},${startMs + sizeMs})=${window.count} ts${window.timestamp}`;
      emitted.push(line);
      updates.push({ key, startMs, line });
    }
  }
  return { emitted, updates, windows: [...windows.values()], maxStartMs, late };
}

const eventsArb = fc.array(
  fc.record({ key: fc.constantFrom('a', 'b', 'c'), timestamp: fc.integer({ min: 0, max: 80 }) }),
  { minLength: 1, maxLength: 40 },
);
const specArb = fc
  .record({ sizeMs: fc.integer({ min: 1, max: 12 }), advanceFraction: fc.double({ min: 0, max: 1, noNaN: true }), graceMs: fc.integer({ min: 0, max: 10 }) })
  .map(({ sizeMs, advanceFraction, graceMs }) => ({ sizeMs, advanceMs: Math.max(1, Math.ceil(sizeMs * advanceFraction)), graceMs }));

describe('windowed count against a brute-force model', () => {
  it('emits the same updates, keeps the same live windows, counts the same late records, and restores the same state from its changelog', async () => {
    await fc.assert(
      fc.asyncProperty(eventsArb, specArb, fc.boolean(), async (events, spec, cached) => {
        const windows = TimeWindows.ofSizeAndGrace(spec.sizeMs, spec.graceMs).advanceBy(spec.advanceMs);
        const builder = new StreamsBuilder();
        builder
          .stream('events', { key: stringSerde, value: stringSerde })
          .groupByKey()
          .windowedBy(windows)
          .count({ name: 'counts', cached })
          .toStream()
          .to('counts');
        const topology = builder.build();
        const driver = testDriver(topology, { applicationId: 'app' });
        const input = driver.inputTopic('events', { key: stringSerde, value: stringSerde });
        for (const { key, timestamp } of events) await input.pipe(key, 'x', { timestamp });
        const expected = reference(events, spec);

        const out = driver.outputTopic('counts', { key: timeWindowedSerde(stringSerde, spec.sizeMs), value: longSerde }).readRecords();
        expect(out.map((r) => `${r.key.key}@[${r.key.window.startMs},${r.key.window.endMs})=${r.value} ts${r.timestamp}`)).toEqual(expected.emitted);
        expect(driver.metrics().tasks[0]!.lateRecordsDropped).toBe(expected.late);

        const minLiveStartMs = expected.maxStartMs - windows.retentionMs + 1;
        const live = expected.windows
          .filter((w) => w.startMs >= minLiveStartMs)
          .sort((a, b) => (a.key === b.key ? a.startMs - b.startMs : a.key < b.key ? -1 : 1))
          .map((w) => `${w.key}@${w.startMs}=${w.count} ts${w.timestamp}`);
        const listed = (store: ReadOnlyWindowStore<string, ValueAndTimestamp<number>>): string[] =>
          [...store.all()].map(([w, v]) => `${w.key}@${w.window.startMs}=${v.value} ts${v.timestamp}`);
        expect(listed(driver.store('counts'))).toEqual(live);

        const changelog = driver.outputTopic('app-counts-changelog').readRecords();
        const restored = openTaskStore(topology.stores.get('counts')!, { partition: 0, writeChangelog: () => undefined, changelogTimestampMs: () => 0 });
        restored.restore(
          changelog.map((r, offset) => ({ offset, key: r.key as Uint8Array, value: r.value === null ? null : valueBytes(r.value as Uint8Array) })),
          changelog.length,
        );
        expect(listed(restored.store as ReadOnlyWindowStore<string, ValueAndTimestamp<number>>)).toEqual(live);

        // Tombstones for expired windows: once compacted, the changelog holds no window that expired
        // more than a segment (half the retention) ago.
        const compacted = new Map<string, boolean>();
        for (const r of changelog) compacted.set(String.fromCharCode(...(r.key as Uint8Array)), r.value !== null);
        const segmentMs = Math.ceil(windows.retentionMs / 2);
        for (const [key, present] of compacted) {
          if (present) expect(startOfWindowKey(key)).toBeGreaterThanOrEqual(minLiveStartMs - segmentMs);
        }
        driver.close();
      }),
      { numRuns: 150 },
    );
  });

  it('aggregates hopping windows the same way whatever the aggregate: a list of the values of each window', async () => {
    await fc.assert(
      fc.asyncProperty(eventsArb, specArb, async (events, spec) => {
        const builder = new StreamsBuilder();
        builder
          .stream('events', { key: stringSerde, value: jsonSerde<number>() })
          .groupByKey()
          .windowedBy(TimeWindows.ofSizeAndGrace(spec.sizeMs, spec.graceMs).advanceBy(spec.advanceMs))
          .aggregate(() => [] as number[], (_key, value, list) => [...list, value], { name: 'lists', value: jsonSerde<number[]>() })
          .toStream()
          .to('lists');
        const driver = testDriver(builder.build());
        const input = driver.inputTopic('events', { key: stringSerde, value: jsonSerde<number>() });
        for (const { key, timestamp } of events) await input.pipe(key, timestamp, { timestamp });
        const finals = new Map<string, number[]>();
        for (const r of driver.outputTopic('lists', { key: timeWindowedSerde(stringSerde, spec.sizeMs), value: jsonSerde<number[]>() }).readRecords()) {
          finals.set(`${r.key.key}@${r.key.window.startMs}`, r.value);
        }
        const expected = new Map<string, number[]>();
        let streamTimeMs = -1;
        for (const { key, timestamp } of events) {
          streamTimeMs = Math.max(streamTimeMs, timestamp);
          for (let start = 0; start <= timestamp; start += spec.advanceMs) {
            if (timestamp >= start + spec.sizeMs || streamTimeMs >= start + spec.sizeMs + spec.graceMs) continue;
            const id = `${key}@${start}`;
            expected.set(id, [...(expected.get(id) ?? []), timestamp]);
          }
        }
        expect(finals).toEqual(expected);
        driver.close();
      }),
      { numRuns: 100 },
    );
  });
  it('with commits at random points: a cached table emits each changed window once per commit (its last value), an uncached one every update, and the state is the same', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ key: fc.constantFrom('a', 'b', 'c'), timestamp: fc.integer({ min: 0, max: 80 }), commitAfter: fc.boolean() }), { minLength: 1, maxLength: 40 }),
        specArb,
        fc.boolean(),
        async (events, spec, cached) => {
          const windows = TimeWindows.ofSizeAndGrace(spec.sizeMs, spec.graceMs).advanceBy(spec.advanceMs);
          const builder = new StreamsBuilder();
          builder
            .stream('events', { key: stringSerde, value: stringSerde })
            .groupByKey()
            .windowedBy(windows)
            .count({ name: 'counts', cached })
            .toStream()
            .to('counts');
          const topology = builder.build();
          const sent: OutputRecord[] = [];
          const task: Task = new Task({ subtopology: 0, partition: 0 }, topology.subtopologies[0]!, (name) => topology.childrenOf(name), {
            applicationId: 'app',
            collector: { send: (r) => void sent.push(r), partitionCount: () => 1 },
            topicName: (ref) => ref.name,
            openStore: (storeSpec, taskId) =>
              openTaskStore(storeSpec, { partition: taskId.partition, writeChangelog: (r) => void sent.push({ ...r, topic: 'changelog', partition: 0 }), changelogTimestampMs: () => 0 }),
            onFailure: () => undefined,
            nowMs: () => 0,
          }, { maxInFlightRecords: 10 });
          const commit = (): void => {
            task.prepareCommit();
            task.commitSucceeded();
          };
          // The expected emissions: per commit, each window changed since the last one, last value, in key then start order.
          const expected: string[] = [];
          let group = new Map<string, { key: string; startMs: number; line: string }>();
          const flushGroup = (): void => {
            const inStoreOrder = [...group.values()].sort((a, b) => (a.key === b.key ? a.startMs - b.startMs : a.key < b.key ? -1 : 1));
            if (cached) expected.push(...inStoreOrder.map((u) => u.line));
            group = new Map();
          };
          const encoder = new TextEncoder();
          const seen: Event[] = [];
          for (const [offset, event] of events.entries()) {
            task.accept({ topic: 'events', partition: 0, offset, timestamp: event.timestamp, key: encoder.encode(event.key), value: encoder.encode('x'), headers: [] });
            const before = reference(seen, spec).updates.length;
            seen.push(event);
            const updates = reference(seen, spec).updates.slice(before);
            if (!cached) expected.push(...updates.map((u) => u.line));
            for (const update of updates) group.set(`${update.key}@${update.startMs}`, update);
            if (event.commitAfter) {
              commit();
              flushGroup();
            }
          }
          commit();
          flushGroup();
          const serde = timeWindowedSerde(stringSerde, spec.sizeMs);
          const emitted = sent
            .filter((r) => r.topic === 'counts')
            .map((r) => {
              const { key, window } = serde.deserialize(r.key!);
              return `${key}@[${window.startMs},${window.endMs})=${longSerde.deserialize(r.value as Uint8Array)} ts${r.timestamp}`;
            });
          expect(emitted).toEqual(expected);
          const final = reference(seen, spec);
          const minLiveStartMs = final.maxStartMs - windows.retentionMs + 1;
          const live = final.windows
            .filter((w) => w.startMs >= minLiveStartMs)
            .sort((a, b) => (a.key === b.key ? a.startMs - b.startMs : a.key < b.key ? -1 : 1))
            .map((w) => `${w.key}@${w.startMs}=${w.count}`);
          const store = task.store('counts') as ReadOnlyWindowStore<string, ValueAndTimestamp<number>>;
          expect([...store.all()].map(([w, v]) => `${w.key}@${w.window.startMs}=${v.value}`)).toEqual(live);
          task.close();
        },
      ),
      { numRuns: 150 },
    );
  });
});
