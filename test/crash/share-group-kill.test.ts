import { afterEach, describe, expect, it } from 'vitest';
import { Admin, Producer, stringSerde, TcpTransport } from '../../sdk/mod.ts';
import { ShareConsumer } from '../../sdk/client/share-consumer/mod.ts';
import { type BrokerProcess, startBrokerProcess } from '../helpers/broker-process.ts';
import { probeShareFetch } from '../helpers/share-probe.ts';

const TOPIC = 'share-kill';
const GROUP = 'share-kill-group';
const COUNT = 100;
const ACCEPTED = 30;

/**
 * A share group's state survives a SIGKILL of the broker process: the records a consumer accepted
 * (and was told so) are never delivered again, the ones it held unacknowledged are delivered again
 * with their delivery count kept, and none is lost.
 */
describe('a share group across a broker SIGKILL', () => {
  const brokers: BrokerProcess[] = [];
  const transports: TcpTransport[] = [];
  afterEach(async () => {
    for (const t of transports.splice(0)) await t.close();
    for (const b of brokers.splice(0).reverse()) await b.dispose();
  });

  it('redelivers every unacknowledged record and no acknowledged one', async () => {
    const first = await startBrokerProcess();
    brokers.push(first);
    const transport = new TcpTransport({ bootstrapServers: [first.bootstrap] });
    transports.push(transport);
    const admin = new Admin(transport);
    await admin.createTopics([{ name: TOPIC, numPartitions: 1 }]);
    const topicId = (await admin.describeTopics([TOPIC]))[0]!.topicId;
    expect(await probeShareFetch(transport, GROUP, TOPIC, topicId)).toEqual([]);
    const producer = new Producer(transport, { valueSerde: stringSerde });
    await producer.sendBatch(Array.from({ length: COUNT }, (_, i) => ({ topic: TOPIC, partition: 0, value: `r-${i}` })));
    await producer.close();

    const a = new ShareConsumer(transport, { groupId: GROUP, topics: [TOPIC], valueSerde: stringSerde, acknowledgementMode: 'explicit', maxWaitMs: 100 });
    let heldByA = 0;
    for await (const record of a) {
      if (record.offset < ACCEPTED) record.accept();
      if (++heldByA === COUNT) break;
    }
    // The broker has answered these acknowledgements: they must survive the crash.
    await a.commit();
    await first.stop('SIGKILL');
    // A's member and session died with the process; its close fails against the new one.
    await a.close().catch(() => undefined);

    const second = await startBrokerProcess({ dataDir: first.dataDir, port: first.port, httpPort: first.httpPort });
    brokers.push(second);
    const again = new TcpTransport({ bootstrapServers: [second.bootstrap] });
    transports.push(again);
    const b = new ShareConsumer(again, { groupId: GROUP, topics: [TOPIC], valueSerde: stringSerde, maxWaitMs: 100 });
    const redelivered: { value: string; deliveryCount: number }[] = [];
    for await (const record of b) {
      redelivered.push({ value: record.value!, deliveryCount: record.deliveryCount });
      if (redelivered.length === COUNT - ACCEPTED) break;
    }
    await b.close();
    expect(redelivered.map((r) => r.value).sort()).toEqual(Array.from({ length: COUNT - ACCEPTED }, (_, i) => `r-${i + ACCEPTED}`).sort());
    expect(new Set(redelivered.map((r) => r.deliveryCount))).toEqual(new Set([2]));

    // Everything is acknowledged now: nothing is left to acquire.
    expect(await probeShareFetch(again, GROUP, TOPIC, topicId)).toEqual([]);
  });
});
