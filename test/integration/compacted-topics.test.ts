import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Broker, IsolationLevel } from '../../broker/mod.ts';
import { KafkaListener } from '../../broker/kafka/kafka-listener.ts';
import { readRecordBatches } from '../../sdk/mod.ts';
import { ManagedProcess, repoRoot } from '../helpers/child-process.ts';

/**
 * Third-party consumers over a compacted topic with offset gaps, on a Rill broker listening on
 * 127.0.0.1: gaps between batches, batches whose tail records were removed, headers kept empty for
 * an idempotent producer, aborted transactional data removed, markers kept. The broker runs in
 * this process so the test decides when the cleaner passes.
 */
const TOPIC = 'compacted';
let dataDir: string;
let broker: Broker;
let listener: KafkaListener;
let kafka: Kafka;
const expected = { uncommitted: [] as string[], committed: [] as string[] };

function describeRecords(records: Uint8Array, into: string[], skipControl: boolean): number {
  const decoder = new TextDecoder();
  let next = -1;
  for (const batch of readRecordBatches(records)) {
    next = batch.lastOffset + 1;
    if (batch.isControl && skipControl) continue;
    for (const r of batch.records()) into.push(`${r.offset}:${r.key === null ? 'null' : decoder.decode(r.key)}=${r.value === null ? 'null' : decoder.decode(r.value)}`);
  }
  return next;
}

async function readThroughBroker(isolationLevel: (typeof IsolationLevel)[keyof typeof IsolationLevel]): Promise<{ entries: string[]; batches: { baseOffset: number; lastOffset: number; offsets: number[] }[] }> {
  const entries: string[] = [];
  const batches: { baseOffset: number; lastOffset: number; offsets: number[] }[] = [];
  for (let offset = 0; ; ) {
    const [result] = await broker.fetch({ partitions: [{ topic: TOPIC, partition: 0, fetchOffset: offset, partitionMaxBytes: 1 << 20 }], maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel });
    if (result!.records.length === 0) break;
    for (const b of readRecordBatches(result!.records)) batches.push({ baseOffset: b.baseOffset, lastOffset: b.lastOffset, offsets: b.isControl ? [] : [...b.records()].map((r) => r.offset) });
    offset = describeRecords(result!.records, entries, true);
  }
  return { entries, batches };
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'rill-compacted-'));
  broker = await Broker.open({ config: { dataDir, cleanerEnable: false }, groups: { initialRebalanceDelayMs: 0 } });
  listener = await KafkaListener.start(broker, { host: '127.0.0.1', port: 0, limits: { shutdownGraceMs: 0 } });
  kafka = new Kafka({ clientId: 'compacted-test', brokers: [`127.0.0.1:${listener.port}`], logLevel: logLevel.NOTHING });

  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [
      {
        topic: TOPIC,
        numPartitions: 1,
        configEntries: [
          { name: 'cleanup.policy', value: 'compact' },
          { name: 'segment.bytes', value: '1024' },
          { name: 'min.cleanable.dirty.ratio', value: '0.01' },
          { name: 'delete.retention.ms', value: '0' },
        ],
      },
    ],
  });
  await admin.disconnect();

  const idempotent = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await idempotent.connect();
  for (let i = 0; i < 12; i++) {
    const messages = [0, 1, 2, 3].map((j) => ({ key: `k${(i * 4 + j) % 6}`, value: (i * 4 + j) % 7 === 6 ? null : `idem-${i}-${j}` }));
    await idempotent.send({ topic: TOPIC, acks: -1, compression: i % 2 === 1 ? CompressionTypes.GZIP : CompressionTypes.None, messages });
  }
  await idempotent.disconnect();

  const transactional = kafka.producer({ transactionalId: 'compacted-txn', idempotent: true, maxInFlightRequests: 1 });
  await transactional.connect();
  for (const [outcome, keys] of [['commit', ['k1', 'k2', 'k3']], ['abort', ['t7', 't8', 't9']], ['commit', ['t8']]] as const) {
    const txn = await transactional.transaction();
    await txn.send({ topic: TOPIC, acks: -1, messages: keys.map((key) => ({ key, value: `txn-${outcome}-${key}` })) });
    if (outcome === 'commit') await txn.commit();
    else await txn.abort();
  }

  const plain = kafka.producer();
  await plain.connect();
  for (let i = 0; i < 10; i++) {
    await plain.send({ topic: TOPIC, acks: -1, messages: [0, 1, 2, 3].map((j) => ({ key: `k${(i + j) % 4}`, value: `plain-${i}-${j}` })) });
  }
  // A batch whose last record the next batch supersedes: cleaned, it ends before its last offset.
  await plain.send({ topic: TOPIC, acks: -1, messages: ['a', 'b', 'c'].map((key) => ({ key, value: `first-${key}` })) });
  await plain.send({ topic: TOPIC, acks: -1, messages: [{ key: 'c', value: 'second-c' }] });
  // Enough more to roll those into a sealed segment the cleaner may take.
  for (let i = 0; i < 12; i++) await plain.send({ topic: TOPIC, acks: -1, messages: [{ key: `filler-${i}`, value: 'x'.repeat(100) }] });
  await plain.disconnect();
  for (let pass = 0; pass < 10 && (await broker.logCleaner.runRound()) !== undefined; pass++);
  // An aborted transaction after the cleaning: read_committed leaves it out.
  const late = await transactional.transaction();
  await late.send({ topic: TOPIC, acks: -1, messages: [{ key: 'late', value: 'txn-late-abort' }] });
  await late.abort();
  const last = await transactional.transaction();
  await last.send({ topic: TOPIC, acks: -1, messages: [{ key: 'late', value: 'txn-late-commit' }] });
  await last.commit();
  await transactional.disconnect();
  const uncommitted = await readThroughBroker(IsolationLevel.readUncommitted);
  expected.uncommitted = uncommitted.entries;
  expected.committed = (await readThroughBroker(IsolationLevel.readCommitted)).entries;
  // The cleaner did leave what this test is about.
  const offsets = uncommitted.entries.map((e) => Number(e.split(':')[0]));
  expect(offsets.some((o, i) => i > 0 && o > offsets[i - 1]! + 1)).toBe(true);
  expect(uncommitted.batches.some((b) => b.offsets.length > 0 && b.offsets.at(-1)! < b.lastOffset)).toBe(true);
  expect(uncommitted.entries.some((e) => e.includes('txn-abort'))).toBe(false);
  expect(expected.uncommitted.some((e) => e.endsWith('=txn-late-abort'))).toBe(true);
  expect(expected.committed).toEqual(expected.uncommitted.filter((e) => !e.endsWith('=txn-late-abort')));
}, 60_000);

