import { KafkaError } from '../../sdk/protocol/kafka-error.ts';
import { BATCH_HEADER_BYTES } from '../../sdk/record/batch-header.ts';
import { RecordBatchBuilder } from '../../sdk/record/record-batch-builder.ts';
import type { AcksValue } from '../log/acks.ts';
import type { HttpContext } from './http-context.ts';
import { partitionForKey } from './murmur2-partitioner.ts';
import { HttpProblem } from './problem.ts';
import type { FieldError, ProduceRecord } from './record-codec.ts';

export interface ProducedRecord {
  partition: number;
  offset: number;
}

let stickyCounter = 0;

/** Varints of a record's length, timestamp and offset deltas, key, value and header lengths, at most. */
const RECORD_OVERHEAD_BYTES = 36;

/** An upper bound of a record's encoded size (header keys at 3 bytes per UTF-16 unit, varints at most). */
function estimatedRecordBytes(record: ProduceRecord): number {
  let bytes = RECORD_OVERHEAD_BYTES + (record.key?.byteLength ?? 0) + (record.value?.byteLength ?? 0);
  for (const header of record.headers) bytes += 10 + header.key.length * 3 + (header.value?.byteLength ?? 0);
  return bytes;
}

/**
 * Appends one request's records: checks everything first (partitions exist, values match the
 * topic's schema, each partition's batch fits `max.message.bytes`), then appends one batch per
 * partition. Any rejection happens before the first append, so a rejected request appends nothing.
 *
 * Partitions: an explicit `partition`, else murmur2 of the key (Kafka's default partitioner), else
 * one partition for all keyless records of the request, rotating between requests.
 */
export async function produceRecords(
  ctx: HttpContext,
  topic: string,
  records: readonly ProduceRecord[],
  acks: AcksValue,
): Promise<ProducedRecord[]> {
  const description = ctx.broker.describeTopic(topic);
  const partitionCount = description.partitions.length;
  const maxMessageBytes = Number(description.configs.find((c) => c.name === 'max.message.bytes')?.value);
  const errors: FieldError[] = [];
  const sticky = stickyCounter++ % partitionCount;
  const assigned = records.map((record, i) => {
    if (record.partition !== undefined) {
      if (record.partition >= partitionCount) {
        errors.push({ path: `/records/${i}/partition`, message: `topic "${topic}" has ${partitionCount} partitions` });
      }
      return record.partition;
    }
    return record.key === null ? sticky : partitionForKey(record.key, partitionCount);
  });
  if (ctx.schemas.hasSchema(topic)) {
    records.forEach((record, i) => {
      if (record.value === null) return;
      if (record.json === undefined) {
        errors.push({ path: `/records/${i}/value`, message: 'is not JSON, and the topic has a schema' });
        return;
      }
      for (const error of ctx.schemas.validate(topic, record.json.value)) {
        errors.push({ path: `/records/${i}/value${error.instancePath}`, message: error.message ?? error.keyword });
      }
    });
  }
  if (errors.length > 0) {
    ctx.metrics.rejected.inc({ topic, reason: 'validation' }, records.length);
    throw new HttpProblem('validation', `${errors.length} validation error${errors.length === 1 ? '' : 's'}; nothing was appended`, { errors });
  }

  // Sized up front so a builder neither grows nor copies on seal (its default is 16 KiB).
  const estimatedBytes = new Map<number, number>();
  records.forEach((record, i) => {
    const partition = assigned[i]!;
    estimatedBytes.set(partition, (estimatedBytes.get(partition) ?? BATCH_HEADER_BYTES) + estimatedRecordBytes(record));
  });
  const maxBatchBytes = Math.max(maxMessageBytes, 1024);
  const builders = new Map<number, { builder: RecordBatchBuilder; indexes: number[] }>();
  try {
    records.forEach((record, i) => {
      const partition = assigned[i]!;
      let entry = builders.get(partition);
      if (entry === undefined) {
        const initialCapacityBytes = Math.min(estimatedBytes.get(partition)!, maxBatchBytes);
        entry = { builder: new RecordBatchBuilder({ maxBatchBytes, initialCapacityBytes, clock: ctx.options.nowMs }), indexes: [] };
        builders.set(partition, entry);
      }
      entry.builder.append({
        key: record.key,
        value: record.value,
        headers: record.headers,
        ...(record.timestamp === undefined ? {} : { timestamp: record.timestamp }),
      });
      entry.indexes.push(i);
    });
  } catch (error) {
    ctx.metrics.rejected.inc({ topic, reason: 'too_large' }, records.length);
    if (error instanceof KafkaError) {
      throw new HttpProblem('payloadTooLarge', `records for one partition exceed the topic's max.message.bytes (${maxMessageBytes}): ${error.message}`);
    }
    throw error;
  }

  const startMs = performance.now();
  const result = new Array<ProducedRecord>(records.length);
  let bytes = 0;
  await Promise.all(
    [...builders].map(async ([partition, { builder, indexes }]) => {
      const batch = builder.seal();
      bytes += batch.byteLength;
      const appended = await ctx.broker.append(topic, partition, batch, acks);
      indexes.forEach((recordIndex, i) => (result[recordIndex] = { partition, offset: appended.baseOffset + i }));
    }),
  );
  ctx.metrics.produceSeconds.observe({ topic }, (performance.now() - startMs) / 1000);
  ctx.metrics.produceRecords.inc({ topic }, records.length);
  ctx.metrics.produceBytes.inc({ topic }, bytes);
  return result;
}
