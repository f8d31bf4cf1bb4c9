import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { jsonSerde, longSerde, stringSerde } from '../../../../sdk/serde/basic-serdes.ts';
import type { Serde } from '../../../../sdk/serde/serde.ts';
import type { FlushedChange, FlushListenable } from '../../../../streams/state/key-value-store.ts';
import { type ChangelogWrite, openTaskStore } from '../../../../streams/state/open-task-store.ts';
import { readSnapshotFile, writeSnapshotFile } from '../../../../streams/state/snapshot-file.ts';
import type { TaskStore } from '../../../../streams/state/task-store.ts';
import { timeWindowedSerde } from '../../../../streams/state/time-windowed-serde.ts';
import { keyOfWindowKey, startOfWindowKey, windowKeyOf } from '../../../../streams/state/window-key.ts';
import type { WindowStore } from '../../../../streams/state/window-store.ts';
import type { Windowed } from '../../../../streams/state/windowed.ts';
import { binaryOf } from '../../../../streams/state/binary-string.ts';

const decoder = new TextDecoder();

function openWindowStore(options: { windowSizeMs?: number; retentionMs?: number; cached?: boolean } = {}) {
  const changelog: ChangelogWrite[] = [];
  const task: TaskStore = openTaskStore(
    {
      name: 'windows',
      kind: 'window',
      keySerde: stringSerde as Serde<unknown>,
      valueSerde: jsonSerde<number>() as Serde<unknown>,
      windowSizeMs: options.windowSizeMs ?? 10,
      retentionMs: options.retentionMs ?? 10,
      logged: true,
      cached: options.cached ?? true,
      changelogConfig: {},
    },
    { partition: 0, writeChangelog: (record) => void changelog.push(record), changelogTimestampMs: () => 1_000 },
  );
  const store = task.store as WindowStore<string, number> & FlushListenable<Windowed<string>, number>;
  const commit = (): void => {
    task.prepareCommit();
    task.commit(changelog.length);
  };
  return { task, store, changelog, commit };
}

/** Changelog records as `key@start=value`, a tombstone as `key@start=null`. */
const changelogText = (records: readonly ChangelogWrite[]): string[] =>
  records.map((r) => {
    const key = binaryOf(r.key);
    return `${decoder.decode(Uint8Array.from(keyOfWindowKey(key), (c) => c.charCodeAt(0)))}@${startOfWindowKey(key)}=${r.value === null ? 'null' : decoder.decode(r.value)}`;
  });

const listed = (entries: Iterable<[Windowed<string>, number]>): string[] => [...entries].map(([w, v]) => `${w.key}@${w.window.startMs}-${w.window.endMs}=${v}`);

describe('WindowTaskStore: order and fetches', () => {
  it('orders windows by key bytes then start, from the cache, committed state and both merged', () => {
    const { store, commit } = openWindowStore({ retentionMs: 1_000 });
    store.put('b', 1, 10);
    store.put('a', 2, 20);
    store.put('ab', 3, 5);
    const expected = ['a@0-10=4', 'a@20-30=2', 'ab@5-15=3', 'b@10-20=1'];
    store.put('a', 4, 0);
    expect(listed(store.all())).toEqual(expected);
    commit();
    expect(listed(store.all())).toEqual(expected);
    store.put('a', 5, 30);
    store.put('aa', 6, 0);
    expect(listed(store.all())).toEqual(['a@0-10=4', 'a@20-30=2', 'a@30-40=5', 'aa@0-10=6', 'ab@5-15=3', 'b@10-20=1']);
    expect(listed(store.fetchAll(5, 20))).toEqual(['a@20-30=2', 'ab@5-15=3', 'b@10-20=1']);
  });

  it("fetches one key's windows by start within an inclusive range, skipping keys its bytes are a prefix of", () => {
    const { store, commit } = openWindowStore({ retentionMs: 1_000 });
    // "a\0" + start 0 sorts between "a" + start 0 and "a" + start 5: the fetch of "a" must skip it.
    store.put('a', 1, 0);
    store.put('a\u0000', 2, 0);
    store.put('a', 3, 5);
    commit();
    store.put('a', 4, 10);
    store.put('a\u0000', 5, 7);
    expect([...store.fetch('a', 0, 10)]).toEqual([
      [0, 1],
      [5, 3],
      [10, 4],
    ]);
    expect([...store.fetch('a', 1, 9)]).toEqual([[5, 3]]);
    expect([...store.fetch('a\u0000', 0, 100)]).toEqual([
      [0, 2],
      [7, 5],
    ]);
    expect([...store.fetch('a', 6, 5)]).toEqual([]);
    expect(store.get('a', 5)).toBe(3);
    expect(store.get('a', 6)).toBeUndefined();
  });
});

