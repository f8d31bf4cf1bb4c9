/**
 * Key-value state store benchmark: what a stateful record costs the store (get + put, and its share
 * of the per-commit flush), point reads and writes on hot and cold keys, the flush itself, snapshot
 * write and load of a large store (with the longest event-loop stall each causes), and restore from
 * changelog records. Values are JSON counters through jsonSerde; keys are 11-character ASCII
 * strings made afresh for each operation, as a source's deserializer hands them over (a loop that
 * only makes the keys is measured too, and subtracted in the "store ns" column).
 *
 *   node dist/bench/state-store.js [--keys 1000000] [--records 2000000] [--commit-every 20000]
 *   bun bench/state-store.ts    |    deno run -A bench/state-store.ts
 *
 * Figures are per CPU-second of this process (user + system), so other work on a shared machine
 * inflates them less than wall-clock figures would; wall-clock seconds are printed beside them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { jsonSerde, stringSerde } from '../sdk/serde/basic-serdes.ts';
import type { Serde } from '../sdk/serde/serde.ts';
import type { KeyValueStore } from '../streams/state/key-value-store.ts';
import { openTaskStore } from '../streams/state/open-task-store.ts';
import { readSnapshotFile, writeSnapshotFile } from '../streams/state/snapshot-file.ts';
import type { ChangelogRecord, TaskStore } from '../streams/state/task-store.ts';
import { printTable, runtimeName } from './report.ts';

const { values: args } = parseArgs({
  options: {
    keys: { type: 'string', default: '1000000' },
    records: { type: 'string', default: '2000000' },
    'commit-every': { type: 'string', default: '20000' },
    'hot-keys': { type: 'string', default: '1000' },
  },
});
const KEYS = Number(args.keys);
const RECORDS = Number(args.records);
const COMMIT_EVERY = Number(args['commit-every']);
const HOT_KEYS = Number(args['hot-keys']);

interface Total {
  count: number;
  sum: number;
}

let changelogRecords = 0;
function openStore(): { task: TaskStore; store: KeyValueStore<string, Total> } {
  const task = openTaskStore(
    { name: 'totals', kind: 'keyValue', keySerde: stringSerde as Serde<unknown>, valueSerde: jsonSerde<Total>() as Serde<unknown>, logged: true, cached: true, changelogConfig: {} },
    { partition: 0, writeChangelog: () => void changelogRecords++, changelogTimestampMs: () => 0 },
  );
  return { task, store: task.store as KeyValueStore<string, Total> };
}

const keyOf = (i: number): string => `k${String(i).padStart(10, '0')}`;

/** CPU and wall time of `work`, in seconds. */
async function measure(work: () => void | Promise<void>): Promise<{ cpuS: number; wallS: number }> {
  const cpu = process.cpuUsage();
  const wall = performance.now();
  await work();
  const used = process.cpuUsage(cpu);
  return { cpuS: (used.user + used.system) / 1e6, wallS: (performance.now() - wall) / 1000 };
}

/** The longest gap between two event-loop turns while `work` runs: how long it blocked the loop. */
async function longestStallMs(work: () => Promise<unknown>): Promise<number> {
  let longest = 0;
  let last = performance.now();
  let running = true;
  const tick = (): void => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    if (running) setTimeout(tick, 0);
  };
  setTimeout(tick, 0);
  await work();
  running = false;
  return longest;
}

function commit(task: TaskStore): void {
  task.prepareCommit();
  task.commit(changelogRecords);
}

const rows: string[][] = [['phase', 'operations', 'CPU s', 'wall s', 'per CPU second', 'ns per op (CPU)', 'store ns']];
const figures: Record<string, number | string> = { bench: 'state-store', runtime: runtimeName(), keys: KEYS, records: RECORDS, commit_every: COMMIT_EVERY };
/** `baselineNs`: what the loop costs without the store (making the keys), left out of "store ns". */
function report(name: string, key: string, ops: number, t: { cpuS: number; wallS: number }, unit = 'ops', baselineNs = 0): void {
  const perS = ops / t.cpuS;
  const storeNs = 1e9 / perS - baselineNs;
  rows.push([name, ops.toLocaleString('en-US'), t.cpuS.toFixed(2), t.wallS.toFixed(2), `${Math.round(perS).toLocaleString('en-US')} ${unit}/s`, (1e9 / perS).toFixed(0), storeNs.toFixed(0)]);
  figures[`${key}_per_s`] = Math.round(perS);
  figures[`${key}_store_ns`] = Math.round(storeNs);
}

