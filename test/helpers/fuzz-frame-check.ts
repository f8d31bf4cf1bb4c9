import { ApiKey, decodeRequest, type DecodedRequest } from '../../sdk/protocol/mod.ts';
import { BATCH_HEADER_BYTES, BATCH_LOG_OVERHEAD_BYTES, BatchOffset, crc32c } from '../../sdk/record/mod.ts';

/** What the broker will make of a mutated frame, judged with the same decoder it uses. */
export type FrameVerdict =
  /** Decodes and may change durable state the fuzz test asserts on: it must not be sent. */
  | 'unsafe'
  /** Decodes to a request that may wait (long-poll fetch): send it, then close, and await the close. */
  | 'parks'
  /** Anything else: send it with a sentinel behind it. */
  | 'send';

/** How long a fetch may park before its frame goes the close path instead of waiting for its sentinel. */
const MAX_SENTINEL_WAIT_MS = 50;

/**
 * Whether `records` could be appended. The broker appends a partition's records only when every
 * batch is valid, the first included, so a first batch with its length in bounds and a matching
 * CRC-32C counts as appendable whatever else is wrong (magic, record count): stricter than the
 * broker in the safe direction.
 */
function mayAppend(records: Uint8Array | null): boolean {
  if (records === null || records.length < BATCH_HEADER_BYTES) return false;
  const dv = new DataView(records.buffer, records.byteOffset, records.byteLength);
  const end = dv.getInt32(BatchOffset.batchLength) + BATCH_LOG_OVERHEAD_BYTES;
  if (end < BATCH_HEADER_BYTES || end > records.length) return false;
  return dv.getUint32(BatchOffset.crc) === crc32c(records, BatchOffset.attributes, end);
}

function namesAny(names: readonly (string | null)[], protectedTopics: ReadonlySet<string>): boolean {
  return names.some((name) => name !== null && protectedTopics.has(name));
}

export function judgeFrame(frame: Uint8Array, protectedTopics: ReadonlySet<string>): FrameVerdict {
  let request: DecodedRequest;
  try {
    request = decodeRequest(frame);
  } catch {
    return 'send';
  }
  switch (request.apiKey) {
    case ApiKey.Produce:
      return request.body.topicData.some((t) => t.partitionData.some((p) => mayAppend(p.records))) ? 'unsafe' : 'send';
    case ApiKey.DeleteTopics:
      return namesAny([...request.body.topicNames, ...request.body.topics.map((t) => t.name)], protectedTopics) ||
        request.body.topics.some((t) => t.name === null)
        ? 'unsafe'
        : 'send';
    case ApiKey.CreatePartitions:
      return namesAny(request.body.topics.map((t) => t.name), protectedTopics) ? 'unsafe' : 'send';
    case ApiKey.Fetch:
      return request.body.maxWaitMs > MAX_SENTINEL_WAIT_MS ? 'parks' : 'send';
    default:
      return 'send';
  }
}
