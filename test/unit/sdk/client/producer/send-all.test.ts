import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Broker, EmbeddedTransport } from '../../../../../broker/mod.ts';
import { Admin, Producer, stringSerde } from '../../../../../sdk/mod.ts';

const open: { broker: Broker; transport: EmbeddedTransport; dir: string }[] = [];
afterEach(async () => {
  for (const { broker, transport, dir } of open.splice(0)) {
    await transport.close();
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

async function embedded(): Promise<EmbeddedTransport> {
  const dir = mkdtempSync(join(tmpdir(), 'rill-send-all-'));
  const broker = await Broker.open({ config: { dataDir: dir } });
  const transport = new EmbeddedTransport(broker);
  open.push({ broker, transport, dir });
  return transport;
}

describe('Producer.sendAll and a backlog beyond buffer memory', () => {
  it('resolves with the offset after the last record per partition, across many batches and a full buffer', async () => {
    const transport = await embedded();
    await new Admin(transport).createTopics([{ name: 'a', numPartitions: 3 }, { name: 'b', numPartitions: 1 }]);
    // A 64 KiB buffer holds a few hundred of these records: most of each call waits for room.
    const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde, bufferMemoryBytes: 64 * 1024, batchSizeBytes: 16 * 1024 });
    const value = 'v'.repeat(200);
    const calls = [0, 1, 2, 3].map((c) =>
      producer.sendAll(Array.from({ length: 1000 }, (_, i) => ({ topic: i % 4 === 0 ? 'b' : 'a', partition: i % 4 === 0 ? 0 : i % 3, key: `k${c}-${i}`, value }))),
    );
    const ends = await Promise.all(calls);
    const last = ends[3]!;
    expect([...last.keys()].sort()).toEqual(['a', 'b']);
    const admin = new Admin(transport);
    const offsets = new Map((await admin.topicOffsets('a')).map((o) => [o.partition, o.latest]));
    for (const [partition, end] of last.get('a')!) expect(end).toBe(offsets.get(partition));
    expect(last.get('b')!.get(0)).toBe(4000 / 4);
    // Call order holds across the backlog: each call's ends are above the previous call's.
    for (let c = 1; c < 4; c++) expect(ends[c]!.get('b')!.get(0)!).toBeGreaterThan(ends[c - 1]!.get('b')!.get(0)!);
    await producer.close();
  });

  it('rejects with the first failure and still delivers the calls behind it', async () => {
    const transport = await embedded();
    await new Admin(transport).createTopics([{ name: 'a', numPartitions: 1 }]);
    const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde });
    const failing = producer.sendAll([{ topic: 'a', partition: 5, key: 'x', value: 'y' }]);
    const fine = producer.sendAll([{ topic: 'a', key: 'x', value: 'y' }]);
    await expect(failing).rejects.toMatchObject({ errorName: 'UNKNOWN_TOPIC_OR_PARTITION' });
    expect((await fine).get('a')!.get(0)).toBe(1);
    await producer.close();
  });
});
