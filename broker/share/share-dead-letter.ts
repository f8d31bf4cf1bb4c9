import { readRecordBatches } from '../../sdk/record/record-batch-reader.ts';
import { RecordBatchBuilder } from '../../sdk/record/record-batch-builder.ts';
import type { RecordHeader } from '../../sdk/record/record.ts';
import type { DeadLetterTask } from './share-partition.ts';

/**
 * Headers a share group's dead-letter record carries after the source record's own: why, where
 * from, and how many times it was delivered. The names follow the stream runtime's dead-letter
 * headers (streams/runtime/failure-policy.ts), so one tool reads both.
 */
export const ShareDeadLetterHeader = {
  /** A sentence saying why. */
  error: 'rill.error',
  /** `rejected` (a consumer rejected it) or `delivery-limit` (share.delivery.count.limit reached). */
  errorKind: 'rill.error.kind',
  topic: 'rill.source.topic',
  partition: 'rill.source.partition',
  offset: 'rill.source.offset',
  deliveryCount: 'rill.delivery.count',
  group: 'rill.share.group',
} as const;

/** Bytes read per step while collecting the records to copy. */
const READ_CHUNK_BYTES = 1024 * 1024;

export interface DeadLetterSource {
  groupId: string;
  topic: string;
  partition: number;
  deliveryCountLimit: number;
  /** Reads whole batches from `offset`, as PartitionLog.read does; empty at the end. */
  read(offset: number, maxBytes: number): Uint8Array;
}

/**
 * One batch holding a copy of each task's record (key, value, timestamp and headers) with the
 * dead-letter headers added. A record the log no longer holds (retention passed it) is still
 * written, with no key or value and a sentence saying so, so a dead-lettered offset is never
 * silently dropped.
 */
export function buildDeadLetterBatch(source: DeadLetterSource, tasks: readonly DeadLetterTask[], nowMs: number): Uint8Array {
  const wanted = new Map(tasks.map((t) => [t.offset, t]));
  const found = new Map<number, { key: Uint8Array | null; value: Uint8Array | null; timestamp: number; headers: readonly RecordHeader[] }>();
  const offsets = [...wanted.keys()].sort((a, b) => a - b);
  const last = offsets[offsets.length - 1] ?? -1;
  let from = offsets[0] ?? 0;
  while (from <= last && found.size < wanted.size) {
    let bytes: Uint8Array;
    try {
      bytes = source.read(from, READ_CHUNK_BYTES);
    } catch {
      break;
    }
    let next = from;
    for (const batch of readRecordBatches(bytes)) {
      next = Math.max(next, batch.lastOffset + 1);
      if (batch.isControl || batch.lastOffset < from) continue;
      batch.forEachRecord((offset, timestamp, key, value, headers) => {
        if (wanted.has(offset)) found.set(offset, { key: key?.slice() ?? null, value: value?.slice() ?? null, timestamp, headers: headers.map((h) => ({ key: h.key, value: h.value?.slice() ?? null })) });
      });
    }
    if (next === from) break;
    from = next;
  }
  const text = new TextEncoder();
  const builder = new RecordBatchBuilder({ clock: () => nowMs });
  for (const offset of offsets) {
    const task = wanted.get(offset)!;
    const record = found.get(offset);
    const why =
      record === undefined
        ? `offset ${offset} was ${task.reason === 'rejected' ? 'rejected' : 'delivered too often'}, and the log no longer holds it`
        : task.reason === 'rejected'
          ? `a consumer of share group "${source.groupId}" rejected it`
          : `delivered ${task.deliveryCount} times, share.delivery.count.limit is ${source.deliveryCountLimit}`;
    const headers: RecordHeader[] = [
      ...(record?.headers ?? []),
      { key: ShareDeadLetterHeader.error, value: text.encode(why) },
      { key: ShareDeadLetterHeader.errorKind, value: text.encode(task.reason) },
      { key: ShareDeadLetterHeader.topic, value: text.encode(source.topic) },
      { key: ShareDeadLetterHeader.partition, value: text.encode(String(source.partition)) },
      { key: ShareDeadLetterHeader.offset, value: text.encode(String(offset)) },
      { key: ShareDeadLetterHeader.deliveryCount, value: text.encode(String(task.deliveryCount)) },
      { key: ShareDeadLetterHeader.group, value: text.encode(source.groupId) },
    ];
    builder.append({ key: record?.key ?? null, value: record?.value ?? null, timestamp: record?.timestamp ?? nowMs, headers });
  }
  return builder.seal();
}
