/**
 * Partition log benchmark through the broker object: appends of ~16 KiB batches of 100-byte
 * records with acks=all (real fsync before acknowledgement), then reads back with 1 MiB fetches.
 * Also measures resident memory during the run and the cost of 1,000 open partitions.
 *
 *   node dist/bench/log.js [--mb 1024] [--partitions 4] [--in-flight 64]
 *   bun bench/log.ts    |    deno run -A bench/log.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Acks, Broker } from '../broker/mod.ts';
import { readBatchHeader, RecordBatchBuilder } from '../sdk/mod.ts';
import { printTable, runtimeName } from './report.ts';
import { RssSampler } from './rss-sampler.ts';

const { values } = parseArgs({
  options: {
    mb: { type: 'string', default: '1024' },
    partitions: { type: 'string', default: '4' },
    'in-flight': { type: 'string', default: '64' },
    dir: { type: 'string' },
  },
});
const totalBytesTarget = Number(values.mb) * 1024 * 1024;
const partitionCount = Number(values.partitions);
const inFlight = Number(values['in-flight']);
const RECORD_VALUE_BYTES = 100;
const BATCH_TARGET_BYTES = 16 * 1024;
const READ_MAX_BYTES = 1024 * 1024;

function buildBatches(count: number): { bytes: Uint8Array; records: number }[] {
  const batches: { bytes: Uint8Array; records: number }[] = [];
  const value = new Uint8Array(RECORD_VALUE_BYTES);
  for (let b = 0; b < count; b++) {
    const builder = new RecordBatchBuilder({});
    let n = 0;
    while (builder.sizeEstimate + RECORD_VALUE_BYTES + 16 < BATCH_TARGET_BYTES) {
      value.fill((b + n) & 0xff);
      builder.append({ key: null, value, headers: [], timestamp: 1_700_000_000_000 + n });
      n++;
    }
    batches.push({ bytes: builder.seal(), records: n });
  }
  return batches;
}

const dataDir = values.dir ?? mkdtempSync(join(tmpdir(), 'rill-bench-log-'));
const rss = new RssSampler();
rss.start();
const broker = await Broker.open({ config: { dataDir } });
try {
  const batches = buildBatches(64);
  // Measured first, from a fresh heap, so the delta is not hidden in memory freed by earlier phases.
  const before1000 = rss.currentMb();
  await broker.createTopic('wide', { partitions: 1000 });
  for (let p = 0; p < 1000; p++) await broker.append('wide', p, batches[p % batches.length]!.bytes.slice(), Acks.all);
  const after1000 = rss.currentMb();

  await broker.createTopic('bench', { partitions: partitionCount });
  const batchBytes = batches[0]!.bytes.byteLength;
  const totalBatches = Math.ceil(totalBytesTarget / batchBytes);

  let next = 0;
  let appendedBytes = 0;
  let appendedRecords = 0;
  const appendStart = performance.now();
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= totalBatches) return;
      const batch = batches[i % batches.length]!;
      // Each append patches baseOffset in place, so give the log its own copy of the bytes.
      await broker.append('bench', i % partitionCount, batch.bytes.slice(), Acks.all);
      appendedBytes += batch.bytes.byteLength;
      appendedRecords += batch.records;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const appendSeconds = (performance.now() - appendStart) / 1000;
  const appendRssMb = rss.maxMb;

  let readBytes = 0;
  let readRecords = 0;
  let maxOverBudgetBytes = 0;
  const readStart = performance.now();
  for (let p = 0; p < partitionCount; p++) {
    let offset = 0;
    for (;;) {
      const [result] = await broker.fetch({
        partitions: [{ topic: 'bench', partition: p, fetchOffset: offset, partitionMaxBytes: READ_MAX_BYTES }],
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: READ_MAX_BYTES,
      });
      const records = result!.records;
      if (records.byteLength === 0) break;
      maxOverBudgetBytes = Math.max(maxOverBudgetBytes, records.byteLength - READ_MAX_BYTES);
      readBytes += records.byteLength;
      let at = 0;
      while (at < records.byteLength) {
        const header = readBatchHeader(records, at);
        readRecords += header.recordsCount;
        offset = header.baseOffset + header.lastOffsetDelta + 1;
        at += header.batchLength + 12;
      }
    }
  }
  const readSeconds = (performance.now() - readStart) / 1000;

  const figures = {
    bench: 'log',
    runtime: runtimeName(),
    batch_bytes: batchBytes,
    records_per_batch: batches[0]!.records,
    appended_mb: +(appendedBytes / 1e6).toFixed(1),
    append_mb_s: +(appendedBytes / 1e6 / appendSeconds).toFixed(1),
    append_records_s: Math.round(appendedRecords / appendSeconds),
    read_mb_s: +(readBytes / 1e6 / readSeconds).toFixed(1),
    read_records_s: Math.round(readRecords / readSeconds),
    read_bytes_match: readBytes === appendedBytes,
    read_max_over_budget_bytes: maxOverBudgetBytes,
    rss_max_mb_during_append: +appendRssMb.toFixed(1),
    rss_max_mb: +rss.maxMb.toFixed(1),
    rss_1000_partitions_delta_mb: +(after1000 - before1000).toFixed(1),
  };
  printTable('log benchmark', [
    ['append (acks=all, fsync)', `${figures.append_mb_s} MB/s`, `${figures.append_records_s.toLocaleString('en')} records/s`],
    ['read (1 MiB fetches)', `${figures.read_mb_s} MB/s`, `${figures.read_records_s.toLocaleString('en')} records/s`],
    ['bytes read back == appended', String(figures.read_bytes_match), ''],
    ['largest read over max bytes', `${figures.read_max_over_budget_bytes} bytes`, ''],
    ['resident memory, max', `${figures.rss_max_mb} MB`, `${figures.rss_max_mb_during_append} MB during append`],
    ['1,000 open partitions cost', `${figures.rss_1000_partitions_delta_mb} MB`, ''],
  ]);
  console.log(JSON.stringify(figures));
} finally {
  await broker.close();
  rss.stop();
  if (values.dir === undefined) rmSync(dataDir, { recursive: true, force: true });
}
