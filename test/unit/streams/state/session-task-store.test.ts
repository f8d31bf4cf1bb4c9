import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { jsonSerde, stringSerde } from '../../../../sdk/serde/basic-serdes.ts';
import type { Serde } from '../../../../sdk/serde/serde.ts';
import { binaryOf } from '../../../../streams/state/binary-string.ts';
import type { FlushedChange, FlushListenable } from '../../../../streams/state/key-value-store.ts';
import { type ChangelogWrite, openTaskStore } from '../../../../streams/state/open-task-store.ts';
import { endOfSessionKey, keyOfSessionKey, sessionKeyOf, startOfSessionKey } from '../../../../streams/state/session-key.ts';
import type { SessionStore } from '../../../../streams/state/session-store.ts';
import { sessionWindowedSerde } from '../../../../streams/state/session-windowed-serde.ts';
import { readSnapshotFile, writeSnapshotFile } from '../../../../streams/state/snapshot-file.ts';
import type { TaskStore } from '../../../../streams/state/task-store.ts';
import type { Windowed } from '../../../../streams/state/windowed.ts';

const decoder = new TextDecoder();

function openSessionStore(options: { retentionMs?: number; cached?: boolean } = {}) {
  const changelog: ChangelogWrite[] = [];
  const task: TaskStore = openTaskStore(
    {
      name: 'sessions',
      kind: 'session',
      keySerde: stringSerde as Serde<unknown>,
      valueSerde: jsonSerde<number>() as Serde<unknown>,
      retentionMs: options.retentionMs ?? 10,
      logged: true,
      cached: options.cached ?? true,
      changelogConfig: {},
    },
    { partition: 0, writeChangelog: (record) => void changelog.push(record), changelogTimestampMs: () => 1_000 },
  );
  const store = task.store as SessionStore<string, number> & FlushListenable<Windowed<string>, number>;
  const commit = (): void => {
    task.prepareCommit();
    task.commit(changelog.length);
  };
  return { task, store, changelog, commit };
}

const session = (key: string, startMs: number, endMs: number): Windowed<string> => ({ key, window: { startMs, endMs } });

/** Changelog records as `key@[start,end]=value`, a tombstone as `...=null`. */
const changelogText = (records: readonly ChangelogWrite[]): string[] =>
  records.map((r) => {
    const key = binaryOf(r.key);
    return `${decoder.decode(Uint8Array.from(keyOfSessionKey(key), (c) => c.charCodeAt(0)))}@[${startOfSessionKey(key)},${endOfSessionKey(key)}]=${r.value === null ? 'null' : decoder.decode(r.value)}`;
  });

const listed = (entries: Iterable<[Windowed<string>, number]>): string[] => [...entries].map(([s, v]) => `${s.key}@[${s.window.startMs},${s.window.endMs}]=${v}`);

