import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonSerde, stringSerde } from '../../../../sdk/serde/basic-serdes.ts';
import type { Serde } from '../../../../sdk/serde/serde.ts';
import type { FlushedChange, KeyValueStore } from '../../../../streams/state/key-value-store.ts';
import { type ChangelogWrite, openTaskStore } from '../../../../streams/state/open-task-store.ts';
import type { ChangelogRecord, StoreSnapshot, TaskStore } from '../../../../streams/state/task-store.ts';

interface Value {
  v: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** The model orders keys as the store must: by their UTF-8 bytes. */
const bytesKey = (key: string): string => String.fromCharCode(...encoder.encode(key));
const byBytes = (a: string, b: string): number => (bytesKey(a) < bytesKey(b) ? -1 : bytesKey(a) > bytesKey(b) ? 1 : 0);

/** stringSerde behind another object, so the store takes its generic serde path instead of the string one. */
const wrappedStringSerde: Serde<string> = { serialize: (s) => stringSerde.serialize(s), deserialize: (b) => stringSerde.deserialize(b) };
const jsonValueSerde = jsonSerde<Value>();
/** jsonSerde without its text form: the store's generic byte path. */
const wrappedJsonSerde: Serde<Value> = { serialize: (v) => jsonValueSerde.serialize(v), deserialize: (b) => jsonValueSerde.deserialize(b) };

interface Serdes {
  readonly key: Serde<string>;
  readonly value: Serde<Value>;
}

const keyArb = fc.string({ unit: fc.constantFrom('a', 'b', 'z', 'é', '€', '\u0000', '\u007f', '😀'), maxLength: 3 });
const op = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('put' as const), key: keyArb, value: fc.integer({ min: 0, max: 99 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('delete' as const), key: keyArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('putIfAbsent' as const), key: keyArb, value: fc.integer({ min: 0, max: 99 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('putAll' as const), keys: fc.array(keyArb, { maxLength: 4 }), value: fc.integer({ min: 0, max: 99 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('get' as const), key: keyArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('range' as const), from: fc.option(keyArb, { nil: undefined }), to: fc.option(keyArb, { nil: undefined }), reverse: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('prefixScan' as const), prefix: keyArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('deleteWhileIterating' as const), prefix: keyArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('count' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('prepareCommit' as const) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('commit' as const), withOffset: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('abort' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('snapshot' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('restoreCheck' as const) }) },
);
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

/** The changelog as read_committed sees it: records of aborted flushes are skipped. */
interface LoggedRecord extends ChangelogWrite {
  offset: number;
  state: 'open' | 'committed' | 'aborted';
}

/** What the store must hold: committed state, what flushes since the commit wrote, and writes since the last flush. */
class Model {
  committed = new Map<string, number>();
  flushed = new Map<string, number | undefined>();
  pending = new Map<string, number | undefined>();

  read(key: string): number | undefined {
    if (this.pending.has(key)) return this.pending.get(key);
    if (this.flushed.has(key)) return this.flushed.get(key);
    return this.committed.get(key);
  }

  entries(): [string, number][] {
    const keys = new Set([...this.committed.keys(), ...this.flushed.keys(), ...this.pending.keys()]);
    const present: [string, number][] = [];
    for (const key of keys) {
      const value = this.read(key);
      if (value !== undefined) present.push([key, value]);
    }
    return present.sort((a, b) => byBytes(a[0], b[0]));
  }

  /** The changelog records and listener calls a flush must produce, in order. */
  flush(keyOrder: boolean): { key: string; newValue: number | undefined; oldValue: number | undefined }[] {
    const keys = [...this.pending.keys()];
    if (keyOrder) keys.sort(byBytes);
    const changes = [];
    for (const key of keys) {
      const newValue = this.pending.get(key);
      const oldValue = this.flushed.has(key) ? this.flushed.get(key) : this.committed.get(key);
      this.flushed.set(key, newValue);
      if (newValue === undefined && oldValue === undefined) continue;
      changes.push({ key, newValue, oldValue });
    }
    this.pending.clear();
    return changes;
  }

  commit(): void {
    for (const [key, value] of this.flushed) {
      if (value === undefined) this.committed.delete(key);
      else this.committed.set(key, value);
    }
    this.flushed.clear();
  }

  abort(): void {
    this.flushed.clear();
    this.pending.clear();
  }
}

function spec(serdes: Serdes, cached: boolean) {
  return { name: 'counts', kind: 'keyValue' as const, keySerde: serdes.key as Serde<unknown>, valueSerde: serdes.value as Serde<unknown>, logged: true, cached, changelogConfig: {} };
}

function open(serdes: Serdes, cached: boolean, log: LoggedRecord[]): { task: TaskStore; store: KeyValueStore<string, Value> & { setFlushListener(l: (c: FlushedChange<string, Value>) => void): boolean } } {
  const task = openTaskStore(spec(serdes, cached), {
    partition: 0,
    writeChangelog: (record) => void log.push({ ...record, offset: log.length, state: 'open' }),
    changelogTimestampMs: () => 42,
  });
  return { task, store: task.store as never };
}

const plain = (entries: Iterable<[string, Value]>): [string, number][] => [...entries].map(([k, v]) => [k, v.v]);
const readCommitted = (log: LoggedRecord[]): ChangelogRecord[] => log.filter((r) => r.state === 'committed').map((r) => ({ offset: r.offset, key: r.key, value: r.value }));

async function restoredFrom(serdes: Serdes, log: LoggedRecord[], snapshot?: StoreSnapshot): Promise<[string, number][]> {
  const { task, store } = open(serdes, true, []);
  if (snapshot !== undefined) await task.loadSnapshot(snapshot);
  const tail = readCommitted(log);
  task.restore(tail, tail.length === 0 ? task.changelogOffset : tail[tail.length - 1]!.offset + 1);
  return plain(store.all());
}

async function run(serdes: Serdes, cached: boolean, ops: Op[]): Promise<void> {
  const log: LoggedRecord[] = [];
  const { task, store } = open(serdes, cached, log);
  const heard: { key: string; newValue: number | undefined; oldValue: number | undefined }[] = [];
  expect(store.setFlushListener((c) => heard.push({ key: c.key, newValue: c.newValue?.v, oldValue: c.oldValue?.v }))).toBe(cached);
  const model = new Model();
  const snapshots: { snapshot: StoreSnapshot; entries: [string, number][] }[] = [];

  const flush = (): void => {
    const from = log.length;
    const expected = model.flush(cached);
    task.prepareCommit();
    const written = log.slice(from).map((r) => ({ key: decoder.decode(r.key), value: r.value === null ? undefined : (JSON.parse(decoder.decode(r.value)) as Value).v }));
    if (cached) {
      expect(written).toEqual(expected.map((c) => ({ key: c.key, value: c.newValue })));
      expect(heard.splice(0)).toEqual(expected);
    } else {
      // Uncached: the changelog is the same set of records, in the order the keys were first written.
      expect(written).toEqual(expected.map((c) => ({ key: c.key, value: c.newValue })));
      expect(heard).toEqual([]);
    }
    expect(log.slice(from).every((r) => r.timestamp === 42 && r.headers.length === 0)).toBe(true);
  };

  for (const o of ops) {
    switch (o.kind) {
      case 'put':
        store.put(o.key, { v: o.value });
        model.pending.set(o.key, o.value);
        break;
      case 'delete': {
        const had = model.read(o.key);
        expect(store.delete(o.key)?.v).toBe(had);
        if (had !== undefined) model.pending.set(o.key, undefined);
        break;
      }
      case 'putIfAbsent': {
        const had = model.read(o.key);
        expect(store.putIfAbsent(o.key, { v: o.value })?.v).toBe(had);
        if (had === undefined) model.pending.set(o.key, o.value);
        break;
      }
      case 'putAll':
        store.putAll(o.keys.map((k, i) => [k, { v: o.value + i }] as const));
        o.keys.forEach((k, i) => model.pending.set(k, o.value + i));
        break;
      case 'get':
        expect(store.get(o.key)?.v).toBe(model.read(o.key));
        break;
      case 'range': {
        const inRange = model.entries().filter(([k]) => (o.from === undefined || byBytes(k, o.from) >= 0) && (o.to === undefined || byBytes(k, o.to) <= 0));
        if (o.reverse) expect(plain(store.reverseRange(o.from, o.to))).toEqual(inRange.reverse());
        else expect(plain(store.range(o.from, o.to))).toEqual(inRange);
        break;
      }
      case 'prefixScan':
        expect(plain(store.prefixScan(o.prefix))).toEqual(model.entries().filter(([k]) => bytesKey(k).startsWith(bytesKey(o.prefix))));
        break;
      case 'deleteWhileIterating': {
        const expected = model.entries().filter(([k]) => bytesKey(k).startsWith(bytesKey(o.prefix)));
        const visited: [string, number][] = [];
        for (const [k, v] of store.prefixScan(o.prefix)) {
          visited.push([k, v.v]);
          store.delete(k);
          model.pending.set(k, undefined);
        }
        expect(visited).toEqual(expected);
        break;
      }
      case 'count':
        expect(store.approximateNumEntries()).toBe(model.entries().length);
        break;
      case 'prepareCommit':
        flush();
        break;
      case 'commit': {
        flush();
        const offset = log.length;
        task.commit(o.withOffset ? offset : undefined);
        for (const r of log) if (r.state === 'open') r.state = 'committed';
        model.commit();
        if (o.withOffset) expect(task.changelogOffset).toBe(offset);
        break;
      }
      case 'abort':
        task.abort();
        for (const r of log) if (r.state === 'open') r.state = 'aborted';
        model.abort();
        heard.length = 0;
        break;
      case 'snapshot':
        snapshots.push({ snapshot: task.snapshot()!, entries: [...model.committed].sort((a, b) => byBytes(a[0], b[0])) });
        break;
      case 'restoreCheck':
        expect(await restoredFrom(serdes, log)).toEqual([...model.committed].sort((a, b) => byBytes(a[0], b[0])));
        break;
    }
    expect(task.pendingWrites).toBe(new Set([...model.flushed.keys(), ...model.pending.keys()]).size);
  }

  flush();
  task.commit(log.length);
  for (const r of log) if (r.state === 'open') r.state = 'committed';
  model.commit();
  const committed = [...model.committed].sort((a, b) => byBytes(a[0], b[0]));
  expect(plain(store.all())).toEqual(committed);
  expect(await restoredFrom(serdes, log)).toEqual(committed);
  for (const { snapshot, entries } of snapshots) {
    // The clone still holds the state of its time, whatever was committed since (copy-on-write).
    const { task: fromSnapshot, store: view } = open(serdes, true, []);
    await fromSnapshot.loadSnapshot(snapshot);
    expect(plain(view.all())).toEqual(entries);
    expect(await restoredFrom(serdes, log, snapshot)).toEqual(committed);
  }
  const last = task.snapshot()!;
  expect(last.changelogOffset).toBe(log.length);
  expect(await restoredFrom(serdes, log, last)).toEqual(committed);
}

describe('KeyValueTaskStore against a model', () => {
  it.each([
    ['string keys, JSON values, cached', stringSerde, jsonValueSerde, true],
    ['string keys, JSON values, uncached', stringSerde, jsonValueSerde, false],
    ['keys and values through generic serdes, cached', wrappedStringSerde, wrappedJsonSerde, true],
  ] as const)('agrees on reads, ranges, flushes, commits, aborts, restores and snapshots (%s)', async (_name, key, value, cached) => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 80 }), (ops) => run({ key, value }, cached, ops)),
      { numRuns: 250 },
    );
  });
});
