import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Broker, embeddedTransport, nodeFileSystem } from '../../../../broker/mod.ts';
import { FaultInjectingFileSystem } from '../../../../broker/log/fault-injecting-file-system.ts';
import type { FileSystem } from '../../../../broker/log/file-system.ts';
import { loadDelayState } from '../../../../broker/delay/delay-state.ts';
import { RecordBatchBuilder } from '../../../../sdk/mod.ts';
import { readCommittedTopic } from '../../../helpers/read-committed-topic.ts';

const utf8 = new TextEncoder();
const text = new TextDecoder();
const dirs: string[] = [];
const open: { close(): Promise<void> }[] = [];

afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close().catch(() => undefined);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 10));
}

const PRODUCER_ID = 4242;

/** One idempotent batch of producer PRODUCER_ID, epoch 0: `value` due at `dueMs`. */
function delayedBatch(sequence: number, value: string, dueMs: number): Uint8Array {
  const builder = new RecordBatchBuilder({ producerId: PRODUCER_ID, producerEpoch: 0, baseSequence: sequence });
  builder.append({ value: utf8.encode(value), headers: [{ key: 'rill.deliver.at', value: utf8.encode(String(dueMs)) }] });
  return builder.seal({ producerId: PRODUCER_ID, producerEpoch: 0, baseSequence: sequence, isTransactional: false });
}

async function openBroker(dataDir: string, fs: FileSystem): Promise<Broker> {
  const broker = await Broker.open({ config: { dataDir }, fs });
  open.push(broker);
  return broker;
}

async function values(broker: Broker): Promise<string[]> {
  const transport = embeddedTransport(broker);
  try {
    return (await readCommittedTopic(transport, 'later')).map((r) => text.decode(r.value!));
  } finally {
    await transport.close();
  }
}

/**
 * The produce under test: two delayed batches at once, to partitions 0 and 1. The second finds
 * the delay log's group commit busy with the first's fsync, which is where a placeholder could
 * be fsynced before its record.
 */
function produce(broker: Broker, dueMs: number, batches = [delayedBatch(1, 'x', dueMs), delayedBatch(0, 'y', dueMs)]): Promise<unknown> {
  return Promise.all(batches.map((batch, partition) => broker.append('later', partition, batch)));
}

/** A broker whose delay log and state exist (one delayed record produced and delivered). */
async function setUp(fs: FileSystem): Promise<{ broker: Broker; dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'rill-delay-crash-'));
  dirs.push(dataDir);
  const broker = await openBroker(dataDir, fs);
  await broker.createTopic('later', { partitions: 2, config: { 'rill.delayed.delivery': 'true' } });
  await broker.append('later', 0, delayedBatch(0, 'warm-up', Date.now() + 20));
  await until(async () => (await values(broker)).includes('warm-up'));
  return { broker, dataDir };
}

describe('delayed delivery across a crash in the middle of a delayed produce', () => {
  it.each([
    ['a power loss (unsynced writes lost)', false],
    ['a process kill (every write kept)', true],
  ])('at any filesystem step of the produce, %s: the producer retries and the record arrives exactly once', async (_, keepUnsyncedWrites) => {
    const dry = new FaultInjectingFileSystem(nodeFileSystem);
    const dryRun = await setUp(dry);
    const before = dry.operations.length;
    await produce(dryRun.broker, Date.now() + 150);
    const steps = dry.operations.slice(before);
    expect(steps.some((s) => s.includes('__delayed_records'))).toBe(true);
    await dryRun.broker.close();

    for (let crashAt = 1; crashAt <= steps.length; crashAt++) {
      const context = `crash before step ${crashAt} of ${steps.length} (${steps[crashAt - 1]})`;
      const fs = new FaultInjectingFileSystem(nodeFileSystem);
      const run = await setUp(fs);
      const dueMs = Date.now() + 150;
      const batches = [delayedBatch(1, 'x', dueMs), delayedBatch(0, 'y', dueMs)];
      fs.crashAtOperation(crashAt, { keepUnsyncedWrites });
      await produce(run.broker, dueMs, batches).catch(() => undefined);
      await until(() => fs.hasCrashed);
      await run.broker.close().catch(() => undefined);
      await fs.crashSettled();

      const broker = await openBroker(run.dataDir, nodeFileSystem);
      // The producer never had an answer: it sends the same batches again, then its next ones.
      // (A retry after the due time is appended at once, so arrival order may differ from due order.)
      await produce(broker, dueMs, batches);
      await produce(broker, dueMs + 1, [delayedBatch(2, 'after', dueMs + 1), delayedBatch(1, 'after', dueMs + 1)]);
      // Due after everything above, so once both arrive nothing earlier is still waiting to move.
      const endMs = Math.max(Date.now(), dueMs + 1) + 30;
      await produce(broker, endMs, [delayedBatch(3, 'end', endMs), delayedBatch(2, 'end', endMs)]);
      await until(async () => (await values(broker)).filter((v) => v === 'end').length === 2);
      expect((await values(broker)).sort(), context).toEqual(['after', 'after', 'end', 'end', 'warm-up', 'x', 'y']);
      await broker.close();
    }
  });
});

describe('delayed delivery across a clean close', () => {
  it('records where the placeholders stand, so the next open checks none of the records again', async () => {
    const { broker, dataDir } = await setUp(nodeFileSystem);
    await produce(broker, Date.now() + 600_000);
    const end = broker.describeTopic('__delayed_records').partitions[0]!.logEndOffset;
    expect((await loadDelayState(nodeFileSystem, dataDir))?.placedBelow ?? 0).toBeLessThan(end);
    await broker.close();
    expect((await loadDelayState(nodeFileSystem, dataDir))?.placedBelow).toBe(end);
    const reopened = await openBroker(dataDir, nodeFileSystem);
    expect(reopened.delayedDelivery.stats()).toMatchObject({ indexed: 2, moved: 0 });
    expect(await values(reopened)).toEqual(['warm-up']);
  });
});
