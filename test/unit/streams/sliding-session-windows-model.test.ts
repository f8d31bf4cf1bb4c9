import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonSerde, longSerde, stringSerde } from '../../../sdk/mod.ts';
import {
  type ReadOnlySessionStore,
  type ReadOnlyWindowStore,
  SessionWindows,
  sessionWindowedSerde,
  SlidingWindows,
  StreamsBuilder,
  timeWindowedSerde,
  type ValueAndTimestamp,
} from '../../../streams/mod.ts';
import { openTaskStore } from '../../../streams/state/open-task-store.ts';
import { type OutputRecord, valueBytes } from '../../../streams/runtime/record-collector.ts';
import { Task } from '../../../streams/runtime/task.ts';
import { testDriver } from './helpers/test-driver.ts';

interface Event {
  key: string;
  timestamp: number;
}

const eventsArb = fc.array(fc.record({ key: fc.constantFrom('a', 'b', 'c'), timestamp: fc.integer({ min: 0, max: 60 }) }), { minLength: 1, maxLength: 30 });

/**
 * Sliding windows by definition, recomputed from scratch per record: the windows that exist are the
 * left window of every accepted record ([r - d, r], or [0, d] when r < d) and the right window
 * [r + 1, r + 1 + d] of every record with a later one within it; each holds every accepted record
 * within its bounds. A record at t is late when t + d + grace < stream time; otherwise it writes
 * each open window (end + grace >= stream time) that holds it, and creates its own right window
 * when that one is new; a record none of whose windows was open is forgotten (the store holds no
 * trace of it). Returns, per record, the set of windows written (`key@[start,end]=count tsMax`).
 */
function slidingReference(events: readonly Event[], d: number, graceMs: number) {
  let streamTimeMs = -1;
  let late = 0;
  let maxStartMs = -1;
  const accepted = new Map<string, number[]>();
  const table = new Map<string, { key: string; startMs: number; line: string }>();
  const perRecord: string[][] = [];
  for (const { key, timestamp: t } of events) {
    streamTimeMs = Math.max(streamTimeMs, t);
    const closeMs = streamTimeMs - graceMs;
    if (t + d < closeMs) {
      late++;
      perRecord.push([]);
      continue;
    }
    const records = [...(accepted.get(key) ?? []), t];
    accepted.set(key, records);
    const starts = new Set<number>();
    for (const r of records) {
      starts.add(r < d ? 0 : r - d);
      if (records.some((later) => later > r && later <= r + 1 + d)) starts.add(r + 1);
    }
    const written: string[] = [];
    for (const startMs of [...starts].sort((a, b) => a - b)) {
      if (startMs + d < closeMs) continue;
      const holdsT = startMs <= t && t <= startMs + d;
      const id = `${key}@${startMs}`;
      if (!holdsT && !(startMs === t + 1 && !table.has(id))) continue;
      const inside = records.filter((r) => r >= startMs && r <= startMs + d);
      const line = `${key}@[${startMs},${startMs + d}]=${inside.length} ts${Math.max(...inside)}`;
      table.set(id, { key, startMs, line });
      maxStartMs = Math.max(maxStartMs, startMs);
      written.push(line);
    }
    // A record whose every window was closed leaves nothing in the store for later records to find.
    if (!written.some((line) => line.startsWith(`${key}@[`) && holds(line, t))) accepted.set(key, records.slice(0, -1));
    perRecord.push(written.sort());
  }
  return { perRecord, late, table: [...table.values()], maxStartMs };
}

function holds(line: string, t: number): boolean {
  const [, start, end] = /@\[(\d+),(\d+)\]/.exec(line)!;
  return Number(start) <= t && t <= Number(end);
}

/**
 * Sessions done the obvious way on plain arrays: a record at t joins every session of its key
 * ending at or after t - gap and starting at or before t + gap (among those the store still holds:
 * ending after the largest end written minus gap + grace), is late when the merged session ends
 * before stream time - grace, and otherwise replaces them by the merged session. Returns, per
 * record, the changes in the order an uncached table forwards them.
 */
