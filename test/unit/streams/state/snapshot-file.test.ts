import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { crc32c } from '../../../../sdk/record/crc32c.ts';
import { stringSerde } from '../../../../sdk/serde/basic-serdes.ts';
import type { Serde } from '../../../../sdk/serde/serde.ts';
import type { KeyValueStore } from '../../../../streams/state/key-value-store.ts';
import { openTaskStore } from '../../../../streams/state/open-task-store.ts';
import { SnapshotDirectory } from '../../../../streams/state/snapshot-directory.ts';
import { readSnapshotFile, type SnapshotIdentity, writeSnapshotFile } from '../../../../streams/state/snapshot-file.ts';
import type { StoreSnapshot, TaskStore } from '../../../../streams/state/task-store.ts';

const identity: SnapshotIdentity = { changelogTopicId: '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0', partition: 3 };
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rill-snapshot-'));
  dirs.push(dir);
  return dir;
}

function openStore(): { task: TaskStore; store: KeyValueStore<string, string> } {
  let offset = 0;
  const task = openTaskStore(
    { name: 'store', kind: 'keyValue', keySerde: stringSerde as Serde<unknown>, valueSerde: stringSerde as Serde<unknown>, logged: true, cached: true, changelogConfig: {} },
    { partition: 3, writeChangelog: () => void offset++, changelogTimestampMs: () => 0 },
  );
  const store = task.store as KeyValueStore<string, string>;
  return { task, store };
}

/** A store holding `entries`, committed at changelog offset `offset`. */
function storeWith(entries: [string, string][], offset: number): TaskStore {
  const { task, store } = openStore();
  for (const [k, v] of entries) store.put(k, v);
  task.prepareCommit();
  task.commit(offset);
  return task;
}

async function contents(snapshot: StoreSnapshot): Promise<[string, string][]> {
  const { task, store } = openStore();
  await task.loadSnapshot(snapshot);
  return [...store.all()];
}

/** Rewrites the trailing CRC so a crafted body passes it and reaches the structural checks. */
function withCrc(bytes: Uint8Array): Uint8Array {
  const fixed = bytes.slice();
  new DataView(fixed.buffer).setUint32(fixed.length - 4, crc32c(fixed, 0, fixed.length - 4));
  return fixed;
}

const small: [string, string][] = [
  ['', 'empty key'],
  ['a', ''],
  ['b', 'two'],
  ['é', 'non-ascii'],
];

