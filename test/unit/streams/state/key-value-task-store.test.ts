import { describe, expect, it } from 'vitest';
import { bytesSerde, jsonSerde, stringSerde } from '../../../../sdk/serde/basic-serdes.ts';
import type { Serde } from '../../../../sdk/serde/serde.ts';
import type { FlushedChange, FlushListenable, KeyValueStore } from '../../../../streams/state/key-value-store.ts';
import { type ChangelogWrite, openTaskStore } from '../../../../streams/state/open-task-store.ts';
import type { TaskStore } from '../../../../streams/state/task-store.ts';

interface Counter {
  count: number;
  tags: string[];
}

const decoder = new TextDecoder();

function openStore<K, V>(options: { keySerde?: Serde<K>; valueSerde?: Serde<V>; cached?: boolean; logged?: boolean } = {}) {
  const changelog: ChangelogWrite[] = [];
  const task: TaskStore = openTaskStore(
    {
      name: 'store',
      kind: 'keyValue',
      keySerde: (options.keySerde ?? stringSerde) as Serde<unknown>,
      valueSerde: (options.valueSerde ?? jsonSerde<Counter>()) as Serde<unknown>,
      logged: options.logged ?? true,
      cached: options.cached ?? true,
      changelogConfig: {},
    },
    { partition: 0, writeChangelog: (record) => void changelog.push(record), changelogTimestampMs: () => 1_000 },
  );
  const store = task.store as KeyValueStore<K, V> & FlushListenable<K, V>;
  const commit = (): void => {
    task.prepareCommit();
    task.commit(changelog.length);
  };
  return { task, store, changelog, commit };
}

const changelogText = (records: ChangelogWrite[]): [string, string | null][] => records.map((r) => [decoder.decode(r.key), r.value === null ? null : decoder.decode(r.value)]);

describe('KeyValueTaskStore: values and the objects users hold', () => {
  it('never lets a user mutating a value object after get() or put() change committed state', () => {
    const { task, store, commit } = openStore<string, Counter>();
    const put = { count: 1, tags: ['a'] };
    store.put('k', put);
    commit();
    put.count = 99;
    put.tags.push('mutated');
    expect(store.get('k')).toEqual({ count: 1, tags: ['a'] });

    const read = store.get('k')!;
    read.count = 50;
    read.tags.length = 0;
    expect(store.get('k')).toEqual({ count: 1, tags: ['a'] });
    expect(store.get('k')).not.toBe(store.get('k'));
    expect([...store.all()]).toEqual([['k', { count: 1, tags: ['a'] }]]);

    // Flushed but not committed yet: the write is bytes already, the object no longer matters.
    const next = { count: 2, tags: ['b'] };
    store.put('k', next);
    task.prepareCommit();
    next.count = 77;
    expect(store.get('k')).toEqual({ count: 2, tags: ['b'] });
    task.commit();
    expect(store.get('k')).toEqual({ count: 2, tags: ['b'] });
    const snapshot = task.snapshot()!;
    expect([...snapshot.entries()].map(([k, v]) => [k, v])).toEqual([['k', '{"count":2,"tags":["b"]}']]);
  });

  it('reads a value written since the last flush back as the object put, so changing it changes the pending write', () => {
    const { task, store, changelog, commit } = openStore<string, Counter>();
    const value = { count: 1, tags: [] };
    store.put('k', value);
    expect(store.get('k')).toBe(value);
    value.count = 2;
    commit();
    expect(changelogText(changelog)).toEqual([['k', '{"count":2,"tags":[]}']]);
    expect(task.pendingWrites).toBe(0);
  });

  it('treats put of null or undefined as a delete, as Kafka Streams does', () => {
    const { store, changelog, commit } = openStore<string, Counter | null>();
    store.put('a', { count: 1, tags: [] });
    store.put('b', { count: 2, tags: [] });
    commit();
    store.put('a', null);
    store.put('b', undefined as unknown as Counter);
    commit();
    expect([...store.all()]).toEqual([]);
    expect(changelogText(changelog).slice(2)).toEqual([
      ['a', null],
      ['b', null],
    ]);
  });
});

