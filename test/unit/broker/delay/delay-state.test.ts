import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeFileSystem } from '../../../../broker/mod.ts';
import { DELAY_STATE_FILES, type DelayState, loadDelayState, partitionKey, saveDelayState } from '../../../../broker/delay/delay-state.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function state(n: number, writes: number): DelayState {
  return { producerId: 7, moved: { dueMs: n, offset: n }, moving: { dueMs: n + 1, offset: n + 1 }, nextSequence: new Map([[partitionKey('t', 0), n]]), placedBelow: n, writes };
}

describe('delayed delivery state, two slots', () => {
  it('loads the newest save, and the one before when the newest slot is torn or garbled; refuses when both are', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rill-delay-state-'));
    dirs.push(dir);
    expect(await loadDelayState(nodeFileSystem, dir)).toBeUndefined();
    let writes = 0;
    for (let n = 1; n <= 5; n++) writes = await saveDelayState(nodeFileSystem, dir, state(n * 100, writes));
    expect(writes).toBe(5);
    expect(await loadDelayState(nodeFileSystem, dir)).toEqual(state(500, 5));

    // A shorter save over a longer one leaves old bytes behind it; the length in the header bounds it.
    writes = await saveDelayState(nodeFileSystem, dir, { ...state(1, writes), nextSequence: new Map() });
    expect((await loadDelayState(nodeFileSystem, dir))?.moved).toEqual({ dueMs: 1, offset: 1 });

    const newest = join(dir, DELAY_STATE_FILES[writes % 2]!);
    const bytes = readFileSync(newest);
    // Torn inside the newest save's own bytes (the header's length, then the JSON).
    writeFileSync(newest, bytes.subarray(0, 8 + bytes.readUInt32BE(0) - 3));
    expect(await loadDelayState(nodeFileSystem, dir)).toEqual(state(500, 5));
    bytes[12] = bytes[12]! ^ 0xff;
    writeFileSync(newest, bytes);
    expect(await loadDelayState(nodeFileSystem, dir)).toEqual(state(500, 5));

    writeFileSync(join(dir, DELAY_STATE_FILES[(writes + 1) % 2]!), 'not a state');
    await expect(loadDelayState(nodeFileSystem, dir)).rejects.toMatchObject({ errorName: 'KAFKA_STORAGE_ERROR' });
  });
});