describe('snapshot files', () => {
  it('round-trips entries, changelog offset and identity, across chunk boundaries and entries larger than a chunk', async () => {
    const dir = tempDir();
    const big = 'x'.repeat(5_000);
    const entries: [string, string][] = [...small, ...Array.from({ length: 300 }, (_, i) => [`key-${String(i).padStart(4, '0')}`, i % 50 === 0 ? big : `value-${i}`] as [string, string])];
    const task = storeWith(entries, 1234);
    const path = join(dir, 'state.snapshot');
    const sizeBytes = await writeSnapshotFile(path, identity, task.snapshot()!, { chunkBytes: 1024 });
    expect(readFileSync(path).length).toBe(sizeBytes);
    expect(readdirSync(dir)).toEqual(['state.snapshot']);
    const read = await readSnapshotFile(path, identity);
    expect(read.rejected).toBeUndefined();
    expect(read.snapshot!.changelogOffset).toBe(1234);
    expect(read.snapshot!.entryCount).toBe(entries.length);
    expect(read.snapshot!.identity).toEqual(identity);
    expect(await contents(read.snapshot!)).toEqual([...entries].sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
  });

  it('rejects the file cut at every length, naming why', async () => {
    const dir = tempDir();
    const path = join(dir, 'whole.snapshot');
    await writeSnapshotFile(path, identity, storeWith(small, 7).snapshot()!);
    const whole = readFileSync(path);
    const cut = join(dir, 'cut.snapshot');
    for (let length = 0; length < whole.length; length++) {
      writeFileSync(cut, whole.subarray(0, length));
      const read = await readSnapshotFile(cut, identity);
      expect(read.snapshot, `cut at ${length}`).toBeUndefined();
      expect(read.rejected).toMatch(/truncated|CRC mismatch|bad magic/);
    }
  });

  it('rejects the file with any byte damaged', async () => {
    const dir = tempDir();
    const path = join(dir, 'whole.snapshot');
    await writeSnapshotFile(path, identity, storeWith(small, 7).snapshot()!);
    const whole = readFileSync(path);
    const damaged = join(dir, 'damaged.snapshot');
    for (let at = 0; at < whole.length; at++) {
      for (const flip of [0x01, 0x80, 0xff]) {
        const bytes = Uint8Array.from(whole);
        bytes[at]! ^= flip;
        writeFileSync(damaged, bytes);
        const read = await readSnapshotFile(damaged, identity);
        expect(read.snapshot, `byte ${at} ^ ${flip}`).toBeUndefined();
        expect(read.rejected).toMatch(/CRC mismatch|bad magic|unsupported snapshot version/);
      }
    }
  });

  it("rejects another changelog topic's or partition's snapshot", async () => {
    const dir = tempDir();
    const path = join(dir, 'state.snapshot');
    await writeSnapshotFile(path, identity, storeWith(small, 7).snapshot()!);
    const otherTopic = await readSnapshotFile(path, { ...identity, changelogTopicId: '11111111-2222-3333-4444-555555555555' });
    expect(otherTopic.rejected).toBe(`covers changelog topic id ${identity.changelogTopicId}, the changelog's id is 11111111-2222-3333-4444-555555555555 (the topic was recreated)`);
    const otherPartition = await readSnapshotFile(path, { ...identity, partition: 4 });
    expect(otherPartition.rejected).toBe('covers changelog partition 3, expected 4');
  });

  it('rejects files whose CRC holds but whose structure does not', async () => {
    const dir = tempDir();
    const path = join(dir, 'state.snapshot');
    await writeSnapshotFile(path, identity, storeWith([['a', '1'.repeat(10)], ['b', '2'.repeat(10)]], 7).snapshot()!);
    const whole = readFileSync(path);
    const crafted = join(dir, 'crafted.snapshot');
    const expectRejected = async (bytes: Uint8Array, reason: RegExp): Promise<void> => {
      writeFileSync(crafted, withCrc(bytes));
      expect((await readSnapshotFile(crafted, identity)).rejected).toMatch(reason);
    };
    const header = 42;
    // Keys out of order: swap the two one-byte keys.
    const swapped = Uint8Array.from(whole);
    swapped[header + 4] = 'b'.charCodeAt(0);
    swapped[header + 4 + 1 + 4 + 10 + 4] = 'a'.charCodeAt(0);
    await expectRejected(swapped, /not in ascending order/);
    // One entry more announced than present, and one fewer.
    const more = Uint8Array.from(whole);
    new DataView(more.buffer).setBigInt64(header - 8, 3n);
    await expectRejected(more, /entry 2 of 3 is cut off/);
    const fewer = Uint8Array.from(whole);
    new DataView(fewer.buffer).setBigInt64(header - 8, 1n);
    await expectRejected(fewer, /19 bytes after the last of 1 entries/);
    // A key length pointing past the end, and an absurd entry count.
    const longKey = Uint8Array.from(whole);
    new DataView(longKey.buffer).setUint32(header, 0xffff_fff0);
    await expectRejected(longKey, /runs past the end/);
    const huge = Uint8Array.from(whole);
    new DataView(huge.buffer).setBigInt64(header - 8, 1n << 40n);
    await expectRejected(huge, /cannot fit/);
    const version = Uint8Array.from(whole);
    version[5] = 2;
    await expectRejected(version, /unsupported snapshot version 2/);
  });

  it('leaves the previous file untouched and no temporary file when a write fails', async () => {
    const dir = tempDir();
    const path = join(dir, 'state.snapshot');
    await writeSnapshotFile(path, identity, storeWith(small, 7).snapshot()!);
    const before = readFileSync(path);
    const failing: StoreSnapshot = {
      changelogOffset: 9,
      entryCount: 2,
      *entries() {
        yield ['a', '1'] as const;
        throw new Error('disk full, say');
      },
    };
    await expect(writeSnapshotFile(path, identity, failing)).rejects.toThrow('disk full, say');
    expect(readdirSync(dir)).toEqual(['state.snapshot']);
    expect(readFileSync(path).equals(before)).toBe(true);
  });
});

describe('SnapshotDirectory', () => {
  it('keeps the newest two snapshots and falls back to the older one, or to none, when the newer fail', async () => {
    const dir = join(tempDir(), 'task-0_3', 'store');
    const snapshots = new SnapshotDirectory(dir, identity);
    expect(await snapshots.loadNewest()).toEqual({ snapshot: undefined, rejected: [] });
    const states: [string, string][][] = [[['a', '1']], [['a', '2'], ['b', '1']], [['a', '3']]];
    for (const [i, state] of states.entries()) {
      const written = await snapshots.write(storeWith(state, (i + 1) * 10).snapshot()!);
      expect(written).toMatchObject({ changelogOffset: (i + 1) * 10, entryCount: state.length });
    }
    expect(readdirSync(dir).sort()).toEqual(['00000000000000000020.snapshot', '00000000000000000030.snapshot']);

    const newest = join(dir, '00000000000000000030.snapshot');
    const bytes = readFileSync(newest);
    writeFileSync(newest, bytes.subarray(0, bytes.length - 3));
    writeFileSync(join(dir, '00000000000000000040.snapshot.tmp'), 'left by a crash');
    const loaded = await snapshots.loadNewest();
    expect(loaded.rejected).toEqual([{ file: '00000000000000000030.snapshot', reason: expect.stringMatching(/CRC mismatch/) }]);
    expect(loaded.snapshot!.changelogOffset).toBe(20);
    expect(await contents(loaded.snapshot!)).toEqual(states[1]);
    expect(readdirSync(dir)).toEqual(['00000000000000000020.snapshot']);

    const other = new SnapshotDirectory(dir, { ...identity, changelogTopicId: '11111111-2222-3333-4444-555555555555' });
    const none = await other.loadNewest();
    expect(none.snapshot).toBeUndefined();
    expect(none.rejected).toEqual([{ file: '00000000000000000020.snapshot', reason: expect.stringMatching(/the topic was recreated/) }]);
    expect(existsSync(join(dir, '00000000000000000020.snapshot'))).toBe(false);
  });

  it('runs one write at a time: a write asked for while one runs is skipped', async () => {
    const dir = tempDir();
    const snapshots = new SnapshotDirectory(dir, identity);
    const first = snapshots.write(storeWith(small, 5).snapshot()!);
    expect(await snapshots.write(storeWith(small, 6).snapshot()!)).toBeUndefined();
    expect((await first)!.changelogOffset).toBe(5);
    expect(readdirSync(dir)).toEqual(['00000000000000000005.snapshot']);
  });
});
