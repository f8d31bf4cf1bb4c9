import { mkdtempSync, readdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Broker, nodeFileSystem } from '../../../../broker/mod.ts';
import { FaultInjectingFileSystem } from '../../../../broker/log/fault-injecting-file-system.ts';
import { saveDelayIndexSnapshot, takeDelayIndexSnapshot } from '../../../../broker/delay/delay-index-snapshot.ts';
import { RecordBatchBuilder } from '../../../../sdk/mod.ts';

const utf8 = new TextEncoder();
const dirs: string[] = [];
const open: Broker[] = [];

afterEach(async () => {
  for (const broker of open.splice(0)) await broker.close().catch(() => undefined);
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rill-delay-snapshot-'));
  dirs.push(dir);
  return dir;
}

const SNAPSHOT = 'delayed-delivery-index';

describe('delay index snapshot', () => {
  it('reads back what it saved once, and nothing from a torn or altered file', async () => {
    const dir = tempDir();
    const saved = { delayLogEndOffset: 1234, moved: { dueMs: 1_700_000_000_000, offset: 17 }, horizon: { dueMs: 1_700_000_005_000, offset: 99 }, beyondMinOffset: 100, keys: new Float64Array([1_700_000_001_000, 18, 1_700_000_000_500, 40]) };
    await saveDelayIndexSnapshot(nodeFileSystem, dir, saved);
    expect(await takeDelayIndexSnapshot(nodeFileSystem, dir)).toEqual(saved);
    expect(readdirSync(dir)).toEqual([]);
    expect(await takeDelayIndexSnapshot(nodeFileSystem, dir)).toBeUndefined();

    await saveDelayIndexSnapshot(nodeFileSystem, dir, { ...saved, moved: undefined, horizon: undefined, beyondMinOffset: Number.POSITIVE_INFINITY });
    expect(await takeDelayIndexSnapshot(nodeFileSystem, dir)).toMatchObject({ moved: undefined, horizon: undefined, beyondMinOffset: Number.POSITIVE_INFINITY });

    await saveDelayIndexSnapshot(nodeFileSystem, dir, saved);
    const bytes = readFileSync(join(dir, SNAPSHOT));
    for (const altered of [bytes.subarray(0, bytes.length - 1), Buffer.from(bytes).fill(1, 60, 61), Buffer.concat([bytes, Buffer.from([0])])]) {
      writeFileSync(join(dir, SNAPSHOT), altered);
      expect(await takeDelayIndexSnapshot(nodeFileSystem, dir)).toBeUndefined();
      expect(readdirSync(dir)).toEqual([]);
    }
  });

  it('is installed by the open after a clean close, and the delay log is read again after a kill', async () => {
    const dataDir = tempDir();
    const fs = new FaultInjectingFileSystem(nodeFileSystem);
    const openBroker = async (): Promise<Broker> => {
      const broker = await Broker.open({ config: { dataDir }, fs });
      open.push(broker);
      return broker;
    };
    let broker = await openBroker();
    await broker.createTopic('later', { partitions: 2, config: { 'rill.delayed.delivery': 'true' } });
    const dueMs = Date.now() + 3_600_000;
    for (let partition = 0; partition < 2; partition++) {
      const builder = new RecordBatchBuilder({});
      for (let i = 0; i < 50; i++) builder.append({ value: utf8.encode(`${partition}-${i}`), headers: [{ key: 'rill.deliver.at', value: utf8.encode(String(dueMs + i)) }] });
      await broker.append('later', partition, builder.seal());
    }
    expect(broker.delayedDelivery.stats()).toMatchObject({ indexed: 100, rebuilds: 0 });
    await broker.close();
    const snapshot = readFileSync(join(dataDir, SNAPSHOT));

    broker = await openBroker();
    expect(readdirSync(dataDir)).not.toContain(SNAPSHOT);
    expect(broker.delayedDelivery.stats()).toMatchObject({ indexed: 100, rebuilds: 0 });
    fs.crash({ keepUnsyncedWrites: true });
    // Put back by hand: after a kill there is no clean-shutdown marker, so it is not installed.
    writeFileSync(join(dataDir, SNAPSHOT), snapshot);
    broker = await openBroker();
    expect(broker.delayedDelivery.stats()).toMatchObject({ indexed: 100, rebuilds: 1 });
    await broker.close();

    // Nor is one of a delay log that has grown since.
    broker = await openBroker();
    const builder = new RecordBatchBuilder({});
    builder.append({ value: utf8.encode('one more'), headers: [{ key: 'rill.deliver.at', value: utf8.encode(String(dueMs)) }] });
    await broker.append('later', 0, builder.seal());
    await broker.close();
    writeFileSync(join(dataDir, SNAPSHOT), snapshot);
    broker = await openBroker();
    expect(broker.delayedDelivery.stats()).toMatchObject({ indexed: 101, rebuilds: 1 });
  });
});