describe('KeyValueTaskStore: flushing, committing and aborting', () => {
  it('tells the flush listener each changed key once, in key order, with the value it replaces', () => {
    const { task, store, commit } = openStore<string, Counter>();
    const heard: FlushedChange<string, Counter>[] = [];
    expect(store.setFlushListener((change) => heard.push(change))).toBe(true);
    store.put('b', { count: 1, tags: [] });
    store.put('a', { count: 1, tags: [] });
    store.put('b', { count: 2, tags: [] });
    store.put('gone', { count: 1, tags: [] });
    store.delete('gone');
    commit();
    expect(heard.splice(0)).toEqual([
      { key: 'a', newValue: { count: 1, tags: [] }, oldValue: undefined },
      { key: 'b', newValue: { count: 2, tags: [] }, oldValue: undefined },
    ]);
    store.put('a', { count: 5, tags: [] });
    store.delete('b');
    task.prepareCommit();
    expect(heard.splice(0)).toEqual([
      { key: 'a', newValue: { count: 5, tags: [] }, oldValue: { count: 1, tags: [] } },
      { key: 'b', newValue: undefined, oldValue: { count: 2, tags: [] } },
    ]);
    // The old value handed over is a decoded copy: changing it touches nothing.
    store.put('a', { count: 6, tags: [] });
    task.prepareCommit();
    heard[0]!.oldValue!.count = 1_000;
    task.commit();
    expect(store.get('a')).toEqual({ count: 6, tags: [] });
  });

  it('flushes writes a flush listener makes with the next prepareCommit, replacing what the first flush wrote', () => {
    const { task, store, changelog } = openStore<string, Counter>();
    const heard: [string, number | undefined, number | undefined][] = [];
    store.setFlushListener((change) => {
      heard.push([change.key, change.oldValue?.count, change.newValue?.count]);
      // Forward-on-flush reaching a processor that writes the same store.
      if (change.key === 'a' && change.newValue!.count < 3) store.put('a', { count: change.newValue!.count + 1, tags: [] });
      if (change.key === 'a') store.put(`echo-${change.newValue!.count}`, { count: 0, tags: [] });
    });
    store.put('a', { count: 1, tags: [] });
    task.prepareCommit();
    expect(task.pendingWrites).toBe(2);
    task.prepareCommit();
    task.prepareCommit();
    task.prepareCommit();
    expect(heard).toEqual([
      ['a', undefined, 1],
      ['a', 1, 2],
      ['echo-1', undefined, 0],
      ['a', 2, 3],
      ['echo-2', undefined, 0],
      ['echo-3', undefined, 0],
    ]);
    task.commit(changelog.length);
    expect(changelogText(changelog).map(([k, v]) => `${k}=${v === null ? null : (JSON.parse(v) as Counter).count}`)).toEqual(['a=1', 'a=2', 'echo-1=0', 'a=3', 'echo-2=0', 'echo-3=0']);
    expect([...store.all()].map(([k, v]) => `${k}=${v.count}`)).toEqual(['a=3', 'echo-1=0', 'echo-2=0', 'echo-3=0']);
  });

  it('refuses a flush listener when uncached, and still writes one changelog record per key per commit', () => {
    const { store, changelog, commit } = openStore<string, Counter>({ cached: false });
    let calls = 0;
    expect(store.setFlushListener(() => calls++)).toBe(false);
    for (let i = 0; i < 5; i++) store.put('k', { count: i, tags: [] });
    commit();
    expect(calls).toBe(0);
    expect(changelogText(changelog)).toEqual([['k', '{"count":4,"tags":[]}']]);
  });

  it('drops every write since the last commit on abort, flushed or not, without moving the changelog offset', () => {
    const { task, store, commit } = openStore<string, Counter>();
    store.put('kept', { count: 1, tags: [] });
    commit();
    expect(task.changelogOffset).toBe(1);
    store.put('kept', { count: 2, tags: [] });
    store.put('new', { count: 1, tags: [] });
    task.prepareCommit();
    store.delete('kept');
    task.abort();
    expect(task.pendingWrites).toBe(0);
    expect([...store.all()]).toEqual([['kept', { count: 1, tags: [] }]]);
    expect(task.changelogOffset).toBe(1);
  });

  it('asserts that nothing is committed unflushed and that restore starts from committed state', () => {
    const { task, store } = openStore<string, Counter>();
    store.put('k', { count: 1, tags: [] });
    expect(() => task.commit()).toThrow(/not flushed by prepareCommit/);
    expect(() => task.restore([], 0)).toThrow(/uncommitted writes/);
    task.prepareCommit();
    task.commit(1);
    expect(() => task.commit(0)).toThrow(/moved back/);
  });

  it('writes no changelog and takes no snapshot when not logged', () => {
    const { task, store, changelog, commit } = openStore<string, Counter>({ logged: false });
    store.put('k', { count: 1, tags: [] });
    commit();
    expect(changelog).toEqual([]);
    expect(task.snapshot()).toBeUndefined();
    expect(store.get('k')).toEqual({ count: 1, tags: [] });
  });

  it('stamps changelog records with the environment timestamp and no headers', () => {
    const { store, changelog, commit } = openStore<string, Counter>();
    store.put('k', { count: 1, tags: [] });
    commit();
    expect(changelog[0]!.timestamp).toBe(1_000);
    expect(changelog[0]!.headers).toEqual([]);
  });
});

