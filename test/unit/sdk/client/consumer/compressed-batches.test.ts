import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Broker, EmbeddedTransport } from '../../../../../broker/mod.ts';
import {
  Admin,
  BATCH_HEADER_BYTES,
  BatchOffset,
  type CompressionName,
  CompressionError,
  Consumer,
  crc32c,
  Producer,
  RecordBatchBuilder,
  stringSerde,
} from '../../../../../sdk/mod.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function openBroker(): Promise<{ broker: Broker; transport: EmbeddedTransport }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'rill-compressed-'));
  const broker = await Broker.open({ config: { dataDir } });
  const transport = new EmbeddedTransport(broker);
  cleanups.push(async () => {
    await transport.close();
    await broker.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return { broker, transport };
}

/** A codec's batch of two records whose compressed bytes are garbage, under a valid CRC, as a broken client could send it. */
function garbageBatch(compression: CompressionName): Uint8Array {
  const builder = new RecordBatchBuilder({ compression });
  builder.append({ value: new TextEncoder().encode('x'.repeat(200)), timestamp: 1 });
  builder.append({ value: new TextEncoder().encode('y'), timestamp: 1 });
  const batch = builder.seal();
  batch.fill(0x55, BATCH_HEADER_BYTES + 20);
  new DataView(batch.buffer, batch.byteOffset).setUint32(BatchOffset.crc, crc32c(batch, BatchOffset.attributes, batch.length));
  return batch;
}

describe('the consumer with compressed batches', () => {
  it('reads what the producer writes with every codec', async () => {
    const { transport } = await openBroker();
    const codecs: CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
    await new Admin(transport).createTopics(codecs.map((c) => ({ name: `t-${c}`, numPartitions: 1 })));
    for (const compression of codecs) {
      const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde, compression, lingerMs: 5 });
      await Promise.all(Array.from({ length: 500 }, (_, i) => producer.send({ topic: `t-${compression}`, key: `k${i}`, value: `${compression}-${i} `.repeat(10) })));
      await producer.close();
      const consumer = new Consumer(transport, { keySerde: stringSerde, valueSerde: stringSerde, autoOffsetReset: 'earliest', maxWaitMs: 50 });
      consumer.assign([{ topic: `t-${compression}`, partition: 0 }]);
      const values: string[] = [];
      for await (const record of consumer) {
        values.push(record.value!);
        if (values.length === 500) break;
      }
      await consumer.close();
      expect(values).toEqual(Array.from({ length: 500 }, (_, i) => `${compression}-${i} `.repeat(10)));
    }
  });

  for (const compression of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
    it(`throws a CompressionError naming ${compression} for a batch it cannot decode, instead of refetching it forever`, async () => {
      const { broker, transport } = await openBroker();
      await new Admin(transport).createTopics([{ name: 'bad', numPartitions: 1 }]);
      const good = new RecordBatchBuilder({ compression });
      good.append({ value: new TextEncoder().encode('fine'), timestamp: 1 });
      await broker.append('bad', 0, good.seal());
      await broker.append('bad', 0, garbageBatch(compression));
      const consumer = new Consumer(transport, { valueSerde: stringSerde, autoOffsetReset: 'earliest', maxWaitMs: 50 });
      consumer.assign([{ topic: 'bad', partition: 0 }]);
      const values: (string | null)[] = [];
      const error = await (async () => {
        try {
          for await (const record of consumer) values.push(record.value);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      await consumer.close();
      // The chunk holding the bad batch is not handed out, so the good record before it may not be either.
      expect(['', 'fine']).toContain(values.join());
      expect(error).toBeInstanceOf(CompressionError);
      expect((error as CompressionError).compression).toBe(compression);
      expect((error as CompressionError).errorName).toBe('CORRUPT_MESSAGE');
      expect((error as Error).message).toContain(`${compression} records cannot be decompressed`);
    });
  }
});
