import { Acks, Broker, ListOffsetsTimestamp } from '../../broker/mod.ts';
import { type CompressionName, RecordBatchBuilder, readRecordBatches } from '../../sdk/mod.ts';
import { runCodecChecks } from './codec-scenario.ts';

/**
 * The cross-runtime scenario: the same steps run under Node (in vitest), Bun and Deno, against
 * real files in `dataDir`. Each step throws with a description when the runtime misbehaves.
 */
const CODECS: readonly CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

export async function runScenario(dataDir: string): Promise<string[]> {
  const passed: string[] = [];
  const check = (condition: boolean, what: string): void => {
    if (!condition) throw new Error(`scenario failed: ${what}`);
    passed.push(what);
  };
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  runCodecChecks(check);

  const broker = await Broker.open({ config: { dataDir } });
  await broker.createTopic('events', { partitions: 3, config: { 'segment.bytes': '4096' } });
  check(broker.listTopics().join() === 'events', 'topic created and listed');

  const sent: string[][] = [[], [], []];
  for (let i = 0; i < 60; i++) {
    const partition = i % 3;
    const builder = new RecordBatchBuilder({ compression: CODECS[i % CODECS.length]! });
    for (let r = 0; r < 5; r++) {
      const value = `value-${i}-${r}-${'x'.repeat(40)}`;
      builder.append({
        key: encoder.encode(`key-${i}`),
        value: encoder.encode(value),
        headers: [{ key: 'runtime-check', value: encoder.encode(String(r)) }],
        timestamp: 1_700_000_000_000 + i,
      });
      sent[partition]!.push(value);
    }
    const result = await broker.append('events', partition, builder.seal(), Acks.all);
    check(result.baseOffset === (sent[partition]!.length - 5), `append ${i} assigned offset ${result.baseOffset}`);
  }
  check(broker.describeTopic('events').partitions.every((p) => p.highWatermark === 100), 'high watermarks at 100');

  const parked = broker.fetch({
    partitions: [{ topic: 'events', partition: 0, fetchOffset: 100, partitionMaxBytes: 1 << 20 }],
    maxWaitMs: 30_000,
    minBytes: 1,
    maxBytes: 1 << 20,
  });
  const late = new RecordBatchBuilder({});
  late.append({ key: null, value: encoder.encode('late'), headers: [], timestamp: 1_800_000_000_000 });
  await broker.append('events', 0, late.seal(), Acks.all);
  const woken = await parked;
  const wokenValues = [...readRecordBatches(woken[0]!.records)].flatMap((b) => [...b.records()]);
  check(wokenValues.length === 1 && decoder.decode(wokenValues[0]!.value!) === 'late', 'long poll woken by append');

  const readAll = async (b: Broker, partition: number): Promise<string[]> => {
    const values: string[] = [];
    let offset = 0;
    for (;;) {
      const [result] = await b.fetch({
        partitions: [{ topic: 'events', partition, fetchOffset: offset, partitionMaxBytes: 1024 }],
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: 1024,
      });
      if (result!.error !== undefined) throw result!.error;
      if (result!.records.byteLength === 0) return values;
      for (const batch of readRecordBatches(result!.records)) {
        check(batch.verifyCrc(), 'stored batch CRC verifies');
        for (const record of batch.records()) {
          if (record.offset >= offset) values.push(decoder.decode(record.value!));
        }
        offset = batch.lastOffset + 1;
      }
    }
  };
  check((await readAll(broker, 1)).join() === sent[1]!.join(), 'partition 1 reads back in order');

  check(broker.listOffsets('events', 2, ListOffsetsTimestamp.earliest).offset === 0, 'earliest offset');
  check(broker.listOffsets('events', 2, ListOffsetsTimestamp.latest).offset === 100, 'latest offset');
  const byTime = broker.listOffsets('events', 2, 1_700_000_000_000 + 32);
  check(byTime.offset === 50 && byTime.timestamp === 1_700_000_000_032, 'offset by timestamp');

  await broker.close();
  const reopened = await Broker.open({ config: { dataDir } });
  check(reopened.describeTopic('events').partitions.map((p) => p.highWatermark).join() === '101,100,100', 'reopen restores offsets');
  check((await readAll(reopened, 0)).join() === [...sent[0]!, 'late'].join(), 'reopen restores data');
  await reopened.deleteTopic('events');
  check(reopened.listTopics().length === 0, 'topic deleted');
  await reopened.close();
  return passed;
}