describe('KeyValueTaskStore: ranges and restore', () => {
  it('orders by serialized bytes and bounds prefix scans of prefixes ending in 0xff', () => {
    const { store, commit } = openStore<Uint8Array, string>({ keySerde: bytesSerde, valueSerde: stringSerde });
    const keys = [[0x01], [0x01, 0xff], [0x01, 0xff, 0x00], [0x02], [0xff], [0xff, 0xff], [0xff, 0xff, 0x01]].map((k) => Uint8Array.from(k));
    for (const key of keys.slice(0, 4)) store.put(key, `v${key.join('.')}`);
    commit();
    for (const key of keys.slice(4)) store.put(key, `v${key.join('.')}`);
    const names = (entries: Iterable<[Uint8Array, string]>): string[] => [...entries].map(([k]) => k.join('.'));
    expect(names(store.prefixScan(Uint8Array.from([0x01, 0xff])))).toEqual(['1.255', '1.255.0']);
    expect(names(store.prefixScan(Uint8Array.from([0xff, 0xff])))).toEqual(['255.255', '255.255.1']);
    expect(names(store.prefixScan(new Uint8Array(0)))).toHaveLength(7);
    expect(names(store.range(Uint8Array.from([0x01, 0xff]), Uint8Array.from([0xff])))).toEqual(['1.255', '1.255.0', '2', '255']);
    expect(names(store.reverseRange(Uint8Array.from([0x01, 0xff]), Uint8Array.from([0xff])))).toEqual(['255', '2', '1.255.0', '1.255']);
    expect(names(store.range(Uint8Array.from([0x02]), Uint8Array.from([0x01])))).toEqual([]);
    expect(names(store.reverseRange(undefined, Uint8Array.from([0x01, 0xff])))).toEqual(['1.255', '1']);
  });

  it('refuses an iterator used after the store committed', () => {
    const { store, commit } = openStore<string, Counter>();
    store.put('a', { count: 1, tags: [] });
    store.put('b', { count: 1, tags: [] });
    commit();
    const iterator = store.all();
    expect(iterator.next().value).toEqual(['a', { count: 1, tags: [] }]);
    store.put('c', { count: 1, tags: [] });
    commit();
    expect(() => iterator.next()).toThrow(/used after the store committed/);
  });

  it('restores from changelog records, tombstones deleting, and moves the changelog offset past the last', () => {
    const encoder = new TextEncoder();
    const { task, store } = openStore<string, Counter>();
    const record = (offset: number, key: string, count: number | null) => ({
      offset,
      key: encoder.encode(key),
      value: count === null ? null : encoder.encode(JSON.stringify({ count, tags: [] })),
    });
    task.restore([record(0, 'a', 1), record(1, 'b', 1), record(4, 'a', 2), record(7, 'b', null)], 8);
    expect(task.changelogOffset).toBe(8);
    expect([...store.all()]).toEqual([['a', { count: 2, tags: [] }]]);
    // Records below the offset the state covers are in it already.
    task.restore([record(6, 'stale', 1), record(8, 'c', 3)], 9);
    expect([...store.all()].map(([k]) => k)).toEqual(['a', 'c']);
    expect(task.changelogOffset).toBe(9);
    // A reader's position past transaction markers and gaps moves the offset with no records.
    task.restore([], 12);
    expect(task.changelogOffset).toBe(12);
  });
});
