import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jsonSerde, stringSerde } from '../../sdk/serde/basic-serdes.ts';
import type { Serde } from '../../sdk/serde/serde.ts';
import type { FlushedChange, FlushListenable, KeyValueStore } from '../../streams/state/key-value-store.ts';
import { type ChangelogWrite, openTaskStore } from '../../streams/state/open-task-store.ts';
import { SnapshotDirectory } from '../../streams/state/snapshot-directory.ts';
import type { ChangelogRecord, TaskStore } from '../../streams/state/task-store.ts';
import type { WindowStore } from '../../streams/state/window-store.ts';

interface Total {
  count: number;
}

/**
 * The state-store scenario: the same steps under Node (in vitest), Bun and Deno. A store counts
 * words through commits and an abort, writes snapshots to `dir`, and is rebuilt from the newest
 * valid snapshot plus the changelog tail, then from an older one when the newest is damaged.
 */
export async function runStateStoreScenario(dir: string): Promise<string[]> {
  const passed: string[] = [];
  const check = (condition: boolean, what: string): void => {
    if (!condition) throw new Error(`state store scenario failed: ${what}`);
    passed.push(what);
  };
  const changelog: (ChangelogWrite & { offset: number; state: 'open' | 'committed' | 'aborted' })[] = [];
  const open = (log: boolean): { task: TaskStore; store: KeyValueStore<string, Total> & FlushListenable<string, Total> } => {
    const task = openTaskStore(
      { name: 'totals', kind: 'keyValue', keySerde: stringSerde as Serde<unknown>, valueSerde: jsonSerde<Total>() as Serde<unknown>, logged: true, cached: true, changelogConfig: {} },
      { partition: 0, writeChangelog: (r) => void (log && changelog.push({ ...r, offset: changelog.length, state: 'open' })), changelogTimestampMs: () => 7 },
    );
    return { task, store: task.store as never };
  };
  const commit = (task: TaskStore): void => {
    task.prepareCommit();
    for (const r of changelog) if (r.state === 'open') r.state = 'committed';
    task.commit(changelog.length);
  };
  const committedRecords = (from: number): ChangelogRecord[] => changelog.filter((r) => r.state === 'committed' && r.offset >= from).map((r) => ({ offset: r.offset, key: r.key, value: r.value }));

  const { task, store } = open(true);
  const flushed: FlushedChange<string, Total>[] = [];
  check(store.setFlushListener((c) => flushed.push(c)), 'cached store accepts a flush listener');
  const words = ['apple', 'äpfel', 'banana', 'cherry', 'çay', '日本'];
  const expected = new Map<string, number>();
  const count = (word: string): void => {
    store.put(word, { count: (store.get(word)?.count ?? 0) + 1 });
    expected.set(word, (expected.get(word) ?? 0) + 1);
  };
  for (let i = 0; i < 3000; i++) count(`${words[(i % 500) % words.length]}-${i % 500}`);
  commit(task);
  check(flushed.length === 500 && flushed.every((c) => c.oldValue === undefined), 'one flush per key with no old values');
  check(changelog.length === 500, 'one changelog record per key per commit');
  check(store.approximateNumEntries() === 500, 'entry count after the first commit');

  const directory = new SnapshotDirectory(join(dir, 'totals-0'), { changelogTopicId: '5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d', partition: 0 });
  const first = await directory.write(task.snapshot()!);
  check(first?.changelogOffset === 500 && first.entryCount === 500, 'first snapshot written');

  for (let i = 0; i < 1000; i++) count(`${words[(i % 700) % words.length]}-${i % 700}`);
  commit(task);
  const secondCommitOffset = changelog.length;
  store.put('aborted', { count: 1 });
  task.prepareCommit();
  task.abort();
  for (const r of changelog) if (r.state === 'open') r.state = 'aborted';
  check(store.get('aborted') === undefined, 'abort drops a flushed write');
  const second = await directory.write(task.snapshot()!);
  check(second?.changelogOffset === secondCommitOffset, 'second snapshot covers the changelog');
  for (let i = 0; i < 200; i++) count(`late-${i % 50}`);
  commit(task);

  const sorted = [...expected].sort(([a], [b]) => (stringSerde.serialize(a).join(',') < stringSerde.serialize(b).join(',') ? -1 : 1));
  const contents = (s: KeyValueStore<string, Total>): string => JSON.stringify([...s.all()].map(([k, v]) => [k, v.count]));
  const bytesOrder = (a: string, b: string): number => {
    const x = stringSerde.serialize(a);
    const y = stringSerde.serialize(b);
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
    return x.length - y.length;
  };
  sorted.sort(([a], [b]) => bytesOrder(a, b));
  check(contents(store) === JSON.stringify(sorted), 'store holds every count in byte order');
  check(JSON.stringify([...store.prefixScan('late-1')].map(([k]) => k)) === JSON.stringify(['late-1', ...Array.from({ length: 10 }, (_, i) => `late-1${i}`)]), 'prefix scan');
  check([...store.reverseRange('apple-0', 'apple-12')].map(([k]) => k).join() === 'apple-12,apple-114,apple-108,apple-102,apple-0', 'reverse range');

  const restoreFromNewest = async (): Promise<{ offset: number; contents: string; rejected: number }> => {
    const loaded = await directory.loadNewest();
    const fresh = open(false);
    if (loaded.snapshot !== undefined) await fresh.task.loadSnapshot(loaded.snapshot);
    const tail = committedRecords(fresh.task.changelogOffset);
    fresh.task.restore(tail, tail.length === 0 ? fresh.task.changelogOffset : tail[tail.length - 1]!.offset + 1);
    return { offset: loaded.snapshot?.changelogOffset ?? 0, contents: contents(fresh.store), rejected: loaded.rejected.length };
  };
  const fromNewest = await restoreFromNewest();
  check(fromNewest.offset === second!.changelogOffset && fromNewest.contents === contents(store), 'restore from the newest snapshot and the changelog tail');

  const newestPath = join(directory.path, second!.file);
  const bytes = readFileSync(newestPath);
  bytes[bytes.length >> 1]! ^= 0x40;
  writeFileSync(newestPath, bytes);
  const fromOlder = await restoreFromNewest();
  check(fromOlder.rejected === 1 && fromOlder.offset === 500 && fromOlder.contents === contents(store), 'a damaged snapshot falls back to the older one');
  const fromNothing = await restoreFromNewest();
  check(fromNothing.rejected === 0 && fromNothing.offset === 500, 'the damaged file was removed');
  await windowStoreSteps(dir, check);
  return passed;
}

