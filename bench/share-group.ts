/**
 * Share-group consume benchmark: `--records` records (100-byte values, batches of 500) in one
 * partition, consumed by `--consumers` SDK ShareConsumers over TCP, each record accepted one by
 * one (acknowledgements ride on the next ShareFetch; every acquisition and acknowledgement is
 * fsynced to `__share_group_state` before it is answered). Prints records/s end to end.
 *
 *   node dist/bench/share-group.js [--records 100000] [--consumers 4] [--partitions 1] [--locks 2000]
 *   bun bench/share-group.ts    |    deno run -A bench/share-group.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Broker } from '../broker/mod.ts';
import { KafkaListener } from '../broker/kafka/kafka-listener.ts';
import { RecordBatchBuilder, ShareConsumer, TcpTransport } from '../sdk/mod.ts';
import { printTable, runtimeName } from './report.ts';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '100000' },
    consumers: { type: 'string', default: '4' },
    partitions: { type: 'string', default: '1' },
    // group.share.partition.max.record.locks: the in-flight window per partition.
    locks: { type: 'string', default: '2000' },
  },
});
const total = Number(values.records);
const consumerCount = Number(values.consumers);
const partitions = Number(values.partitions);

const dataDir = mkdtempSync(join(tmpdir(), 'rill-bench-share-'));
const broker = await Broker.open({ config: { dataDir }, shareGroups: { defaults: { autoOffsetReset: 'earliest', partitionMaxRecordLocks: Number(values.locks) } } });
const listener = await KafkaListener.start(broker, { host: '127.0.0.1', port: 0 });
const transports: TcpTransport[] = [];
try {
  await broker.createTopic('bench-share', { partitions });
  const value = new Uint8Array(100).fill(7);
  for (let written = 0, p = 0; written < total; p = (p + 1) % partitions) {
    const builder = new RecordBatchBuilder({});
    for (let i = 0; i < 500 && written < total; i++, written++) builder.append({ value });
    await broker.append('bench-share', p, builder.seal());
  }
  let consumed = 0;
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const startMs = performance.now();
  const consumers = Array.from({ length: consumerCount }, () => {
    const transport = new TcpTransport({ bootstrapServers: [`127.0.0.1:${listener.port}`] });
    transports.push(transport);
    return new ShareConsumer(transport, { groupId: 'bench', topics: ['bench-share'], maxWaitMs: 100 });
  });
  const perConsumer = consumers.map(() => 0);
  const runs = consumers.map(async (c, i) => {
    for await (const record of c) {
      record.accept();
      perConsumer[i]!++;
      if (++consumed === total) finish();
    }
  });
  await done;
  const seconds = (performance.now() - startMs) / 1000;
  await Promise.all(consumers.map((c) => c.close()));
  await Promise.all(runs);
  const figures = {
    bench: 'share-group',
    runtime: runtimeName(),
    records: total,
    consumers: consumerCount,
    partitions,
    partition_max_record_locks: Number(values.locks),
    seconds: Number(seconds.toFixed(2)),
    records_per_s: Math.round(total / seconds),
    min_consumer_share: Number((Math.min(...perConsumer) / total).toFixed(3)),
  };
  printTable('share-group consume, per-record accept', [
    ['records', total.toLocaleString('en'), `${partitions} partition(s), ${consumerCount} consumers over TCP, ${values.locks} record locks per partition`],
    ['throughput', `${figures.records_per_s.toLocaleString('en')} records/s`, `${figures.seconds} s`],
    ['smallest consumer share', `${(figures.min_consumer_share * 100).toFixed(1)} %`, perConsumer.join(' / ')],
  ]);
  console.log(JSON.stringify(figures));
} finally {
  for (const t of transports) await t.close();
  await listener.close();
  await broker.close();
  rmSync(dataDir, { recursive: true, force: true });
}
