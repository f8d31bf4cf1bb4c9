import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Broker, type BrokerOptions } from '../../../broker/broker.ts';
import { KafkaListener } from '../../../broker/kafka/kafka-listener.ts';
import { ShareConsumer } from '../../../sdk/client/share-consumer/mod.ts';
import { TcpTransport } from '../../../sdk/mod.ts';
import { stringSerde } from '../../../sdk/serde/mod.ts';
import { appendValues } from '../../helpers/share-fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'rill-share-consumer-restart-'));
const options: BrokerOptions = { config: { dataDir: dir }, shareGroups: { defaults: { autoOffsetReset: 'earliest', maxRecordsPerFetch: 5, heartbeatIntervalMs: 200 } } };

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a ShareConsumer across a broker restart', () => {
  it('keeps iterating: it rejoins, opens a new share session and gets every record it did not accept', async () => {
    let broker = await Broker.open(options);
    let listener = await KafkaListener.start(broker, { host: '127.0.0.1', port: 0, limits: { shutdownGraceMs: 0 } });
    const port = listener.port;
    await broker.createTopic('steady', { partitions: 1 });
    const produced = Array.from({ length: 20 }, (_, i) => `s-${i}`);
    await appendValues(broker, 'steady', produced, 5);
    const transport = new TcpTransport({ bootstrapServers: [`127.0.0.1:${port}`] });
    const consumer = new ShareConsumer(transport, { groupId: 'steady', topics: ['steady'], valueSerde: stringSerde, maxWaitMs: 100 });
    const accepted: string[] = [];
    try {
      for await (const record of consumer) {
        record.accept();
        accepted.push(record.value!);
        if (accepted.length === 5) {
          // Make the five acknowledgements durable, then restart the broker under the loop.
          await consumer.commit();
          await listener.close();
          await broker.close();
          broker = await Broker.open(options);
          listener = await KafkaListener.start(broker, { host: '127.0.0.1', port, limits: { shutdownGraceMs: 0 } });
        }
        if (new Set(accepted).size === produced.length) break;
      }
      await consumer.close();
    } finally {
      await transport.close();
      await listener.close();
      await broker.close();
    }
    expect(accepted.slice(0, 5)).toEqual(produced.slice(0, 5));
    // Records fetched but not yet handed out before the restart come again; none of the first five does.
    expect(new Set(accepted)).toEqual(new Set(produced));
    expect(accepted.slice(5)).not.toEqual(expect.arrayContaining(['s-0']));
    expect(accepted.filter((v) => produced.slice(0, 5).includes(v))).toHaveLength(5);
  });
});