let seed = 12345;
const random = (): number => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed;
};
const coldIndexes = Int32Array.from({ length: RECORDS }, () => random() % KEYS);
let sink = 0;
const keysOnly = await measure(() => {
  for (let i = 0; i < RECORDS; i++) sink += keyOf(coldIndexes[i]!).length;
});
const keyNs = (keysOnly.cpuS * 1e9) / RECORDS;
rows.push(['making the keys alone (baseline)', RECORDS.toLocaleString('en-US'), keysOnly.cpuS.toFixed(2), keysOnly.wallS.toFixed(2), '', keyNs.toFixed(0), '']);
figures.key_making_ns = Math.round(keyNs);

const { task, store } = openStore();

// Fill: new keys, committed every COMMIT_EVERY puts.
report('fill (put new key + flush)', 'fill', KEYS, await measure(() => {
  for (let i = 0; i < KEYS; i++) {
    store.put(keyOf(i), { count: 1, sum: i });
    if ((i + 1) % COMMIT_EVERY === 0) commit(task);
  }
  commit(task);
}), 'ops', keyNs);

// A stateful record: get, update, put; a commit every COMMIT_EVERY records.
const statefulRun = (pick: (i: number) => number): (() => void) => () => {
  for (let i = 0; i < RECORDS; i++) {
    const key = keyOf(pick(i));
    const total = store.get(key);
    store.put(key, total === undefined ? { count: 1, sum: i } : { count: total.count + 1, sum: total.sum + i });
    if ((i + 1) % COMMIT_EVERY === 0) commit(task);
  }
  commit(task);
};
report(`stateful record, ${HOT_KEYS} hot keys`, 'stateful_hot', RECORDS, await measure(statefulRun((i) => i % HOT_KEYS)), 'records', keyNs);
report(`stateful record, random of ${KEYS} keys`, 'stateful_cold', RECORDS, await measure(statefulRun((i) => coldIndexes[i]!)), 'records', keyNs);

// Point operations.
report('get, committed (cold) key', 'get_cold', RECORDS, await measure(() => {
  for (let i = 0; i < RECORDS; i++) sink += store.get(keyOf(coldIndexes[i]!))!.count;
}), 'ops', keyNs);
for (let i = 0; i < HOT_KEYS; i++) store.put(keyOf(i), { count: 0, sum: 0 });
report('get, cached (hot) key', 'get_hot', RECORDS, await measure(() => {
  for (let i = 0; i < RECORDS; i++) sink += store.get(keyOf(i % HOT_KEYS))!.count;
}), 'ops', keyNs);
report('put, cached (hot) key', 'put_hot', RECORDS, await measure(() => {
  for (let i = 0; i < RECORDS; i++) store.put(keyOf(i % HOT_KEYS), { count: i, sum: i });
}), 'ops', keyNs);
commit(task);

// The flush itself: COMMIT_EVERY distinct dirty keys, serialized, logged and applied.
const flushRounds = Math.max(1, Math.floor(RECORDS / COMMIT_EVERY / 4));
let flushed = 0;
let flushTime = { cpuS: 0, wallS: 0 };
for (let round = 0; round < flushRounds; round++) {
  for (let i = 0; i < COMMIT_EVERY; i++) store.put(keyOf(coldIndexes[round * COMMIT_EVERY + i]!), { count: round, sum: i });
  const t = await measure(() => commit(task));
  flushTime = { cpuS: flushTime.cpuS + t.cpuS, wallS: flushTime.wallS + t.wallS };
  flushed += COMMIT_EVERY;
}
report(`flush (prepareCommit + commit) of ${COMMIT_EVERY} keys`, 'flush_key', flushed, flushTime, 'keys');

