/**
 * Opens a broker inside this process, writes a few JSON orders to a topic with acks=all, waits for
 * more with a long poll, and reads everything back.
 *
 *   node dist/examples/embedded-broker.js [dataDir]   |   bun examples/embedded-broker.ts   |   deno run -A examples/embedded-broker.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Acks, Broker } from '../broker/mod.ts';
import { RecordBatchBuilder, readRecordBatches } from '../sdk/mod.ts';

const explicitDir = process.argv[2];
const dataDir = explicitDir ?? mkdtempSync(join(tmpdir(), 'rill-example-'));
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const broker = await Broker.open({ config: { dataDir } });
try {
  if (!broker.hasTopic('orders')) await broker.createTopic('orders', { partitions: 1 });

  const batch = new RecordBatchBuilder({ compression: 'gzip' });
  for (const [id, total] of [['o-1', 42], ['o-2', 7], ['o-3', 19]] as const) {
    batch.append({ key: encoder.encode(id), value: encoder.encode(JSON.stringify({ id, total })), headers: [] });
  }
  const written = await broker.append('orders', 0, batch.seal(), Acks.all);
  console.log(`wrote offsets ${written.baseOffset}..${written.lastOffset} (fsynced)`);

  const tail = broker.fetch({
    partitions: [{ topic: 'orders', partition: 0, fetchOffset: written.lastOffset + 1, partitionMaxBytes: 1 << 20 }],
    maxWaitMs: 5_000,
    minBytes: 1,
    maxBytes: 1 << 20,
  });
  const late = new RecordBatchBuilder({});
  late.append({ key: encoder.encode('o-4'), value: encoder.encode(JSON.stringify({ id: 'o-4', total: 3 })), headers: [] });
  await broker.append('orders', 0, late.seal(), Acks.all);
  const [woken] = await tail;
  console.log(`long poll woke with ${woken!.records.byteLength} bytes`);

  const [all] = await broker.fetch({
    partitions: [{ topic: 'orders', partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }],
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1 << 20,
  });
  let sum = 0;
  for (const stored of readRecordBatches(all!.records)) {
    for (const record of stored.records()) {
      const order = JSON.parse(decoder.decode(record.value!)) as { id: string; total: number };
      sum += order.total;
      console.log(`offset ${record.offset}: ${order.id} ${order.total}`);
    }
  }
  console.log(`total ${sum}`);
} finally {
  await broker.close();
  if (explicitDir === undefined) rmSync(dataDir, { recursive: true, force: true });
}