describe('SessionTaskStore: order and fetches', () => {
  it('orders sessions by key bytes, then end, then start, from the cache, committed state and both merged', () => {
    const { store, commit } = openSessionStore({ retentionMs: 1_000 });
    store.put(session('b', 5, 9), 1);
    store.put(session('a', 20, 30), 2);
    commit();
    store.put(session('a', 3, 30), 3);
    store.put(session('a', 0, 4), 4);
    store.put(session('ab', 1, 2), 5);
    const expected = ['a@[0,4]=4', 'a@[3,30]=3', 'a@[20,30]=2', 'ab@[1,2]=5', 'b@[5,9]=1'];
    expect(listed(store.all())).toEqual(expected);
    commit();
    expect(listed(store.all())).toEqual(expected);
    expect(store.fetchSession('a', 3, 30)).toBe(3);
    expect(store.fetchSession('a', 3, 31)).toBeUndefined();
  });

  it("finds a key's sessions ending at or after a time and starting at or before another, skipping keys its bytes are a prefix of", () => {
    const { store, commit } = openSessionStore({ retentionMs: 1_000 });
    for (const [start, end] of [[0, 5], [8, 12], [20, 20], [25, 40]] as const) store.put(session('a', start, end), end);
    store.put(session('a\u0000', 6, 7), 99);
    commit();
    store.put(session('a', 14, 16), 16);
    expect(listed(store.findSessions('a', 6, 22))).toEqual(['a@[8,12]=12', 'a@[14,16]=16', 'a@[20,20]=20']);
    expect(listed(store.findSessions('a', 12, 25))).toEqual(['a@[8,12]=12', 'a@[14,16]=16', 'a@[20,20]=20', 'a@[25,40]=40']);
    expect(listed(store.findSessions('a', 41, 100))).toEqual([]);
    expect(listed(store.fetch('a'))).toEqual(['a@[0,5]=5', 'a@[8,12]=12', 'a@[14,16]=16', 'a@[20,20]=20', 'a@[25,40]=40']);
    store.remove(session('a', 8, 12));
    expect(listed(store.findSessions('a', 6, 22))).toEqual(['a@[14,16]=16', 'a@[20,20]=20']);
    commit();
    expect(listed(store.findSessions('a', 6, 22))).toEqual(['a@[14,16]=16', 'a@[20,20]=20']);
  });

  it('finds the same sessions as a filter over every session, whatever was committed when', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ key: fc.constantFrom('a', 'b', 'ab'), start: fc.integer({ min: 0, max: 50 }), length: fc.integer({ min: 0, max: 10 }), remove: fc.boolean(), commit: fc.boolean() }), { maxLength: 40 }),
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 0, max: 60 }),
        (writes, earliestEnd, latestStart) => {
          const { store, commit } = openSessionStore({ retentionMs: 1_000 });
          const model = new Map<string, { key: string; startMs: number; endMs: number; value: number }>();
          for (const [i, { key, start, length, remove, commit: commitAfter }] of writes.entries()) {
            const s = session(key, start, start + length);
            if (remove) {
              store.remove(s);
              model.delete(`${key}@${start},${start + length}`);
            } else {
              store.put(s, i);
              model.set(`${key}@${start},${start + length}`, { key, startMs: start, endMs: start + length, value: i });
            }
            if (commitAfter) commit();
          }
          for (const key of ['a', 'b', 'ab']) {
            const expected = [...model.values()]
              .filter((s) => s.key === key && s.endMs >= earliestEnd && s.startMs <= latestStart)
              .sort((x, y) => x.endMs - y.endMs || x.startMs - y.startMs)
              .map((s) => `${s.key}@[${s.startMs},${s.endMs}]=${s.value}`);
            expect(listed(store.findSessions(key, earliestEnd, latestStart))).toEqual(expected);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('SessionTaskStore: retention, cache and commits', () => {
  it('expires sessions by end, drops whole segments with a tombstone per session, and refuses writes to expired sessions', () => {
    // Retention 10: segments of 5 ms of session ends.
    const { store, changelog, commit } = openSessionStore({ retentionMs: 10 });
    let read = 0;
    const sinceLast = (): ChangelogWrite[] => changelog.slice(read, (read = changelog.length));
    store.put(session('a', 0, 1), 1);
    store.put(session('b', 2, 6), 2);
    store.put(session('a', 5, 12), 3);
    commit();
    expect(changelogText(sinceLast())).toEqual(['a@[0,1]=1', 'b@[2,6]=2', 'a@[5,12]=3']);
    // Stream time 12: ends from 3 on are live.
    expect(listed(store.all())).toEqual(['a@[5,12]=3', 'b@[2,6]=2']);
    store.put(session('c', 1, 2), 9);
    store.put(session('c', 15, 16), 4);
    commit();
    // Stream time 16: ends from 7 on are live; the segment of ends [0,5) is dropped, with a tombstone for a@[0,1]; b@[2,6] (segment [5,10)) is
    // expired for reads but its segment stays until all of it expires.
    expect(changelogText(sinceLast())).toEqual(['c@[15,16]=4', 'a@[0,1]=null']);
    expect(listed(store.all())).toEqual(['a@[5,12]=3', 'c@[15,16]=4']);
    store.put(session('d', 30, 30), 5);
    commit();
    expect(changelogText(sinceLast()).sort()).toEqual(['a@[5,12]=null', 'b@[2,6]=null', 'c@[15,16]=null', 'd@[30,30]=5']);
    expect(listed(store.all())).toEqual(['d@[30,30]=5']);
  });

  it('tells a flush listener each changed session once per flush in store order, removals of committed sessions too, and nothing for a session made and removed within a commit', () => {
    const { store, commit, changelog } = openSessionStore({ retentionMs: 100 });
    const changes: FlushedChange<Windowed<string>, number>[] = [];
    expect(store.setFlushListener((change) => void changes.push(change))).toBe(true);
    store.put(session('a', 0, 0), 1);
    commit();
    store.remove(session('a', 0, 0));
    store.put(session('a', 0, 5), 2);
    store.put(session('a', 7, 7), 3);
    store.remove(session('a', 7, 7));
    commit();
    expect(changes.map(({ key, newValue, oldValue }) => `${key.key}@[${key.window.startMs},${key.window.endMs}] ${oldValue} -> ${newValue}`)).toEqual([
      'a@[0,0] undefined -> 1',
      'a@[0,0] 1 -> undefined',
      'a@[0,5] undefined -> 2',
    ]);
    expect(changelogText(changelog)).toEqual(['a@[0,0]=1', 'a@[0,0]=null', 'a@[0,5]=2']);
    expect(openSessionStore({ cached: false }).store.setFlushListener(() => undefined)).toBe(false);
  });

  it('hides sessions from reads as soon as a write expires them, before any commit, and shows them again when the write is aborted', () => {
    const { store, task, commit } = openSessionStore({ retentionMs: 10 });
    store.put(session('a', 0, 3), 1);
    commit();
    store.put(session('a', 20, 20), 2);
    // Stream time 20: ends from 11 on are live, for reads at once, as in Kafka Streams.
    expect(listed(store.findSessions('a', 0, 100))).toEqual(['a@[20,20]=2']);
    expect(store.fetchSession('a', 0, 3)).toBeUndefined();
    task.abort();
    expect(listed(store.findSessions('a', 0, 100))).toEqual(['a@[0,3]=1']);
  });

  it('writes nothing before prepareCommit, and on abort forgets the writes and the stream time they advanced', () => {
    const { store, task, changelog, commit } = openSessionStore({ retentionMs: 10 });
    store.put(session('a', 5, 5), 1);
    commit();
    store.put(session('a', 100, 100), 2);
    expect(changelog.length).toBe(1);
    task.abort();
    commit();
    expect(listed(store.all())).toEqual(['a@[5,5]=1']);
  });

  it('lays a session key out as the key bytes, then the end and the start as big-endian int64s: the layout of Kafka Streams and of sessionWindowedSerde', () => {
    const key = sessionKeyOf('k', 2, 0x1_0000_0003);
    expect([...key].map((c) => c.charCodeAt(0))).toEqual([0x6b, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 2]);
    expect([startOfSessionKey(key), endOfSessionKey(key), keyOfSessionKey(key)]).toEqual([2, 0x1_0000_0003, 'k']);
    expect(binaryOf(sessionWindowedSerde(stringSerde).serialize(session('k', 2, 0x1_0000_0003)))).toBe(key);
  });
});

describe('SessionTaskStore: restore and snapshots', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('restores from its changelog, and from a snapshot file plus the changelog after it, to the state it had', async () => {
    const { store, changelog, commit, task } = openSessionStore({ retentionMs: 20 });
    let at = 0;
    let snapshotAt: ReturnType<TaskStore['snapshot']>;
    for (let i = 0; i < 60; i++) {
      const key = `k${i % 7}`;
      const end = Math.floor(i * 1.5);
      const found = [...store.findSessions(key, end - 4, end)];
      for (const [s] of found) store.remove(s);
      const start = Math.min(end, ...found.map(([s]) => s.window.startMs));
      store.put(session(key, start, end), found.reduce((sum, [, v]) => sum + v, 1));
      if (i % 4 === 3) commit();
      if (i === 30) {
        commit();
        snapshotAt = task.snapshot();
        at = changelog.length;
      }
    }
    commit();
    const expected = listed(store.all());
    expect(expected.length).toBeGreaterThan(5);
    expect(changelog.some((r) => r.value === null)).toBe(true);

    const records = changelog.map((r, offset) => ({ offset, key: r.key, value: r.value }));
    const fromChangelog = openSessionStore({ retentionMs: 20 });
    fromChangelog.task.restore(records, records.length);
    expect(listed(fromChangelog.store.all())).toEqual(expected);
    expect(fromChangelog.task.changelogOffset).toBe(records.length);

    const dir = mkdtempSync(join(tmpdir(), 'rill-session-snapshot-'));
    dirs.push(dir);
    const identity = { changelogTopicId: '00000000-0000-0000-0000-000000000001', partition: 0 };
    await writeSnapshotFile(join(dir, 'snapshot'), identity, snapshotAt!);
    const read = await readSnapshotFile(join(dir, 'snapshot'), identity);
    expect(read.rejected).toBeUndefined();
    const fromSnapshot = openSessionStore({ retentionMs: 20 });
    await fromSnapshot.task.loadSnapshot(read.snapshot!);
    expect(fromSnapshot.task.changelogOffset).toBe(at);
    fromSnapshot.task.restore(records.slice(at - 3), records.length);
    expect(listed(fromSnapshot.store.all())).toEqual(expected);
    // Restored stores go on expiring: the next write far ahead drops everything else.
    fromSnapshot.store.put(session('z', 9_999, 10_000), 1);
    fromSnapshot.task.prepareCommit();
    fromSnapshot.task.commit();
    expect(listed(fromSnapshot.store.all())).toEqual(['z@[9999,10000]=1']);
  });
});
