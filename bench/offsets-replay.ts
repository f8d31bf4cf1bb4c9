/**
 * What log compaction does for a broker's start: --commits offset commits over --keys live keys
 * (groups × partitions) land in `__consumer_offsets`, then the broker is reopened twice: before
 * the cleaner ran (the start replays every commit) and after it compacted the topic (the start
 * replays about one record per live key). Prints both start times and what was replayed.
 *
 *   npm run build && node dist/bench/offsets-replay.js [--commits 1000000] [--groups 10] [--partitions 100]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Broker } from '../broker/mod.ts';
import { CONSUMER_OFFSETS_TOPIC } from '../broker/group/offsets-topic.ts';
import { printTable, runtimeName } from './report.ts';

const { values } = parseArgs({
  options: {
    commits: { type: 'string', default: '1000000' },
    groups: { type: 'string', default: '10' },
    partitions: { type: 'string', default: '100' },
  },
});
const COMMITS = Number(values.commits);
const GROUPS = Number(values.groups);
const PARTITIONS = Number(values.partitions);
const KEYS = GROUPS * PARTITIONS;
const dataDir = mkdtempSync(join(tmpdir(), 'rill-bench-offsets-'));
const config = { dataDir, cleanerEnable: false };

function offsetsRecords(broker: Broker): { records: number; bytes: number } {
  let records = 0;
  let bytes = 0;
  for (const p of broker.describeTopic(CONSUMER_OFFSETS_TOPIC).partitions) {
    records += p.highWatermark - p.logStartOffset;
    bytes += p.sizeBytes;
  }
  return { records, bytes };
}

async function timedOpen(): Promise<{ broker: Broker; ms: number }> {
  const startedMs = performance.now();
  const broker = await Broker.open({ config });
  return { broker, ms: performance.now() - startedMs };
}

try {
  let broker = await Broker.open({ config });
  await broker.createTopic('t', { partitions: PARTITIONS });
  const commit = (groupId: string, round: number) =>
    broker.groups.commitOffsets({
      groupId,
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      retentionTimeMs: -1,
      topics: [{ name: 't', partitions: Array.from({ length: PARTITIONS }, (_, partitionIndex) => ({ partitionIndex, committedOffset: round, committedMetadata: null })) }],
    });
  // Small segments, so the history seals into segments the cleaner can reach.
  await commit('g0', 0);
  await broker.alterTopicConfig(CONSUMER_OFFSETS_TOPIC, { 'segment.bytes': String(256 * 1024) });
  const rounds = Math.ceil(COMMITS / KEYS);
  for (let round = 1; round <= rounds; round++) {
    await Promise.all(Array.from({ length: GROUPS }, (_, g) => commit(`g${g}`, round)));
  }
  const written = offsetsRecords(broker);
  await broker.close();

  const before = await timedOpen();
  broker = before.broker;
  const check = broker.groups.fetchOffsets('g3', [{ name: 't', partitionIndexes: [7] }]).topics[0]!.partitions[0]!.committedOffset;
  while ((await broker.logCleaner.runRound()) !== undefined);
  const cleaned = offsetsRecords(broker);
  await broker.close();

  const after = await timedOpen();
  broker = after.broker;
  const checkAfter = broker.groups.fetchOffsets('g3', [{ name: 't', partitionIndexes: [7] }]).topics[0]!.partitions[0]!.committedOffset;
  await broker.close();
  if (check !== rounds || checkAfter !== rounds) throw new Error(`committed offsets changed across the restarts: ${check}, ${checkAfter}, expected ${rounds}`);

  printTable(`__consumer_offsets replay at start, ${written.records.toLocaleString('en')} commits over ${KEYS.toLocaleString('en')} live keys`, [
    ['start', '__consumer_offsets bytes', 'start time'],
    ['before compaction', written.bytes.toLocaleString('en'), `${Math.round(before.ms)} ms`],
    ['after compaction', cleaned.bytes.toLocaleString('en'), `${Math.round(after.ms)} ms`],
  ]);
  console.log(
    JSON.stringify({
      bench: 'offsets-replay',
      runtime: runtimeName(),
      commits: written.records,
      live_keys: KEYS,
      start_before_ms: Math.round(before.ms),
      start_after_ms: Math.round(after.ms),
      bytes_before: written.bytes,
      bytes_after: cleaned.bytes,
    }),
  );
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
