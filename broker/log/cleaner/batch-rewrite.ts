import { BATCH_HEADER_BYTES, BATCH_LOG_OVERHEAD_BYTES, BatchAttribute, BatchOffset, CompressionType, readInt64, writeInt64 } from '../../../sdk/record/batch-header.ts';
import { compress, decompress } from '../../../sdk/record/compression.ts';
import { ControlRecordType } from '../../../sdk/record/control-record.ts';
import { crc32c } from '../../../sdk/record/crc32c.ts';
import { sizeOfVarint, sizeOfVarlong, writeVarint, writeVarlong } from '../../../sdk/record/varint.ts';
import { KafkaError } from '../../../sdk/protocol/kafka-error.ts';
import type { RecordSpans } from './record-spans.ts';

/**
 * Rewriting one stored batch the way Kafka's cleaner does for magic v2 (DefaultRecordBatch's
 * javadoc on compaction): the batch keeps its baseOffset, lastOffsetDelta, producer id and epoch,
 * base sequence and partition leader epoch, and each kept record its offsetDelta, so offsets and
 * the producer's last sequence survive; a compressed batch is recompressed with its own codec.
 */

/** The records of `batch`, decompressed when it is compressed. */
export function recordBytesOf(batch: Uint8Array, dv: DataView): Uint8Array {
  const codec = dv.getInt16(BatchOffset.attributes) & BatchAttribute.compressionMask;
  const records = batch.subarray(BATCH_HEADER_BYTES);
  return codec === CompressionType.none ? records : decompress(codec, records);
}

/**
 * The batch's delete horizon (KIP-534) when it has one: the time from which the cleaner may drop
 * its tombstones, or its transaction marker. It is stored as the baseTimestamp, flagged by
 * attribute bit 6, and the records' timestamp deltas are relative to it.
 */
export function deleteHorizonOf(dv: DataView): number | undefined {
  return (dv.getInt16(BatchOffset.attributes) & BatchAttribute.deleteHorizon) !== 0 ? readInt64(dv, BatchOffset.baseTimestamp) : undefined;
}

/** The type of the marker in a control batch, or undefined for one without a record. */
export function controlTypeOf(data: Uint8Array, spans: RecordSpans): 'ABORT' | 'COMMIT' | undefined {
  if (spans.count === 0) return undefined;
  const at = spans.keyStart[0]!;
  if (at < 0 || spans.keyLength[0]! < 4) throw new KafkaError('CORRUPT_MESSAGE', 'a control record has no 4-byte key');
  const type = (data[at + 2]! << 8) | data[at + 3]!;
  if (type === ControlRecordType.ABORT) return 'ABORT';
  if (type === ControlRecordType.COMMIT) return 'COMMIT';
  throw new KafkaError('CORRUPT_MESSAGE', `unknown control record type ${type}`);
}

function seal(out: Uint8Array): Uint8Array {
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  dv.setInt32(BatchOffset.batchLength, out.length - BATCH_LOG_OVERHEAD_BYTES);
  dv.setUint32(BatchOffset.crc, crc32c(out, BatchOffset.attributes, out.length));
  return out;
}

/**
 * `batch` with only the records flagged in `keep` (at least one). With `newHorizonMs` the batch
 * gets that delete horizon: the baseTimestamp becomes it and every kept record's timestampDelta
 * is re-encoded against it, so record timestamps do not change. maxTimestamp becomes the largest
 * kept record's timestamp (CreateTime) or stays (LogAppendTime, where it is every record's).
 */
export function rebuildBatch(batch: Uint8Array, data: Uint8Array, spans: RecordSpans, keep: Uint8Array, newHorizonMs: number | undefined): Uint8Array {
  const dv = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  const attributes = dv.getInt16(BatchOffset.attributes);
  const codec = attributes & BatchAttribute.compressionMask;
  const logAppendTime = (attributes & BatchAttribute.timestampTypeLogAppendTime) !== 0;
  const oldBase = readInt64(dv, BatchOffset.baseTimestamp);
  let size = 0;
  let kept = 0;
  let maxTimestamp = logAppendTime ? readInt64(dv, BatchOffset.maxTimestamp) : -1;
  for (let i = 0; i < spans.count; i++) {
    if (keep[i] === 0) continue;
    kept++;
    const timestamp = oldBase + spans.timestampDelta[i]!;
    if (!logAppendTime && timestamp > maxTimestamp) maxTimestamp = timestamp;
    if (newHorizonMs === undefined) {
      size += spans.end[i]! - spans.start[i]!;
    } else {
      const body = 1 + sizeOfVarlong(timestamp - newHorizonMs) + spans.end[i]! - spans.restStart[i]!;
      size += sizeOfVarint(body) + body;
    }
  }
  if (kept === 0) throw new Error('invariant broken: rebuildBatch keeps no record');
  const records = new Uint8Array(size);
  let at = 0;
  for (let i = 0; i < spans.count; i++) {
    if (keep[i] === 0) continue;
    if (newHorizonMs === undefined) {
      records.set(data.subarray(spans.start[i]!, spans.end[i]!), at);
      at += spans.end[i]! - spans.start[i]!;
      continue;
    }
    const delta = oldBase + spans.timestampDelta[i]! - newHorizonMs;
    const rest = data.subarray(spans.restStart[i]!, spans.end[i]!);
    at = writeVarint(records, at, 1 + sizeOfVarlong(delta) + rest.length);
    records[at++] = data[spans.bodyStart[i]!]!;
    at = writeVarlong(records, at, delta);
    records.set(rest, at);
    at += rest.length;
  }
  const payload = codec === CompressionType.none ? records : compress(codec, records);
  const out = new Uint8Array(BATCH_HEADER_BYTES + payload.length);
  out.set(batch.subarray(0, BATCH_HEADER_BYTES));
  out.set(payload, BATCH_HEADER_BYTES);
  const odv = new DataView(out.buffer);
  if (newHorizonMs !== undefined) {
    odv.setInt16(BatchOffset.attributes, attributes | BatchAttribute.deleteHorizon);
    writeInt64(odv, BatchOffset.baseTimestamp, newHorizonMs);
  }
  writeInt64(odv, BatchOffset.maxTimestamp, maxTimestamp);
  odv.setInt32(BatchOffset.recordsCount, kept);
  return seal(out);
}

/**
 * The header of `batch` with no record (Kafka's `writeEmptyHeader`), kept for its producer id,
 * epoch and sequence numbers: uncompressed, baseTimestamp -1, maxTimestamp as it was.
 */
export function emptyBatchHeader(batch: Uint8Array): Uint8Array {
  const out = batch.slice(0, BATCH_HEADER_BYTES);
  const dv = new DataView(out.buffer);
  const attributes = dv.getInt16(BatchOffset.attributes);
  dv.setInt16(BatchOffset.attributes, attributes & ~(BatchAttribute.compressionMask | BatchAttribute.deleteHorizon));
  writeInt64(dv, BatchOffset.baseTimestamp, -1);
  dv.setInt32(BatchOffset.recordsCount, 0);
  return seal(out);
}
