import { KafkaError } from '../../sdk/protocol/kafka-error.ts';
import { BATCH_HEADER_BYTES, BatchOffset, writeInt64 } from '../../sdk/record/batch-header.ts';
import { crc32c } from '../../sdk/record/crc32c.ts';
import type { CompressionName } from '../../sdk/record/compression.ts';
import { RecordBatchBuilder } from '../../sdk/record/record-batch-builder.ts';
import { murmur2Partitioner } from '../../sdk/client/producer/partitioner.ts';
import type { AcksValue } from '../log/acks.ts';
import { TopicCompressionType, type TopicCompressionTypeValue } from '../topic/topic-config.ts';
import type { HttpContext } from './http-context.ts';
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

/** Where a request's records went: the partition count the keys were hashed with, and the partition of keyless records. */
export interface Placement {
  partitionCount: number;
  stickyPartition: number;
}

/** A validated request, sealed into one batch per partition, not yet appended. */
export interface PreparedProduce {
  readonly topic: string;
  readonly placement: Placement;
  readonly recordCount: number;
  readonly batches: readonly { partition: number; batch: Uint8Array; recordCount: number; indexes: readonly number[] }[];
}

/** The producer fields a keyed request's batches carry, with `[partition, baseSequence]` per batch. */
export interface BatchProducer {
  producerId: number;
  producerEpoch: number;
  sequences: readonly (readonly [number, number])[];
}

/**
 * The codec of the batches the HTTP API writes, with Kafka's meaning of the topic's
 * `compression.type`: `producer` leaves the choice to the producer, here the request
 * (`?compression=`, uncompressed when absent); any other value is the codec, whatever the request asked.
 */
export function writeCompression(topicCompression: TopicCompressionTypeValue, requested: CompressionName | undefined): CompressionName {
  if (topicCompression === TopicCompressionType.producer) return requested ?? 'none';
  return topicCompression === TopicCompressionType.uncompressed ? 'none' : topicCompression;
}

/**
 * Checks one request's records (partitions exist, values match the topic's schema, each
 * partition's batch fits `max.message.bytes`) and seals one batch per partition. Nothing is
 * appended, so a rejection here leaves the log untouched.
 *
 * Partitions: an explicit `partition`, else murmur2 of the key (Kafka's default partitioner), else
 * one partition for all keyless records of the request, rotating between requests. A retry of a
 * keyed request passes the `placement` its first attempt used, so it puts records where they went.
 */
export function prepareProduce(
  ctx: HttpContext,
  topic: string,
  records: readonly ProduceRecord[],
  placement?: Placement,
  requestedCompression?: CompressionName,
): PreparedProduce {
  const layout = ctx.broker.topicLayout(topic);
  const compression = writeCompression(layout.config.compressionType, requestedCompression);
  const currentCount = layout.partitions;
  // Partitions only grow, so an earlier count is still valid unless the topic was recreated smaller.
  const partitionCount = placement !== undefined && placement.partitionCount <= currentCount ? placement.partitionCount : currentCount;
  const maxMessageBytes = layout.config.maxMessageBytes;
  const errors: FieldError[] = [];
  const sticky = placement !== undefined && placement.stickyPartition < partitionCount ? placement.stickyPartition : stickyCounter++ % partitionCount;
  const assigned = records.map((record, i) => {
    if (record.partition !== undefined) {
      if (record.partition >= currentCount) {
        errors.push({ path: `/records/${i}/partition`, message: `topic "${topic}" has ${currentCount} partitions` });
      }
      return record.partition;
    }
    // Kafka's default partitioner, so a key lands where a Java, kafkajs or Rill client would put it.
    return murmur2Partitioner.partition({ topic, key: record.key, partitionCount }) ?? sticky;
  });
  if (!layout.config.delayedDelivery) {
    records.forEach((record, i) => {
      if (record.delayField === undefined) return;
      errors.push({ path: `/records/${i}/${record.delayField}`, message: `topic "${topic}" does not delay records; set its config rill.delayed.delivery to true` });
    });
  }
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
        entry = { builder: new RecordBatchBuilder({ maxBatchBytes, initialCapacityBytes, compression, clock: ctx.options.nowMs }), indexes: [] };
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
    const batches = [...builders].map(([partition, { builder, indexes }]) => ({ partition, batch: builder.seal(), recordCount: indexes.length, indexes }));
    return { topic, placement: { partitionCount, stickyPartition: sticky }, recordCount: records.length, batches };
  } catch (error) {
    ctx.metrics.rejected.inc({ topic, reason: 'too_large' }, records.length);
    if (error instanceof KafkaError) {
      throw new HttpProblem('payloadTooLarge', `records for one partition exceed the topic's max.message.bytes (${maxMessageBytes}): ${error.message}`);
    }
    throw error;
  }
}

/**
 * Appends a prepared request, one batch per partition in parallel. With `producer` the batches
 * become idempotent (producer id, epoch and base sequence set, CRC recomputed), so the broker
 * answers a resend of the same batches with their original offsets instead of appending them again.
 */
export async function appendPrepared(ctx: HttpContext, prepared: PreparedProduce, acks: AcksValue, producer?: BatchProducer): Promise<ProducedRecord[]> {
  const { topic } = prepared;
  const startMs = performance.now();
  const result = new Array<ProducedRecord>(prepared.recordCount);
  let bytes = 0;
  await Promise.all(
    prepared.batches.map(async ({ partition, batch, indexes }, i) => {
      if (producer !== undefined) {
        const sequence = producer.sequences[i];
        if (sequence === undefined || sequence[0] !== partition) throw new Error(`invariant broken: no sequence for batch ${i} (partition ${partition})`);
        stampProducer(batch, producer.producerId, producer.producerEpoch, sequence[1]);
      }
      bytes += batch.byteLength;
      const appended = await ctx.broker.append(topic, partition, batch, acks);
      indexes.forEach((recordIndex, j) => (result[recordIndex] = { partition, offset: appended.baseOffset + j }));
    }),
  );
  ctx.metrics.produceSeconds.observe({ topic }, (performance.now() - startMs) / 1000);
  ctx.metrics.produceRecords.inc({ topic }, prepared.recordCount);
  ctx.metrics.produceBytes.inc({ topic }, bytes);
  return result;
}

/** Appends one request's records; a rejection happens before the first append (see `prepareProduce`). */
export function produceRecords(
  ctx: HttpContext,
  topic: string,
  records: readonly ProduceRecord[],
  acks: AcksValue,
  compression?: CompressionName,
): Promise<ProducedRecord[]> {
  return appendPrepared(ctx, prepareProduce(ctx, topic, records, undefined, compression), acks);
}

/** Sets a sealed batch's producer fields; the CRC covers them (attributes to the end), so it is recomputed. */
function stampProducer(batch: Uint8Array, producerId: number, producerEpoch: number, baseSequence: number): void {
  const dv = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  writeInt64(dv, BatchOffset.producerId, producerId);
  dv.setInt16(BatchOffset.producerEpoch, producerEpoch);
  dv.setInt32(BatchOffset.baseSequence, baseSequence);
  dv.setUint32(BatchOffset.crc, crc32c(batch, BatchOffset.attributes));
}