describe('WindowTaskStore: retention, cache and commits', () => {
  it('drops the segments whose windows all expired in one step, with a tombstone per window, and refuses writes to expired windows', () => {
    // Retention 10 → segments of 5 ms of window start. At stream time 20 the live starts are 11 and up.
    const { store, changelog, commit } = openWindowStore({ retentionMs: 10 });
    store.put('a', 1, 0);
    store.put('b', 2, 3);
    store.put('a', 3, 7);
    store.put('a', 4, 12);
    commit();
    expect(changelogText(changelog)).toEqual(['a@0=1', 'b@3=2', 'a@7=3', 'a@12=4']);
    let seen = changelog.length;
    store.put('a', 5, 20);
    // Expiry takes effect at the commit: until then the committed stream time (12) rules, so 3 and up are live.
    expect(listed(store.all())).toEqual(['a@7-17=3', 'a@12-22=4', 'a@20-30=5', 'b@3-13=2']);
    store.put('a', 6, 4);
    expect(store.get('a', 4)).toBe(6);
    commit();
    expect(changelogText(changelog.slice(seen))).toEqual(['a@20=5', 'a@4=6', 'a@0=null', 'b@3=null', 'a@7=null', 'a@4=null']);
    expect(listed(store.all())).toEqual(['a@12-22=4', 'a@20-30=5']);
    store.put('a', 7, 4);
    expect(store.get('a', 4)).toBeUndefined();
    store.put('a', 8, 10);
    expect(store.get('a', 10)).toBeUndefined();
    // At 23 the segment [10, 15) may still hold live windows (14 is live), so it stays; at 24 it goes.
    seen = changelog.length;
    store.put('b', 7, 23);
    commit();
    expect(listed(store.all())).toEqual(['a@20-30=5', 'b@23-33=7']);
    store.put('b', 9, 24);
    commit();
    expect(changelogText(changelog.slice(seen))).toEqual(['b@23=7', 'b@24=9', 'a@12=null']);
  });

  it('tombstones a window written and expired within one commit', () => {
    const { store, changelog, commit } = openWindowStore({ retentionMs: 10 });
    store.put('a', 1, 0);
    store.put('a', 2, 100);
    commit();
    expect(changelogText(changelog)).toEqual(['a@0=1', 'a@100=2', 'a@0=null']);
    expect(listed(store.all())).toEqual(['a@100-110=2']);
  });

  it('writes nothing before prepareCommit, and on abort forgets the writes and the stream time they advanced', () => {
    const { task, store, changelog, commit } = openWindowStore({ retentionMs: 10 });
    store.put('a', 1, 0);
    commit();
    store.put('a', 2, 100);
    expect(changelog).toHaveLength(1);
    expect(task.pendingWrites).toBe(1);
    task.prepareCommit();
    expect(changelogText(changelog.slice(1))).toEqual(['a@100=2', 'a@0=null']);
    task.abort();
    expect(listed(store.all())).toEqual(['a@0-10=1']);
    store.put('a', 3, 0);
    commit();
    expect(listed(store.all())).toEqual(['a@0-10=3']);
  });

  it('tells a flush listener each changed window once, in store order, with the value it replaces', () => {
    const { store, commit } = openWindowStore({ retentionMs: 1_000 });
    const changes: FlushedChange<Windowed<string>, number>[] = [];
    expect(store.setFlushListener((change) => changes.push(change))).toBe(true);
    store.put('b', 1, 0);
    store.put('a', 1, 10);
    store.put('a', 2, 10);
    commit();
    store.put('a', 3, 10);
    commit();
    expect(changes.map((c) => `${c.key.key}@${c.key.window.startMs}:${c.oldValue}->${c.newValue}`)).toEqual(['a@10:undefined->2', 'b@0:undefined->1', 'a@10:2->3']);
    expect(openWindowStore({ cached: false }).store.setFlushListener(() => undefined)).toBe(false);
  });
});

