import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Consumer as KafkajsConsumer, Kafka, logLevel } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { Broker } from '../../broker/broker.ts';
import { KafkaListener } from '../../broker/kafka/kafka-listener.ts';
import { Consumer, Producer, stringSerde, TcpTransport } from '../../sdk/mod.ts';

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/** Resolves waiters whenever a predicate over what the groups saw becomes true (no timers). */
class Seen {
  private waiters: { predicate: () => boolean; resolve: () => void }[] = [];

  changed(): void {
    this.waiters = this.waiters.filter((w) => {
      if (!w.predicate()) return true;
      w.resolve();
      return false;
    });
  }

  until(predicate: () => boolean): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ predicate, resolve }));
  }
}

/** An in-process broker on a fixed port that can be restarted on the same data directory. */
class RestartableBroker {
  broker!: Broker;
  private listener!: KafkaListener;
  port = 0;

  constructor(private readonly dataDir: string) {}

  async start(): Promise<void> {
    this.broker = await Broker.open({ config: { dataDir: this.dataDir }, groups: { initialRebalanceDelayMs: 0 } });
    this.listener = await KafkaListener.start(this.broker, { host: '127.0.0.1', port: this.port });
    this.port = this.listener.port;
  }

  /** Clients see their connections close (requests already read are answered first), then the broker is gone until it reopens. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async stop(): Promise<void> {
    await this.listener.close();
    await this.broker.close();
  }
}

function values(prefix: string, partitions: number, perPartition: number): { partition: number; value: string }[] {
  return Array.from({ length: partitions * perPartition }, (_, i) => ({ partition: i % partitions, value: `${prefix}-${i}` }));
}

describe('a broker restart under live consumer groups', () => {
  it('keeps an SDK group and a kafkajs group in their generation, with no rebalance, and both keep consuming', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'rill-restart-groups-'));
    const node = new RestartableBroker(dataDir);
    await node.start();
    cleanups.push(async () => {
      await node.stop().catch(() => undefined);
      rmSync(dataDir, { recursive: true, force: true });
    });
    await node.broker.createTopic('sdk-topic', { partitions: 2 });
    await node.broker.createTopic('kafkajs-topic', { partitions: 2 });
    const bootstrap = `127.0.0.1:${node.port}`;
    const seen = new Seen();

    // The SDK group: two members over TCP, every rebalance callback recorded.
    const sdkValues = new Set<string>();
    const sdkRebalances: string[] = [];
    const transport = new TcpTransport({ bootstrapServers: [bootstrap] });
    const sdkMembers = [0, 1].map((i) => {
      const consumer = new Consumer(transport, {
        groupId: 'sdk-group',
        keySerde: stringSerde,
        valueSerde: stringSerde,
        maxWaitMs: 100,
        heartbeatIntervalMs: 200,
        sessionTimeoutMs: 10_000,
        rebalanceTimeoutMs: 10_000,
        autoOffsetReset: 'earliest',
      });
      consumer.subscribe(['sdk-topic'], {
        onPartitionsAssigned: (ps) => void sdkRebalances.push(`${i} assigned ${ps.length}`),
        onPartitionsRevoked: (ps) => void sdkRebalances.push(`${i} revoked ${ps.length}`),
        onPartitionsLost: (ps) => void sdkRebalances.push(`${i} lost ${ps.length}`),
      });
      const done = (async () => {
        for await (const record of consumer) {
          if (record.value !== null) sdkValues.add(record.value);
          seen.changed();
        }
      })();
      return { consumer, done };
    });
    cleanups.push(async () => {
      for (const m of sdkMembers) await m.consumer.close().catch(() => undefined);
      await Promise.allSettled(sdkMembers.map((m) => m.done));
      await transport.close();
    });

    // The kafkajs group: two members, every GROUP_JOIN and REBALANCING event recorded.
    const kafka = new Kafka({ clientId: 'restart-test', brokers: [bootstrap], logLevel: logLevel.NOTHING });
    const kafkajsValues = new Set<string>();
    const kafkajsEvents: string[] = [];
    const kafkajsMembers: KafkajsConsumer[] = [];
    cleanups.push(async () => {
      for (const c of kafkajsMembers) await c.disconnect().catch(() => undefined);
    });
    for (let i = 0; i < 2; i++) {
      const consumer = kafka.consumer({ groupId: 'kafkajs-group', sessionTimeout: 10_000, heartbeatInterval: 300, maxWaitTimeInMs: 100 });
      kafkajsMembers.push(consumer);
      consumer.on(consumer.events.GROUP_JOIN, (e) => {
        kafkajsEvents.push(`${i} joined as ${e.payload.memberId}`);
        seen.changed();
      });
      consumer.on(consumer.events.REBALANCING, () => void kafkajsEvents.push(`${i} rebalancing`));
      await consumer.connect();
      await consumer.subscribe({ topic: 'kafkajs-topic', fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          kafkajsValues.add(message.value!.toString());
          seen.changed();
        },
      });
    }

    const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde, lingerMs: 1 });
    cleanups.push(() => producer.close());
    const produce = async (records: { partition: number; value: string }[]) => {
      await Promise.all(records.flatMap((r) => [producer.send({ topic: 'sdk-topic', ...r }), producer.send({ topic: 'kafkajs-topic', ...r })]));
    };

    // Both groups settle with two members each and consume a first round.
    const settled = (groupId: string) => {
      const g = node.broker.groups.describeGroup(groupId);
      return g.state === 'Stable' && g.members.length === 2;
    };
    const before = values('before', 2, 20);
    await produce(before);
    await seen.until(() => before.every((r) => sdkValues.has(r.value) && kafkajsValues.has(r.value)));
    await seen.until(() => settled('sdk-group') && settled('kafkajs-group'));
    const groupsBefore = ['sdk-group', 'kafkajs-group'].map((id) => node.broker.groups.describeGroup(id));
    const sdkMetadataBefore = sdkMembers.map((m) => m.consumer.groupMetadata());
    const sdkRebalancesBefore = [...sdkRebalances];
    const kafkajsEventsBefore = [...kafkajsEvents];

    await node.restart();
    // Restored as they were: same generation, same members, Stable.
    for (const before of groupsBefore) {
      const after = node.broker.groups.describeGroup(before.groupId);
      expect({ state: after.state, generationId: after.generationId, leaderId: after.leaderId, members: after.members.map((m) => m.memberId).sort() }).toEqual({
        state: 'Stable',
        generationId: before.generationId,
        leaderId: before.leaderId,
        members: before.members.map((m) => m.memberId).sort(),
      });
    }

    // Both keep consuming what is produced after the restart, in the same generation, without rejoining.
    const after = values('after', 2, 20);
    await produce(after);
    await seen.until(() => after.every((r) => sdkValues.has(r.value) && kafkajsValues.has(r.value)));
    for (const before of groupsBefore) {
      const now = node.broker.groups.describeGroup(before.groupId);
      expect([now.state, now.generationId, now.members.map((m) => m.memberId).sort()]).toEqual(['Stable', before.generationId, before.members.map((m) => m.memberId).sort()]);
    }
    expect(sdkMembers.map((m) => m.consumer.groupMetadata())).toEqual(sdkMetadataBefore);
    expect(sdkRebalances).toEqual(sdkRebalancesBefore);
    expect(kafkajsEvents).toEqual(kafkajsEventsBefore);
  });
});