function sessionReference(events: readonly Event[], gapMs: number, graceMs: number) {
  let streamTimeMs = -1;
  let maxEndMs = -1;
  let late = 0;
  const retentionMs = gapMs + graceMs;
  let sessions: { key: string; startMs: number; endMs: number; values: number[] }[] = [];
  const perRecord: { key: string; startMs: number; endMs: number; line: string }[][] = [];
  for (const { key, timestamp: t } of events) {
    streamTimeMs = Math.max(streamTimeMs, t);
    const minLiveEndMs = Math.max(0, maxEndMs - retentionMs + 1);
    const found = sessions
      .filter((s) => s.key === key && s.endMs >= Math.max(t - gapMs, minLiveEndMs) && s.startMs <= t + gapMs)
      .sort((a, b) => a.endMs - b.endMs || a.startMs - b.startMs);
    const startMs = Math.min(t, ...found.map((s) => s.startMs));
    const endMs = Math.max(t, ...found.map((s) => s.endMs));
    if (endMs < streamTimeMs - graceMs) {
      late++;
      perRecord.push([]);
      continue;
    }
    const changes: { key: string; startMs: number; endMs: number; line: string }[] = [];
    // A record at t joining only [t, t] rewrites it in place; otherwise every session found is removed first.
    if (startMs !== t || endMs !== t) for (const s of found) changes.push({ key, startMs: s.startMs, endMs: s.endMs, line: `${key}@[${s.startMs},${s.endMs}]=null ts${s.endMs}` });
    sessions = sessions.filter((s) => !found.includes(s));
    const values = [...found.flatMap((s) => s.values), t];
    sessions.push({ key, startMs, endMs, values });
    changes.push({ key, startMs, endMs, line: `${key}@[${startMs},${endMs}]=${JSON.stringify(values)} ts${endMs}` });
    maxEndMs = Math.max(maxEndMs, endMs);
    perRecord.push(changes);
  }
  const minLiveEndMs = Math.max(0, maxEndMs - retentionMs + 1);
  const live = sessions.filter((s) => s.endMs >= minLiveEndMs).sort((a, b) => (a.key === b.key ? a.endMs - b.endMs || a.startMs - b.startMs : a.key < b.key ? -1 : 1));
  return { perRecord, late, live };
}

/** What a cached table forwards for one record's changes at the commit after it: each changed session once, its last change, in store order. */
function cachedChanges(changes: { key: string; startMs: number; endMs: number; line: string }[]): string[] {
  const last = new Map<string, { key: string; startMs: number; endMs: number; line: string }>();
  for (const change of changes) last.set(`${change.key}@${change.startMs},${change.endMs}`, change);
  return [...last.values()].sort((a, b) => (a.key === b.key ? a.endMs - b.endMs || a.startMs - b.startMs : a.key < b.key ? -1 : 1)).map((c) => c.line);
}

/**
 * Events whose records are each on time for every window holding them or late for all of them:
 * a timestamp that would be late for some of its windows only (t < stream time - grace <= t + d) is
 * moved into the grace or out past it. Kafka Streams builds new sliding windows from the aggregates
 * of stored ones, and a window that closed stops taking records, so once a record is folded into
 * some of its windows only, later windows built from the closed one differ from the definition (as
 * in Kafka Streams); those streams are checked for consistency below instead.
 */
const slidingArb = fc
  .record({ events: fc.array(fc.record({ key: fc.constantFrom('a', 'b', 'c'), timestamp: fc.integer({ min: 0, max: 60 }), late: fc.boolean() }), { minLength: 1, maxLength: 30 }), d: fc.integer({ min: 1, max: 10 }), graceMs: fc.integer({ min: 0, max: 15 }) })
  .map(({ events, d, graceMs }) => {
    let streamTimeMs = -1;
    const adjusted = events.map(({ key, timestamp, late }) => {
      let t = timestamp;
      const closeMs = Math.max(streamTimeMs, t) - graceMs;
      if (t < closeMs && t + d >= closeMs) t = late && closeMs - d - 1 >= 0 ? closeMs - d - 1 : closeMs;
      streamTimeMs = Math.max(streamTimeMs, t);
      return { key, timestamp: t };
    });
    return { events: adjusted, d, graceMs };
  });

