import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker } from '../../broker/mod.ts';
import { KafkaListener } from '../../broker/kafka/kafka-listener.ts';
import { ShareConsumer } from '../../sdk/client/share-consumer/mod.ts';
import { Consumer, type ConsumerRecord, isKafkaError, Producer, stringSerde, TcpTransport } from '../../sdk/mod.ts';

export interface DelayReport {
  sent: number;
  /** Records a plain consumer read, and those it read before their due time. */
  delivered: number;
  early: number;
  /** Records whose partition order breaks due-time-then-send order among delayed records. */
  outOfOrder: number;
  /** Delayed records a fetch right after the sends saw, and whether that fetch ran before any was due. */
  seenBeforeDue: number;
  probedBeforeDue: boolean;
  /** Records a share consumer took (each accepted). */
  shareDelivered: number;
  invalidHeader: string;
  tooFar: string;
}

const PARTITIONS = 2;
const DELAYED = 40;
const IMMEDIATE = 6;
const text = new TextDecoder();

function header(record: ConsumerRecord<string, string>, key: string): string | undefined {
  const found = record.headers.find((h) => h.key === key);
  return found?.value === null || found === undefined ? undefined : text.decode(found.value);
}

async function errorNameOf(send: Promise<unknown>): Promise<string> {
  try {
    await send;
    return 'none';
  } catch (error) {
    return isKafkaError(error) ? error.errorName : String(error);
  }
}

/**
 * Delayed delivery end to end on one runtime: an embedded broker behind a Kafka listener, the SDK's
 * idempotent producer over TCP sending records with `rill.deliver.at` and `rill.delay.ms` among
 * immediate ones, a consumer and a share consumer reading them. Returns what each saw.
 */
export async function runDelayScenario(): Promise<DelayReport> {
  const dir = mkdtempSync(join(tmpdir(), 'rill-delay-runtime-'));
  const broker = await Broker.open({
    config: { dataDir: dir },
    delayedDelivery: { maxDelayMs: 60_000 },
    shareGroups: { defaults: { autoOffsetReset: 'earliest', heartbeatIntervalMs: 200 } },
  });
  const listener = await KafkaListener.start(broker, { host: '127.0.0.1', port: 0, limits: { shutdownGraceMs: 0 } });
  const transport = new TcpTransport({ bootstrapServers: [`127.0.0.1:${listener.port}`] });
  try {
    const topic = 'delayed';
    await broker.createTopic(topic, { partitions: PARTITIONS, config: { 'rill.delayed.delivery': 'true' } });
    const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde, idempotent: true, lingerMs: 1 });
    const startMs = Date.now();
    const baseDueMs = startMs + 1500;
    const sends: Promise<unknown>[] = [];
    const dueOf = new Map<string, number>();
    for (let i = 0; i < DELAYED; i++) {
      // Due times out of send order, several records per due time, both header kinds.
      const dueMs = baseDueMs + ((i * 7) % 5) * 150;
      const headers: Record<string, string> = i % 2 === 0 ? { 'rill.deliver.at': String(dueMs) } : { 'rill.delay.ms': String(dueMs - Date.now()) };
      dueOf.set(`d-${i}`, dueMs);
      sends.push(producer.send({ topic, partition: i % PARTITIONS, key: `k${i}`, value: `d-${i}`, headers }));
    }
    for (let i = 0; i < IMMEDIATE; i++) sends.push(producer.send({ topic, partition: i % PARTITIONS, key: `i${i}`, value: `now-${i}` }));
    await Promise.all(sends);

    const probe = new Consumer(transport, { keySerde: stringSerde, valueSerde: stringSerde, maxWaitMs: 0 });
    probe.assign(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition, offset: 0 })));
    let seenBeforeDue = 0;
    const polls = probe.batches({ includeEmpty: true });
    for (let poll = 0; poll < 3; poll++) {
      const next = await polls.next();
      if (next.done === true) break;
      for (const record of next.value.records) if (record.value?.startsWith('d-')) seenBeforeDue++;
    }
    await polls.return();
    const probedBeforeDue = Date.now() < baseDueMs;
    await probe.close();

    const invalidHeader = await errorNameOf(producer.send({ topic, partition: 0, value: 'bad', headers: { 'rill.deliver.at': 'soon' } }));
    const tooFar = await errorNameOf(producer.send({ topic, partition: 0, value: 'far', headers: { 'rill.delay.ms': '3600000' } }));
    await producer.close();

    const consumer = new Consumer(transport, { keySerde: stringSerde, valueSerde: stringSerde, maxWaitMs: 100 });
    consumer.assign(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition, offset: 0 })));
    const received: { record: ConsumerRecord<string, string>; atMs: number }[] = [];
    for await (const record of consumer) {
      received.push({ record, atMs: Date.now() });
      if (received.length === DELAYED + IMMEDIATE) break;
    }
    await consumer.close();

    let early = 0;
    let outOfOrder = 0;
    const lastKey = new Map<number, [number, number]>();
    for (const { record, atMs } of received) {
      const asked = dueOf.get(record.value ?? '');
      if (asked === undefined) continue;
      // The broker's due time: the asked one for rill.deliver.at, its receive time plus the delay for rill.delay.ms.
      const due = Number(header(record, 'rill.deliver.at'));
      if (atMs < due || due < asked) early++;
      const key: [number, number] = [due, Number(record.value!.slice(2))];
      const previous = lastKey.get(record.partition);
      if (previous !== undefined && (previous[0] > key[0] || (previous[0] === key[0] && previous[1] > key[1]))) outOfOrder++;
      lastKey.set(record.partition, key);
    }

    const share = new ShareConsumer(transport, { groupId: 'delay-share', topics: [topic], valueSerde: stringSerde, maxWaitMs: 100 });
    let shareDelivered = 0;
    for await (const record of share) {
      record.accept();
      if (++shareDelivered === DELAYED + IMMEDIATE) break;
    }
    await share.close();

    return { sent: DELAYED + IMMEDIATE, delivered: received.length, early, outOfOrder, seenBeforeDue, probedBeforeDue, shareDelivered, invalidHeader, tooFar };
  } finally {
    await transport.close();
    await listener.close();
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
