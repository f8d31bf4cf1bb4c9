import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, stringSerde, type TcpTransport } from '../../sdk/mod.ts';
import { readRecordBatches } from '../../sdk/record/mod.ts';

/** Values that compress well, so every client really compresses them (librdkafka sends a batch uncompressed when that is smaller). */
export function interopValues(label: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${label}-${i} ${'the same words again and again '.repeat(8)}`);
}

/** The compression attribute of every batch stored in `topic`-0, read from the broker's segment files. */
export function storedCompressions(dataDir: string, topic: string): number[] {
  const dir = join(dataDir, `${topic}-0`);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .sort()
    .flatMap((f) => [...readRecordBatches(readFileSync(join(dir, f)))].map((b) => b.compression));
}

/** The first `count` bytes of the (compressed) records of the first batch in `topic`-0: how a client frames them. */
export function storedRecordsPrefix(dataDir: string, topic: string, count: number): number[] {
  const dir = join(dataDir, `${topic}-0`);
  const [first] = readdirSync(dir).filter((f) => f.endsWith('.log')).sort();
  const [batch] = [...readRecordBatches(readFileSync(join(dir, first!)))];
  return [...batch!.bytes.subarray(61, 61 + count)];
}

/** Reads `count` records of `topic`-0 from the start with the Rill SDK consumer (assigned, no group). */
export async function readWithSdk(transport: TcpTransport, topic: string, count: number): Promise<{ key: string | null; value: string | null }[]> {
  const consumer = new Consumer(transport, { keySerde: stringSerde, valueSerde: stringSerde, autoOffsetReset: 'earliest', maxWaitMs: 100 });
  consumer.assign([{ topic, partition: 0 }]);
  const seen: { key: string | null; value: string | null }[] = [];
  try {
    for await (const record of consumer) {
      seen.push({ key: record.key, value: record.value });
      if (seen.length === count) break;
    }
  } finally {
    await consumer.close();
  }
  return seen;
}

/** Reads `topic`-0 from offset 0 through the HTTP API; throws with the problem if the API refuses. */
export async function readOverHttp(httpUrl: string, topic: string, limit: number): Promise<{ key: string | null; value: unknown }[]> {
  const response = await fetch(`${httpUrl}/v1/topics/${topic}/partitions/0/records?offset=0&limit=${limit}`);
  if (response.status !== 200) throw new Error(`GET records of ${topic}: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { records: { key: string | null; value: unknown }[] }).records.map((r) => ({ key: r.key, value: r.value }));
}
