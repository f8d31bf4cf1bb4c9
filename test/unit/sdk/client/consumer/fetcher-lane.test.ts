import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Broker } from '../../../../../broker/broker.ts';
import { KafkaListener } from '../../../../../broker/kafka/kafka-listener.ts';
import { Admin, Consumer, Producer, type SendOptions, stringSerde, TcpTransport } from '../../../../../sdk/mod.ts';
import { ApiKey, type RequestBodies, type ResponseBodies } from '../../../../../sdk/protocol/mod.ts';

/** A TcpTransport that announces the first Fetch it sends and counts the Fetch responses it got. */
class FetchWatchingTransport extends TcpTransport {
  fetchResponses = 0;
  private sentFetch!: () => void;
  readonly fetchSent = new Promise<void>((resolve) => (this.sentFetch = resolve));

  override async send<K extends ApiKey>(apiKey: K, version: number, body: RequestBodies[K], options?: SendOptions): Promise<ResponseBodies[K]> {
    const response = super.send(apiKey, version, body, options);
    if (apiKey !== ApiKey.Fetch) return response;
    this.sentFetch();
    try {
      return await response;
    } finally {
      this.fetchResponses++;
    }
  }
}

describe('Fetcher over a transport shared with a producer', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('holds its long-poll fetch on a lane of its own, so a produce on the same transport is answered while the fetch waits', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'rill-fetcher-lane-'));
    const broker = await Broker.open({ config: { dataDir } });
    const listener = await KafkaListener.start(broker, { host: '127.0.0.1', port: 0 });
    cleanup.push(async () => {
      await listener.close();
      await broker.close();
      rmSync(dataDir, { recursive: true, force: true });
    });
    const transport = new FetchWatchingTransport({ bootstrapServers: [`127.0.0.1:${listener.port}`] });
    cleanup.push(() => transport.close());
    await new Admin(transport).createTopics([{ name: 'idle' }, { name: 'busy' }]);

    // A first send gets the producer id and metadata before any fetch is held.
    const producer = new Producer(transport, { valueSerde: stringSerde });
    cleanup.push(() => producer.close());
    await producer.send({ topic: 'busy', value: 'before the fetch' });

    // The idle topic gets no data, so the broker holds this fetch for its full maxWaitMs.
    const consumer = new Consumer(transport, { valueSerde: stringSerde, maxWaitMs: 10_000 });
    cleanup.push(() => consumer.close());
    consumer.assign([{ topic: 'idle', partition: 0, offset: 0 }]);
    void consumer[Symbol.asyncIterator]().next();
    await transport.fetchSent;

    const acked = await producer.send({ topic: 'busy', value: 'not queued behind the held fetch' });
    expect(acked.offset).toBe(1);
    expect(transport.fetchResponses, 'the produce was answered only after the held fetch returned').toBe(0);
  });
});
