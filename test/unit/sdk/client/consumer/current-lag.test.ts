import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { Broker, EmbeddedTransport } from '../../../../../broker/mod.ts';
import { Admin, Consumer, Producer, stringSerde } from '../../../../../sdk/mod.ts';

it('currentLag counts the records beyond the position, fetched or not, once a fetch answered (KIP-695)', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'rill-lag-'));
  const broker = await Broker.open({ config: { dataDir } });
  const transport = new EmbeddedTransport(broker);
  const tp = { topic: 'lagging', partition: 0 };
  try {
    await new Admin(transport).createTopics([{ name: tp.topic, numPartitions: 1 }]);
    const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde });
    await producer.sendBatch(Array.from({ length: 10 }, (_, i) => ({ topic: tp.topic, key: null, value: `v${i}` })));
    await producer.close();
    const consumer = new Consumer(transport, { keySerde: stringSerde, valueSerde: stringSerde });
    consumer.assign([{ ...tp, offset: 0 }]);
    expect(consumer.currentLag(tp)).toBeUndefined();
    let read = 0;
    for await (const _record of consumer) {
      read++;
      if (read === 4) expect(consumer.currentLag(tp)).toBe(6);
      if (read === 10) break;
    }
    expect(consumer.currentLag(tp)).toBe(0);
    await consumer.close();
  } finally {
    await broker.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
