/**
 * A Rill broker for bench/queue-consume.ts, as its own process (as RabbitMQ is): opens an embedded
 * broker in `--data-dir` with share groups reading from the earliest offset (the CLI has no share
 * settings), writes `--records` records of `--size` bytes to one partition of `bench-queue` in
 * batches of 500 (fsynced), starts the Kafka listener on 127.0.0.1, prints
 * `share broker ready on 127.0.0.1:<port>` and runs until SIGTERM, then prints the CPU time it
 * spent since it was ready and closes cleanly.
 *
 *   node dist/bench/peers/rill-share-broker.js --data-dir DIR --records N --size B --locks L
 */
import { parseArgs } from 'node:util';
import { Broker } from '../../broker/mod.ts';
import { KafkaListener } from '../../broker/kafka/kafka-listener.ts';
import { RecordBatchBuilder } from '../../sdk/mod.ts';

const SHARE_BENCH_TOPIC = 'bench-queue';

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    records: { type: 'string', default: '100000' },
    size: { type: 'string', default: '100' },
    locks: { type: 'string', default: '2000' },
    'max-records-per-fetch': { type: 'string', default: '500' },
  },
});
const dataDir = values['data-dir'];
if (dataDir === undefined) throw new Error('rill-share-broker: --data-dir is required');
const total = Number(values.records);

const broker = await Broker.open({
  config: { dataDir },
  shareGroups: { defaults: { autoOffsetReset: 'earliest', partitionMaxRecordLocks: Number(values.locks), maxRecordsPerFetch: Number(values['max-records-per-fetch']) } },
});
await broker.createTopic(SHARE_BENCH_TOPIC, { partitions: 1 });
const value = new Uint8Array(Number(values.size)).fill(7);
for (let written = 0; written < total; ) {
  const builder = new RecordBatchBuilder({});
  for (let i = 0; i < 500 && written < total; i++, written++) builder.append({ value });
  await broker.append(SHARE_BENCH_TOPIC, 0, builder.seal());
}
const listener = await KafkaListener.start(broker, { host: '127.0.0.1', port: 0 });
const readyCpu = process.cpuUsage();
let closing = false;
process.on('SIGTERM', () => {
  if (closing) return;
  closing = true;
  // CPU time from ready to stop: serving the consumers (the preload is left out).
  const cpu = process.cpuUsage(readyCpu);
  console.log(`share broker cpu ${Math.round((cpu.user + cpu.system) / 1000)} ms`);
  void listener
    .close()
    .then(() => broker.close())
    .then(() => process.exit(0));
});
console.log(`share broker ready on 127.0.0.1:${listener.port}`);
