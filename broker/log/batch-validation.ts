import type { ErrorName } from '../../sdk/protocol/error-codes.ts';
import { KafkaError } from '../../sdk/protocol/kafka-error.ts';
import { BATCH_HEADER_BYTES, BATCH_LOG_OVERHEAD_BYTES, BatchAttribute, BatchOffset, CompressionType, CURRENT_MAGIC } from '../../sdk/record/batch-header.ts';
import { crc32c } from '../../sdk/record/crc32c.ts';

/** The smallest legal batchLength: a header with no records. */
export const MIN_BATCH_LENGTH = BATCH_HEADER_BYTES - BATCH_LOG_OVERHEAD_BYTES;

export interface BatchDefect {
  errorName: ErrorName;
  reason: string;
}

/** Total bytes of the batch at `pos` (batchLength plus the 12-byte log overhead). */
export function batchSizeAt(dv: DataView, pos: number): number {
  return dv.getInt32(pos + BatchOffset.batchLength) + BATCH_LOG_OVERHEAD_BYTES;
}

/** What is wrong with the length field of the batch at `pos` given `end`, if anything. */
export function lengthDefect(dv: DataView, pos: number, end: number): BatchDefect | undefined {
  if (end - pos < BATCH_HEADER_BYTES) {
    return { errorName: 'CORRUPT_MESSAGE', reason: `${end - pos} bytes left, fewer than a ${BATCH_HEADER_BYTES}-byte batch header` };
  }
  const batchLength = dv.getInt32(pos + BatchOffset.batchLength);
  if (batchLength < MIN_BATCH_LENGTH) {
    return { errorName: 'CORRUPT_MESSAGE', reason: `batchLength ${batchLength} is below the minimum ${MIN_BATCH_LENGTH}` };
  }
  if (batchLength + BATCH_LOG_OVERHEAD_BYTES > end - pos) {
    return { errorName: 'CORRUPT_MESSAGE', reason: `batchLength ${batchLength} runs past the end (${end - pos} bytes left)` };
  }
  return undefined;
}

/**
 * How `contentDefect` judges a batch. A batch as a producer sends it holds lastOffsetDelta + 1
 * records. A batch the cleaner rewrote (`cleaned`) keeps its lastOffsetDelta but may hold fewer
 * records, none at all for a header kept only for its producer's sequence numbers. `headersOnly`
 * also admits a header with no record in a segment the cleaner never touched: delayed delivery's
 * placeholders (broker/delay/). `checkCrc` false skips the CRC-32C (recovery, below a clean
 * shutdown's recovery point).
 */
export interface ContentRules {
  cleaned?: boolean;
  headersOnly?: boolean;
  checkCrc?: boolean;
}

/**
 * Everything checkable about the batch at `pos` without decoding records: length bounds, magic,
 * CRC-32C and the record count, under `rules`. The caller checked the length with `lengthDefect`
 * first.
 */
export function contentDefect(bytes: Uint8Array, dv: DataView, pos: number, rules: ContentRules = {}): BatchDefect | undefined {
  const magic = dv.getInt8(pos + BatchOffset.magic);
  if (magic !== CURRENT_MAGIC) {
    return magic === 0 || magic === 1
      ? { errorName: 'UNSUPPORTED_FOR_MESSAGE_FORMAT', reason: `message format v${magic} is not supported, only v2` }
      : { errorName: 'CORRUPT_MESSAGE', reason: `invalid magic ${magic}` };
  }
  if (rules.checkCrc !== false) {
    const storedCrc = dv.getUint32(pos + BatchOffset.crc);
    const actualCrc = crc32c(bytes, pos + BatchOffset.attributes, pos + batchSizeAt(dv, pos));
    if (storedCrc !== actualCrc) {
      return { errorName: 'CORRUPT_MESSAGE', reason: `CRC-32C mismatch: stored ${storedCrc}, computed ${actualCrc}` };
    }
  }
  const recordsCount = dv.getInt32(pos + BatchOffset.recordsCount);
  const lastOffsetDelta = dv.getInt32(pos + BatchOffset.lastOffsetDelta);
  if (rules.cleaned === true) {
    if (lastOffsetDelta < 0 || recordsCount < 0 || recordsCount > lastOffsetDelta + 1) {
      return { errorName: 'INVALID_RECORD', reason: `recordsCount ${recordsCount} does not fit lastOffsetDelta ${lastOffsetDelta}` };
    }
    return undefined;
  }
  if (rules.headersOnly === true && recordsCount === 0 && lastOffsetDelta >= 0) return undefined;
  if (recordsCount < 1) return { errorName: 'INVALID_RECORD', reason: `recordsCount ${recordsCount} is below 1` };
  if (lastOffsetDelta !== recordsCount - 1) {
    return { errorName: 'INVALID_RECORD', reason: `lastOffsetDelta ${lastOffsetDelta} does not match recordsCount ${recordsCount}` };
  }
  return undefined;
}

/** The rules of `contentDefect` an append may relax: records-less placeholders, a CRC computed in this process. */
export type ProduceRules = Pick<ContentRules, 'headersOnly' | 'checkCrc'>;

/**
 * Validates produce input: one or more whole batches back to back, nothing trailing. Throws the
 * KafkaError of the first invalid batch; returns the number of batches. `rules.headersOnly`
 * accepts batches with no record (the placeholders delayed delivery writes, see broker/delay/);
 * `rules.checkCrc` false trusts the CRC of batches the broker sealed itself (`Broker.appendBuilt`).
 */
export function validateBatches(bytes: Uint8Array, maxMessageBytes: number, topicPartition: string, rules: ProduceRules = {}): number {
  if (bytes.length === 0) throw new KafkaError('INVALID_RECORD', `produce to ${topicPartition} holds no batches`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let count = 0;
  for (let pos = 0; pos < bytes.length; count++) {
    const defect = lengthDefect(dv, pos, bytes.length) ?? tooLarge(dv, pos, maxMessageBytes) ?? contentDefect(bytes, dv, pos, rules) ?? unknownCompression(dv, pos);
    if (defect) throw new KafkaError(defect.errorName, `batch ${count} at byte ${pos} for ${topicPartition}: ${defect.reason}`);
    pos += batchSizeAt(dv, pos);
  }
  return count;
}

/**
 * Attribute values 5-7 name no codec, so no reader could ever decode such a batch; it is refused
 * at the door (reading the attribute bits, not the records). Only on produce: recovery keeps
 * judging stored batches by `contentDefect` alone.
 */
function unknownCompression(dv: DataView, pos: number): BatchDefect | undefined {
  const compression = dv.getInt16(pos + BatchOffset.attributes) & BatchAttribute.compressionMask;
  return compression > CompressionType.zstd
    ? { errorName: 'UNSUPPORTED_COMPRESSION_TYPE', reason: `compression type ${compression} is not a Kafka codec` }
    : undefined;
}

function tooLarge(dv: DataView, pos: number, maxMessageBytes: number): BatchDefect | undefined {
  const size = batchSizeAt(dv, pos);
  return size > maxMessageBytes
    ? { errorName: 'MESSAGE_TOO_LARGE', reason: `batch of ${size} bytes exceeds max.message.bytes ${maxMessageBytes}` }
    : undefined;
}
