import { KafkaError } from '../../sdk/protocol/kafka-error.ts';
import { BatchAttribute, BatchOffset, writeInt64 } from '../../sdk/record/batch-header.ts';
import { crc32c } from '../../sdk/record/crc32c.ts';
import { RecordBatchView } from '../../sdk/record/record-batch-reader.ts';
import { batchSizeAt } from './batch-validation.ts';

/** `message.timestamp.type`: whose clock a record's timestamp is. */
export const MessageTimestampType = { createTime: 'CreateTime', logAppendTime: 'LogAppendTime' } as const;
export type MessageTimestampTypeValue = (typeof MessageTimestampType)[keyof typeof MessageTimestampType];

/** How far a CreateTime record's timestamp may lie from the broker's clock (Kafka's Long.MAX_VALUE, held as MAX_SAFE_INTEGER, means unbounded). */
export interface TimestampBounds {
  /** `message.timestamp.before.max.ms`: the furthest a timestamp may lie in the past. */
  beforeMaxMs: number;
  /** `message.timestamp.after.max.ms`: the furthest a timestamp may lie in the future. */
  afterMaxMs: number;
}

function isBounded(bounds: TimestampBounds): boolean {
  return bounds.beforeMaxMs < Number.MAX_SAFE_INTEGER || bounds.afterMaxMs < Number.MAX_SAFE_INTEGER;
}

/**
 * Refuses produced batches holding a record whose CreateTime timestamp lies further from `nowMs`
 * than the bounds allow (Kafka's INVALID_TIMESTAMP, KIP-937): the whole append is refused, nothing
 * is written. Every record is checked, compressed batches decompressed for it (as Kafka's
 * LogValidator does), so a batch cannot hide an out-of-range record behind its header's
 * timestamps; unbounded topics (the default) pay nothing. Control batches carry the coordinator's
 * clock and are not checked.
 */
export function assertTimestampsInBounds(batches: Uint8Array, bounds: TimestampBounds, nowMs: number, topicPartition: string): void {
  if (!isBounded(bounds)) return;
  const earliest = nowMs - bounds.beforeMaxMs;
  const latest = nowMs + bounds.afterMaxMs;
  const dv = new DataView(batches.buffer, batches.byteOffset, batches.byteLength);
  for (let pos = 0, batch = 0; pos < batches.length; batch++) {
    const size = batchSizeAt(dv, pos);
    if ((dv.getInt16(pos + BatchOffset.attributes) & BatchAttribute.control) === 0) {
      let index = 0;
      new RecordBatchView(batches.subarray(pos, pos + size)).forEachRecord((_offset, timestamp) => {
        if (timestamp < earliest || timestamp > latest) {
          throw new KafkaError(
            'INVALID_TIMESTAMP',
            `timestamp ${timestamp} of record ${index} in batch ${batch} for ${topicPartition} is out of range: the topic accepts [${earliest}, ${latest}] ` +
              `(broker time ${nowMs} ms, message.timestamp.before.max.ms ${bounds.beforeMaxMs}, message.timestamp.after.max.ms ${bounds.afterMaxMs})`,
          );
        }
        index++;
      });
    }
    pos += size;
  }
}

/**
 * LogAppendTime: the broker's clock replaces the producer's. Each data batch gets the timestampType
 * attribute bit set and `maxTimestamp` = `nowMs`, and its CRC-32C (which covers both) recomputed;
 * readers then take every record's timestamp from `maxTimestamp` (the records' own deltas stay as
 * sent, as Kafka leaves them). Control batches keep the coordinator's CreateTime.
 */
export function stampLogAppendTime(batches: Uint8Array, nowMs: number): void {
  const dv = new DataView(batches.buffer, batches.byteOffset, batches.byteLength);
  for (let pos = 0; pos < batches.length; ) {
    const size = batchSizeAt(dv, pos);
    const attributes = dv.getInt16(pos + BatchOffset.attributes);
    if ((attributes & BatchAttribute.control) === 0) {
      dv.setInt16(pos + BatchOffset.attributes, attributes | BatchAttribute.timestampTypeLogAppendTime);
      writeInt64(dv, pos + BatchOffset.maxTimestamp, nowMs);
      dv.setUint32(pos + BatchOffset.crc, crc32c(batches, pos + BatchOffset.attributes, pos + size));
    }
    pos += size;
  }
}