describe('sliding-windowed count against windows recomputed by definition', () => {
  it('writes the same windows per record, keeps the same live windows, counts the same late records, and restores the same state from its changelog', async () => {
    await fc.assert(
      fc.asyncProperty(slidingArb, async ({ events, d, graceMs }) => {
        const windows = SlidingWindows.ofTimeDifferenceAndGrace(d, graceMs);
        const builder = new StreamsBuilder();
        builder.stream('events', { key: stringSerde, value: stringSerde }).groupByKey().windowedBy(windows).count({ name: 'counts', cached: false }).toStream().to('counts');
        const topology = builder.build();
        const driver = testDriver(topology, { applicationId: 'app' });
        const input = driver.inputTopic('events', { key: stringSerde, value: stringSerde });
        const output = driver.outputTopic('counts', { key: timeWindowedSerde(stringSerde, d), value: longSerde });
        const perRecord: string[][] = [];
        for (const { key, timestamp } of events) {
          await input.pipe(key, 'x', { timestamp });
          perRecord.push(output.readRecords().map((r) => `${r.key.key}@[${r.key.window.startMs},${r.key.window.endMs}]=${r.value} ts${r.timestamp}`).sort());
        }
        const expected = slidingReference(events, d, graceMs);
        expect(perRecord).toEqual(expected.perRecord);
        expect(driver.metrics().tasks[0]!.lateRecordsDropped).toBe(expected.late);

        const minLiveStartMs = expected.maxStartMs - windows.retentionMs + 1;
        const live = expected.table
          .filter((w) => w.startMs >= minLiveStartMs)
          .sort((a, b) => (a.key === b.key ? a.startMs - b.startMs : a.key < b.key ? -1 : 1))
          .map((w) => w.line);
        const listed = (store: ReadOnlyWindowStore<string, ValueAndTimestamp<number>>): string[] =>
          [...store.all()].map(([w, v]) => `${w.key}@[${w.window.startMs},${w.window.endMs}]=${v.value} ts${v.timestamp}`);
        expect(listed(driver.store('counts'))).toEqual(live);

        const changelog = driver.outputTopic('app-counts-changelog').readRecords();
        const restored = openTaskStore(topology.stores.get('counts')!, { partition: 0, writeChangelog: () => undefined, changelogTimestampMs: () => 0 });
        restored.restore(changelog.map((r, offset) => ({ offset, key: r.key as Uint8Array, value: r.value === null ? null : valueBytes(r.value as Uint8Array) })), changelog.length);
        expect(listed(restored.store as ReadOnlyWindowStore<string, ValueAndTimestamp<number>>)).toEqual(live);
        driver.close();
      }),
      { numRuns: 200 },
    );
  });
});