const range = await measure(() => {
  let n = 0;
  for (const _ of store.range(keyOf(0), keyOf(KEYS - 1))) n++;
  if (n !== KEYS) throw new Error(`range saw ${n} of ${KEYS} entries`);
});
report(`range over all ${KEYS} keys`, 'range_entry', KEYS, range, 'entries');

// Snapshots of the whole store.
const dir = mkdtempSync(join(tmpdir(), 'rill-bench-state-'));
try {
  const identity = { changelogTopicId: '00000000-0000-4000-8000-000000000001', partition: 0 };
  const path = join(dir, 'totals.snapshot');
  const takeStart = performance.now();
  const snapshot = task.snapshot()!;
  figures.snapshot_take_ms = Number((performance.now() - takeStart).toFixed(1));
  let sizeBytes = 0;
  let writeStallMs = 0;
  const write = await measure(async () => {
    writeStallMs = await longestStallMs(async () => {
      sizeBytes = await writeSnapshotFile(path, identity, snapshot);
    });
  });
  report(`snapshot write, ${KEYS} keys`, 'snapshot_write_entry', KEYS, write, 'entries');
  let loadStallMs = 0;
  const fresh = openStore();
  const load = await measure(async () => {
    loadStallMs = await longestStallMs(async () => {
      const read = await readSnapshotFile(path, identity);
      if (read.snapshot === undefined) throw new Error(`snapshot rejected: ${read.rejected}`);
      await fresh.task.loadSnapshot(read.snapshot);
    });
  });
  if (fresh.store.approximateNumEntries() !== store.approximateNumEntries()) throw new Error('the loaded snapshot differs from the store');
  report(`snapshot read + load, ${KEYS} keys`, 'snapshot_load_entry', KEYS, load, 'entries');
  figures.snapshot_bytes = sizeBytes;
  figures.snapshot_write_s = Number(write.wallS.toFixed(3));
  figures.snapshot_write_longest_stall_ms = Number(writeStallMs.toFixed(1));
  figures.snapshot_load_s = Number(load.wallS.toFixed(3));
  figures.snapshot_load_longest_stall_ms = Number(loadStallMs.toFixed(1));
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// Restore: changelog records as a consumer hands them over, in batches of fresh Uint8Arrays.
const encoder = new TextEncoder();
const restored = openStore();
const RESTORE_BATCH = 10_000;
let restoreTime = { cpuS: 0, wallS: 0 };
for (let from = 0; from < KEYS; from += RESTORE_BATCH) {
  const batch: ChangelogRecord[] = [];
  for (let offset = from; offset < Math.min(KEYS, from + RESTORE_BATCH); offset++) {
    batch.push({ offset, key: encoder.encode(keyOf(coldIndexes[offset % RECORDS]!)), value: encoder.encode(JSON.stringify({ count: offset, sum: offset * 7 })) });
  }
  const t = await measure(() => restored.task.restore(batch, batch[batch.length - 1]!.offset + 1));
  restoreTime = { cpuS: restoreTime.cpuS + t.cpuS, wallS: restoreTime.wallS + t.wallS };
}
report(`restore from ${KEYS} changelog records`, 'restore_record', KEYS, restoreTime, 'records');
if (sink === 0) throw new Error('nothing was read');

const memory = process.memoryUsage();
figures.heap_used_mb = Math.round(memory.heapUsed / 1048576);
printTable(`State store, ${KEYS.toLocaleString('en-US')} keys, commit every ${COMMIT_EVERY.toLocaleString('en-US')} records`, rows);
console.log(
  `snapshot: ${(Number(figures.snapshot_bytes) / 1048576).toFixed(1)} MiB; taking it ${figures.snapshot_take_ms} ms; ` +
    `write ${figures.snapshot_write_s} s wall (longest event-loop stall ${figures.snapshot_write_longest_stall_ms} ms); ` +
    `read + load ${figures.snapshot_load_s} s wall (longest stall ${figures.snapshot_load_longest_stall_ms} ms); ` +
    `heap used ${figures.heap_used_mb} MB with three stores of ${KEYS.toLocaleString('en-US')} keys`,
);
console.log(JSON.stringify(figures));
