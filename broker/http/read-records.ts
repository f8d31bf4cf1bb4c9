import { isKafkaError } from '../../sdk/protocol/kafka-error.ts';
import { compressionName } from '../../sdk/record/compression.ts';
import type { Record as KafkaRecord } from '../../sdk/record/record.ts';
import { readRecordBatches, type RecordBatchView } from '../../sdk/record/record-batch-reader.ts';
import { IsolationLevel, type IsolationLevelValue } from '../fetch/fetch-types.ts';
import { ListOffsetsTimestamp } from '../list-offsets.ts';
import type { HttpContext } from './http-context.ts';
import { HttpProblem } from './problem.ts';

const READ_CHUNK_BYTES = 1024 * 1024;

/** Where a read or a live tail starts: `offset` (a number, `earliest` or `latest`) or `timestamp` (ms). */
export function resolveStartOffset(
  ctx: HttpContext,
  topic: string,
  partition: number,
  query: { offset?: string | undefined; timestamp?: string | undefined },
  fallback: 'earliest' | 'latest',
): number {
  if (query.offset !== undefined && query.timestamp !== undefined) {
    throw new HttpProblem('badRequest', 'give either offset or timestamp, not both');
  }
  const edge = (which: 'earliest' | 'latest'): number =>
    ctx.broker.listOffsets(topic, partition, which === 'earliest' ? ListOffsetsTimestamp.earliest : ListOffsetsTimestamp.latest).offset;
  if (query.timestamp !== undefined) {
    const timestamp = parseNonNegativeInteger('timestamp', query.timestamp);
    const found = ctx.broker.listOffsets(topic, partition, timestamp);
    return found.offset === -1 ? edge('latest') : found.offset;
  }
  const offset = query.offset ?? fallback;
  if (offset === 'earliest' || offset === 'latest') return edge(offset);
  return parseNonNegativeInteger('offset', offset);
}

export function parseNonNegativeInteger(name: string, value: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw new HttpProblem('badRequest', `${name} must be a non-negative integer, got "${value}"`);
  return n;
}

export function parseIsolation(value: string | undefined): IsolationLevelValue {
  if (value === undefined || value === 'read_committed') return IsolationLevel.readCommitted;
  if (value === 'read_uncommitted') return IsolationLevel.readUncommitted;
  throw new HttpProblem('badRequest', `isolation must be read_committed or read_uncommitted, got "${value}"`);
}

export interface FetchedRecords {
  records: KafkaRecord[];
  /** The offset to read from next. */
  nextOffset: number;
  highWatermark: number;
}

/**
 * Reads up to `limit` records of one partition from `offset`, skipping control records (and, under
 * read_committed, anything past the last stable offset). Waits up to `maxWaitMs` for the first
 * record when there is none yet.
 */
export async function fetchRecords(
  ctx: HttpContext,
  topic: string,
  partition: number,
  request: { offset: number; limit: number; isolation: IsolationLevelValue; maxWaitMs: number },
  signal?: AbortSignal,
): Promise<FetchedRecords> {
  const startMs = performance.now();
  const records: KafkaRecord[] = [];
  let offset = request.offset;
  let highWatermark = 0;
  let bytes = 0;
  let maxWaitMs = request.maxWaitMs;
  while (records.length < request.limit) {
    const [result] = await ctx.broker.fetch(
      {
        partitions: [{ topic, partition, fetchOffset: offset, partitionMaxBytes: READ_CHUNK_BYTES }],
        maxWaitMs,
        minBytes: maxWaitMs > 0 ? 1 : 0,
        maxBytes: READ_CHUNK_BYTES,
        isolationLevel: request.isolation,
      },
      signal,
    );
    if (result === undefined) throw new Error(`invariant: a fetch of ${topic}-${partition} returned no partition`);
    if (result.error !== undefined) throw result.error;
    highWatermark = result.highWatermark;
    const stableEnd = request.isolation === IsolationLevel.readCommitted ? result.lastStableOffset : result.highWatermark;
    if (result.records.byteLength === 0) break;
    bytes += result.records.byteLength;
    const before = offset;
    for (const batch of readRecordBatches(result.records)) {
      if (batch.baseOffset >= stableEnd || records.length >= request.limit) break;
      if (!batch.isControl) {
        for (const record of decodedRecords(topic, partition, batch)) {
          if (record.offset < offset || record.offset >= stableEnd) continue;
          if (records.length >= request.limit) break;
          records.push(record);
          offset = record.offset + 1;
        }
      }
      if (records.length < request.limit) offset = Math.max(offset, Math.min(batch.lastOffset + 1, stableEnd));
    }
    if (offset === before) break;
    maxWaitMs = 0;
  }
  ctx.metrics.fetchSeconds.observe({ topic }, (performance.now() - startMs) / 1000);
  ctx.metrics.fetchRecords.inc({ topic }, records.length);
  ctx.metrics.fetchBytes.inc({ topic }, bytes);
  return { records, nextOffset: offset, highWatermark };
}

/**
 * A batch's records, or a problem naming the batch and its codec: a batch the broker stored but
 * cannot decode (damaged data, or a codec value no codec reads) is the server's problem, not the
 * request's, and says which offsets are affected so a reader can skip past them.
 */
function decodedRecords(topic: string, partition: number, batch: RecordBatchView): Iterable<KafkaRecord> {
  try {
    return batch.records();
  } catch (error) {
    if (!isKafkaError(error, 'CORRUPT_MESSAGE') && !isKafkaError(error, 'UNSUPPORTED_COMPRESSION_TYPE')) throw error;
    const codec = compressionName(batch.compression) ?? `compression type ${batch.compression}`;
    const where = `${topic}-${partition} offsets ${batch.baseOffset} to ${batch.lastOffset} (a ${codec} batch)`;
    const kind = error.errorName === 'CORRUPT_MESSAGE' ? 'corruptRecords' : 'unsupportedCompression';
    throw new HttpProblem(kind, `the records at ${where} cannot be read: ${error.message}`, { kafkaError: error.errorName });
  }
}