afterAll(async () => {
  await listener?.close();
  await broker?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function kafkajsReads(groupId: string, readUncommitted: boolean, lastOffset: string): Promise<string[]> {
  const consumer = kafka.consumer({ groupId, readUncommitted, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
  const read: string[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      new Promise<void>((resolve) => {
        void consumer.run({
          eachMessage: async ({ message }) => {
            read.push(`${message.offset}:${message.key?.toString() ?? 'null'}=${message.value?.toString() ?? 'null'}`);
            if (Number(message.offset) >= Number(lastOffset)) resolve();
          },
        });
      }),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`kafkajs stalled after ${read.at(-1) ?? 'nothing'}`)), 30_000))),
    ]);
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
  }
  return read;
}

const lastOffsetOf = (entries: readonly string[]): string => entries.at(-1)!.split(':')[0]!;

describe('consumers over a compacted topic with gaps', () => {
  it('kafkajs 2.2.4 reads it read_uncommitted and read_committed', async () => {
    expect(await kafkajsReads('kafkajs-uncommitted', true, lastOffsetOf(expected.uncommitted))).toEqual(expected.uncommitted);
    expect(await kafkajsReads('kafkajs-committed', false, lastOffsetOf(expected.committed))).toEqual(expected.committed);
  }, 60_000);

  it.each(['Bun', 'Deno'] as const)('@platformatic/kafka under %s reads it read_uncommitted and read_committed', async (runtime) => {
    const script = 'test/integration/platformatic/compacted-consumer.ts';
    const args = [`127.0.0.1:${listener.port}`, TOPIC, `pf-${runtime}`, lastOffsetOf(expected.uncommitted), lastOffsetOf(expected.committed)];
    const proc =
      runtime === 'Bun'
        ? new ManagedProcess(`${repoRoot}/node_modules/.bin/bun`, [script, ...args])
        : new ManagedProcess(`${repoRoot}/node_modules/.bin/deno`, ['run', '--allow-all', '--no-lock', script, ...args]);
    const exit = await proc.exit();
    expect(exit.code, exit.stderr).toBe(0);
    const report = JSON.parse(exit.stdout.trim().split('\n').at(-1)!) as { uncommitted: string[]; committed: string[] };
    expect(report).toEqual(expected);
  }, 60_000);
});