describe('WindowTaskStore: restore and snapshots', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('restores from its changelog, and from a snapshot file plus the changelog after it, to the state it had', async () => {
    const { store, changelog, commit, task } = openWindowStore({ retentionMs: 20 });
    let at = 0;
    let snapshotAt: ReturnType<TaskStore['snapshot']>;
    for (let i = 0; i < 60; i++) {
      const key = `k${i % 7}`;
      const start = Math.floor(i * 1.5);
      store.put(key, (store.get(key, start) ?? 0) + i, start);
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
    const fromChangelog = openWindowStore({ retentionMs: 20 });
    fromChangelog.task.restore(records, records.length);
    expect(listed(fromChangelog.store.all())).toEqual(expected);
    expect(fromChangelog.task.changelogOffset).toBe(records.length);

    const dir = mkdtempSync(join(tmpdir(), 'rill-window-snapshot-'));
    dirs.push(dir);
    const identity = { changelogTopicId: '00000000-0000-0000-0000-000000000001', partition: 0 };
    await writeSnapshotFile(join(dir, 'snapshot'), identity, snapshotAt!);
    const read = await readSnapshotFile(join(dir, 'snapshot'), identity);
    expect(read.rejected).toBeUndefined();
    const fromSnapshot = openWindowStore({ retentionMs: 20 });
    await fromSnapshot.task.loadSnapshot(read.snapshot!);
    expect(fromSnapshot.task.changelogOffset).toBe(at);
    fromSnapshot.task.restore(records.slice(at - 3), records.length);
    expect(listed(fromSnapshot.store.all())).toEqual(expected);
    // Restored stores go on expiring: the next write far ahead drops everything else.
    fromSnapshot.store.put('z', 1, 10_000);
    fromSnapshot.task.prepareCommit();
    fromSnapshot.task.commit();
    expect(listed(fromSnapshot.store.all())).toEqual(['z@10000-10010=1']);
  });
});

describe('window keys and the time-windowed serde', () => {
  it('lays a window key out as the key bytes then the 8-byte big-endian start', () => {
    const key = windowKeyOf('ab', 0x01_0203_0405);
    expect([...key].map((c) => c.charCodeAt(0))).toEqual([0x61, 0x62, 0, 0, 0, 0x01, 0x02, 0x03, 0x04, 0x05]);
    expect(startOfWindowKey(key)).toBe(0x01_0203_0405);
    expect(keyOfWindowKey(key)).toBe('ab');
  });

  it("writes Kafka Streams' TimeWindowedSerializer layout (inner key bytes, then the start as a big-endian int64; no end) and reads it back with the size", () => {
    const serde = timeWindowedSerde(stringSerde, 60_000);
    // 1_700_000_000_000 = 0x0000018B_CFE56800.
    const bytes = serde.serialize({ key: 'ab', window: { startMs: 1_700_000_000_000, endMs: 1_700_000_060_000 } });
    expect([...bytes]).toEqual([0x61, 0x62, 0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00]);
    expect(serde.deserialize(bytes)).toEqual({ key: 'ab', window: { startMs: 1_700_000_000_000, endMs: 1_700_000_060_000 } });
    const longKeyed = timeWindowedSerde(longSerde, 10);
    expect([...longKeyed.serialize({ key: 7, window: { startMs: 20, endMs: 30 } })]).toEqual([0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 20]);
    expect(() => serde.deserialize(new Uint8Array(7))).toThrow(/at least 8 bytes/);
  });
});