describe('sliding-windowed count with records late for some of their windows', () => {
  it('caches to the same state and changes, restores it from the changelog, and never holds a window the definition lacks or a record it does not hold', async () => {
    await fc.assert(
      fc.asyncProperty(eventsArb, fc.integer({ min: 1, max: 10 }), fc.integer({ min: 0, max: 15 }), async (events, d, graceMs) => {
        const windows = SlidingWindows.ofTimeDifferenceAndGrace(d, graceMs);
        const run = async (cached: boolean) => {
          const builder = new StreamsBuilder();
          builder.stream('events', { key: stringSerde, value: stringSerde }).groupByKey().windowedBy(windows).count({ name: 'counts', cached }).toStream().to('counts');
          const topology = builder.build();
          const driver = testDriver(topology, { applicationId: 'app' });
          const input = driver.inputTopic('events', { key: stringSerde, value: stringSerde });
          const output = driver.outputTopic('counts', { key: timeWindowedSerde(stringSerde, d), value: longSerde });
          const perRecord: { key: string; startMs: number; line: string }[][] = [];
          for (const { key, timestamp } of events) {
            await input.pipe(key, 'x', { timestamp });
            perRecord.push(output.readRecords().map((r) => ({ key: r.key.key, startMs: r.key.window.startMs, line: `${r.key.key}@[${r.key.window.startMs},${r.key.window.endMs}]=${r.value} ts${r.timestamp}` })));
          }
          const store = [...driver.store<ReadOnlyWindowStore<string, ValueAndTimestamp<number>>>('counts').all()].map(([w, v]) => ({ key: w.key, startMs: w.window.startMs, count: v.value, line: `${w.key}@${w.window.startMs}=${v.value} ts${v.timestamp}` }));
          const changelog = driver.outputTopic('app-counts-changelog').readRecords();
          const restored = openTaskStore(topology.stores.get('counts')!, { partition: 0, writeChangelog: () => undefined, changelogTimestampMs: () => 0 });
          restored.restore(changelog.map((r, offset) => ({ offset, key: r.key as Uint8Array, value: r.value === null ? null : valueBytes(r.value as Uint8Array) })), changelog.length);
          const restoredLines = [...(restored.store as ReadOnlyWindowStore<string, ValueAndTimestamp<number>>).all()].map(([w, v]) => `${w.key}@${w.window.startMs}=${v.value} ts${v.timestamp}`);
          const late = driver.metrics().tasks[0]!.lateRecordsDropped;
          driver.close();
          return { perRecord, store, restoredLines, late };
        };
        const uncached = await run(false);
        const cached = await run(true);
        expect(cached.store).toEqual(uncached.store);
        expect(uncached.restoredLines).toEqual(uncached.store.map((w) => w.line));
        expect(cached.restoredLines).toEqual(cached.store.map((w) => w.line));
        expect(cached.late).toBe(uncached.late);
        expect(cached.perRecord.map((changes) => changes.map((c) => c.line))).toEqual(
          uncached.perRecord.map((changes) => {
            const last = new Map<string, { key: string; startMs: number; line: string }>();
            for (const change of changes) last.set(`${change.key}@${change.startMs}`, change);
            return [...last.values()].sort((a, b) => (a.key === b.key ? a.startMs - b.startMs : a.key < b.key ? -1 : 1)).map((c) => c.line);
          }),
        );
        // Against the definition over every record not dropped as late: each stored window is one of the windows it defines, holding at most its records.
        let streamTimeMs = -1;
        const accepted = new Map<string, number[]>();
        for (const { key, timestamp: t } of events) {
          streamTimeMs = Math.max(streamTimeMs, t);
          if (t + d < streamTimeMs - graceMs) continue;
          accepted.set(key, [...(accepted.get(key) ?? []), t]);
        }
        for (const { key, startMs, count } of uncached.store) {
          const records = accepted.get(key) ?? [];
          const defined = records.some((r) => startMs === (r < d ? 0 : r - d) || (startMs === r + 1 && records.some((later) => later > r && later <= r + 1 + d)));
          expect(defined).toBe(true);
          expect(count).toBeLessThanOrEqual(records.filter((r) => r >= startMs && r <= startMs + d).length);
        }
      }),
      { numRuns: 100 },
    );
  });
});