/**
 * A window store through the same file format: windows counted per key, a snapshot, retention
 * dropping old segments with tombstones, and a restore from the snapshot plus the changelog tail.
 */
async function windowStoreSteps(dir: string, check: (condition: boolean, what: string) => void): Promise<void> {
  const changelog: ChangelogRecord[] = [];
  const open = (): { task: TaskStore; store: WindowStore<string, number> } => {
    const task = openTaskStore(
      { name: 'windows', kind: 'window', keySerde: stringSerde as Serde<unknown>, valueSerde: jsonSerde<number>() as Serde<unknown>, windowSizeMs: 100, retentionMs: 150, logged: true, cached: true, changelogConfig: {} },
      { partition: 0, writeChangelog: (r) => void changelog.push({ offset: changelog.length, key: r.key, value: r.value }), changelogTimestampMs: () => 7 },
    );
    return { task, store: task.store as never };
  };
  const { task, store } = open();
  const count = (key: string, startMs: number): void => store.put(key, (store.get(key, startMs) ?? 0) + 1, startMs);
  for (let i = 0; i < 400; i++) count(['äpfel', 'b', '日本'][i % 3]!, Math.floor(i / 40) * 50);
  task.prepareCommit();
  task.commit(changelog.length);
  const contents = (s: WindowStore<string, number>): string => JSON.stringify([...s.all()].map(([w, v]) => [w.key, w.window.startMs, v]));
  // Starts go up to 450: with retention 150 the live ones are 301 and up (350, 400, 450).
  const starts = [...new Set([...store.all()].map(([w]) => w.window.startMs))];
  check(changelog.some((r) => r.value === null) && JSON.stringify(starts) === '[350,400,450]', 'window store drops expired segments with tombstones');
  const directory = new SnapshotDirectory(join(dir, 'windows-0'), { changelogTopicId: '6b5c4d3e-2f10-4b8c-9d7e-8f6a5b4c3d2e', partition: 0 });
  const snapshotAt = changelog.length;
  await directory.write(task.snapshot()!);
  for (let i = 0; i < 40; i++) count('b', 500);
  task.prepareCommit();
  task.commit(changelog.length);
  const loaded = await directory.loadNewest();
  const fresh = open();
  await fresh.task.loadSnapshot(loaded.snapshot!);
  fresh.task.restore(changelog.slice(snapshotAt), changelog.length);
  check(loaded.snapshot?.changelogOffset === snapshotAt && contents(fresh.store) === contents(store), 'window store restores from a snapshot and the changelog tail');
}
