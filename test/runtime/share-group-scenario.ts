import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker, EmbeddedTransport } from '../../broker/mod.ts';
import { KafkaListener } from '../../broker/kafka/kafka-listener.ts';
import { ShareConsumer, type ShareRecord } from '../../sdk/client/share-consumer/mod.ts';
import { TcpTransport } from '../../sdk/mod.ts';
import { stringSerde } from '../../sdk/serde/mod.ts';
import { appendValues, readTopic } from '../helpers/share-fixtures.ts';
import { CLOSE_WITHOUT_GRACE_MS } from './close-without-grace.ts';

export interface ShareGroupReport {
  /** Records each consumer accepted or rejected. */
  embedded: number;
  tcp: number;
  /** Distinct values handed out, over both consumers. */
  distinct: number;
  handedOut: number;
  deadLetters: number;
}

const COUNT = 60;

/**
 * Two share consumers of one group and one partition, one over the embedded transport read with
 * `for await` and one over TCP read with `poll()`, take every record between them; each rejects
 * one, which lands in the dead-letter topic.
 */
export async function runShareGroupScenario(): Promise<ShareGroupReport> {
  const dir = mkdtempSync(join(tmpdir(), 'rill-share-runtime-'));
  const broker = await Broker.open({ config: { dataDir: dir }, shareGroups: { defaults: { autoOffsetReset: 'earliest', maxRecordsPerFetch: 5, heartbeatIntervalMs: 200 } } });
  const listener = await KafkaListener.start(broker, { host: '127.0.0.1', port: 0, limits: { shutdownGraceMs: CLOSE_WITHOUT_GRACE_MS } });
  const embeddedTransport = new EmbeddedTransport(broker);
  const tcpTransport = new TcpTransport({ bootstrapServers: [`127.0.0.1:${listener.port}`] });
  try {
    await broker.createTopic('runtime-jobs', { partitions: 1 });
    await appendValues(broker, 'runtime-jobs', Array.from({ length: COUNT }, (_, i) => `v-${i}`), 5);
    const consumers = [embeddedTransport, tcpTransport].map((t) => new ShareConsumer(t, { groupId: 'runtime', topics: ['runtime-jobs'], valueSerde: stringSerde, maxWaitMs: 100 }));
    const values: string[][] = [[], []];
    let total = 0;
    let done!: () => void;
    const allIn = new Promise<void>((resolve) => (done = resolve));
    const handle = async (record: ShareRecord<Uint8Array, string>, i: number): Promise<void> => {
      values[i]!.push(record.value!);
      if (values[i]!.length === 1) record.reject();
      else record.accept();
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (++total === COUNT) done();
    };
    const runs = consumers.map(async (c, i) => {
      if (i === 0) {
        for await (const record of c) await handle(record, i);
        return;
      }
      for (let records = await c.poll(); records.length > 0; records = await c.poll()) for (const record of records) await handle(record, i);
    });
    await allIn;
    await Promise.all(consumers.map((c) => c.close()));
    await Promise.all(runs);
    const all = values.flat();
    return { embedded: values[0]!.length, tcp: values[1]!.length, distinct: new Set(all).size, handedOut: all.length, deadLetters: (await readTopic(broker, 'runtime-dlq')).length };
  } finally {
    await tcpTransport.close();
    await embeddedTransport.close();
    await listener.close();
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