describe('sliding-windowed count with commits at random points', () => {
  it('forwards the same updates as with a commit after every record: which windows a record finds does not depend on commit timing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ key: fc.constantFrom('a', 'b'), timestamp: fc.integer({ min: 0, max: 60 }), commitAfter: fc.boolean() }), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 0, max: 15 }),
        async (events, d, graceMs) => {
          const run = (commitAfterEach: boolean): string[] => {
            const builder = new StreamsBuilder();
            builder.stream('events', { key: stringSerde, value: stringSerde }).groupByKey().windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(d, graceMs)).count({ name: 'counts', cached: false }).toStream().to('counts');
            const topology = builder.build();
            const sent: OutputRecord[] = [];
            const task: Task = new Task({ subtopology: 0, partition: 0 }, topology.subtopologies[0]!, (name) => topology.childrenOf(name), {
              applicationId: 'app',
              collector: { send: (r) => void sent.push(r), partitionCount: () => 1 },
              topicName: (ref) => ref.name,
              openStore: (spec, taskId) => openTaskStore(spec, { partition: taskId.partition, writeChangelog: () => undefined, changelogTimestampMs: () => 0 }),
              onFailure: () => undefined,
              nowMs: () => 0,
            }, { maxInFlightRecords: 10 });
            const encoder = new TextEncoder();
            for (const [offset, event] of events.entries()) {
              task.accept({ topic: 'events', partition: 0, offset, timestamp: event.timestamp, key: encoder.encode(event.key), value: encoder.encode('x'), headers: [] });
              if (commitAfterEach || event.commitAfter) {
                task.prepareCommit();
                task.commitSucceeded();
              }
            }
            task.close();
            const serde = timeWindowedSerde(stringSerde, d);
            return sent.map((r) => {
              const { key, window } = serde.deserialize(r.key!);
              return `${key}@${window.startMs}=${longSerde.deserialize(r.value as Uint8Array)} ts${r.timestamp}`;
            });
          };
          expect(run(false)).toEqual(run(true));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('session-windowed aggregation against sessions on plain arrays', () => {
  it('forwards the same changes (tombstones for merged sessions), keeps the same live sessions, counts the same late records, and restores them from its changelog', async () => {
    await fc.assert(
      fc.asyncProperty(eventsArb, fc.integer({ min: 1, max: 10 }), fc.integer({ min: 0, max: 15 }), fc.boolean(), async (events, gapMs, graceMs, cached) => {
        const builder = new StreamsBuilder();
        builder
          .stream('events', { key: stringSerde, value: jsonSerde<number>() })
          .groupByKey()
          .windowedBy(SessionWindows.ofInactivityGapAndGrace(gapMs, graceMs))
          .aggregate(
            () => [] as number[],
            (_key, value, list) => [...list, value],
            (_key, list, session) => [...list, ...session],
            { name: 'sessions', value: jsonSerde<number[]>(), cached },
          )
          .toStream()
          .to('sessions');
        const topology = builder.build();
        const driver = testDriver(topology, { applicationId: 'app' });
        const input = driver.inputTopic('events', { key: stringSerde, value: jsonSerde<number>() });
        const output = driver.outputTopic('sessions', { key: sessionWindowedSerde(stringSerde), value: jsonSerde<number[]>() });
        const perRecord: string[][] = [];
        for (const { key, timestamp } of events) {
          await input.pipe(key, timestamp, { timestamp });
          perRecord.push(output.readRecords().map((r) => `${r.key.key}@[${r.key.window.startMs},${r.key.window.endMs}]=${JSON.stringify(r.value)} ts${r.timestamp}`));
        }
        const expected = sessionReference(events, gapMs, graceMs);
        expect(perRecord).toEqual(expected.perRecord.map((changes) => (cached ? cachedChanges(changes) : changes.map((c) => c.line))));
        expect(driver.metrics().tasks[0]!.lateRecordsDropped).toBe(expected.late);

        const live = expected.live.map((s) => `${s.key}@[${s.startMs},${s.endMs}]=${JSON.stringify(s.values)}`);
        const listed = (store: ReadOnlySessionStore<string, number[]>): string[] => [...store.all()].map(([s, v]) => `${s.key}@[${s.window.startMs},${s.window.endMs}]=${JSON.stringify(v)}`);
        expect(listed(driver.store('sessions'))).toEqual(live);

        const changelog = driver.outputTopic('app-sessions-changelog').readRecords();
        const restored = openTaskStore(topology.stores.get('sessions')!, { partition: 0, writeChangelog: () => undefined, changelogTimestampMs: () => 0 });
        restored.restore(changelog.map((r, offset) => ({ offset, key: r.key as Uint8Array, value: r.value === null ? null : valueBytes(r.value as Uint8Array) })), changelog.length);
        expect(listed(restored.store as ReadOnlySessionStore<string, number[]>)).toEqual(live);
        driver.close();
      }),
      { numRuns: 200 },
    );
  });
});

describe('session-windowed count with commits at random points', () => {
  it('a cached table forwards per commit each session changed since the last (its last change), none made and merged away within the commit; an uncached one every change', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ key: fc.constantFrom('a', 'b'), timestamp: fc.integer({ min: 0, max: 60 }), commitAfter: fc.boolean() }), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 0, max: 15 }),
        fc.boolean(),
        async (events, gapMs, graceMs, cached) => {
          const builder = new StreamsBuilder();
          builder
            .stream('events', { key: stringSerde, value: jsonSerde<number>() })
            .groupByKey()
            .windowedBy(SessionWindows.ofInactivityGapAndGrace(gapMs, graceMs))
            .aggregate(() => [] as number[], (_key, value, list) => [...list, value], (_key, list, session) => [...list, ...session], { name: 'sessions', value: jsonSerde<number[]>(), cached })
            .toStream()
            .to('sessions');
          const topology = builder.build();
          const sent: OutputRecord[] = [];
          const task: Task = new Task({ subtopology: 0, partition: 0 }, topology.subtopologies[0]!, (name) => topology.childrenOf(name), {
            applicationId: 'app',
            collector: { send: (r) => void sent.push(r), partitionCount: () => 1 },
            topicName: (ref) => ref.name,
            openStore: (spec, taskId) => openTaskStore(spec, { partition: taskId.partition, writeChangelog: () => undefined, changelogTimestampMs: () => 0 }),
            onFailure: () => undefined,
            nowMs: () => 0,
          }, { maxInFlightRecords: 10 });
          const reference = sessionReference(events, gapMs, graceMs);
          const expected: string[] = [];
          const live = new Set<string>();
          let committedLive = new Set<string>();
          let group = new Map<string, { key: string; startMs: number; endMs: number; line: string }>();
          const commit = (): void => {
            task.prepareCommit();
            task.commitSucceeded();
            const changed = [...group.entries()].filter(([id]) => committedLive.has(id) || live.has(id)).map(([, change]) => change);
            if (cached) expected.push(...cachedChanges(changed));
            group = new Map();
            committedLive = new Set(live);
          };
          const encoder = new TextEncoder();
          for (const [offset, event] of events.entries()) {
            task.accept({ topic: 'events', partition: 0, offset, timestamp: event.timestamp, key: encoder.encode(event.key), value: encoder.encode(String(event.timestamp)), headers: [] });
            for (const change of reference.perRecord[offset]!) {
              const id = `${change.key}@${change.startMs},${change.endMs}`;
              if (change.line.includes('=null')) live.delete(id);
              else live.add(id);
              group.set(id, change);
              if (!cached) expected.push(change.line);
            }
            if (event.commitAfter) commit();
          }
          commit();
          const serde = sessionWindowedSerde(stringSerde);
          const emitted = sent.map((r) => {
            const { key, window } = serde.deserialize(r.key!);
            const value = valueBytes(r.value as Uint8Array | null);
            return `${key}@[${window.startMs},${window.endMs}]=${value === null ? 'null' : JSON.stringify(jsonSerde<number[]>().deserialize(value))} ts${r.timestamp}`;
          });
          expect(emitted).toEqual(expected);
          const store = task.store('sessions') as ReadOnlySessionStore<string, number[]>;
          expect([...store.all()].map(([s, v]) => `${s.key}@[${s.window.startMs},${s.window.endMs}]=${JSON.stringify(v)}`)).toEqual(
            reference.live.map((s) => `${s.key}@[${s.startMs},${s.endMs}]=${JSON.stringify(s.values)}`),
          );
          task.close();
        },
      ),
      { numRuns: 150 },
    );
  });
});
