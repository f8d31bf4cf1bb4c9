import type { Broker } from '../../broker/broker.ts';
import { readRecordBatches, RecordBatchBuilder } from '../../sdk/record/mod.ts';
import type { Record } from '../../sdk/record/record.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Appends `values` to partition 0 of `topic` in batches of `batchSize`. */
export async function appendValues(broker: Broker, topic: string, values: readonly string[], batchSize = 10): Promise<void> {
  for (let i = 0; i < values.length; i += batchSize) {
    const builder = new RecordBatchBuilder({});
    for (const value of values.slice(i, i + batchSize)) builder.append({ key: null, value: encoder.encode(value) });
    await broker.append(topic, 0, builder.seal());
  }
}

/** Every record of one partition, read in-process from its log start to its high watermark. */
export async function readTopic(broker: Broker, topic: string, partition = 0): Promise<Record[]> {
  const records: Record[] = [];
  let offset = broker.describeTopic(topic).partitions[partition]!.logStartOffset;
  for (;;) {
    const [result] = await broker.fetch({ partitions: [{ topic, partition, fetchOffset: offset, partitionMaxBytes: 1 << 20 }], maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20 });
    if (result!.error !== undefined) throw result!.error;
    let next = offset;
    for (const batch of readRecordBatches(result!.records)) {
      next = batch.lastOffset + 1;
      if (batch.isControl) continue;
      for (const record of batch.records()) if (record.offset >= offset) records.push(record);
    }
    if (next === offset) return records;
    offset = next;
  }
}

export function text(bytes: Uint8Array | null): string | null {
  return bytes === null ? null : decoder.decode(bytes);
}

/** A record's headers as a plain object of strings (the last value per key). */
export function headerMap(record: Record): { [key: string]: string } {
  return Object.fromEntries(record.headers.map((h) => [h.key, text(h.value) ?? '']));
}
