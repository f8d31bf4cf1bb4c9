import type { ConsumerConfig, EachBatchPayload, KafkaMessage } from 'kafkajs';
import { nextJoin, randomId, type ScenarioContext, Tally } from './kafkajs-suite-clients.ts';

function messages(prefix: string, count: number, partition?: number): { key: string; value: string; partition?: number }[] {
  return Array.from({ length: count }, (_, i) => ({ key: `key-${prefix}-${i}`, value: `${prefix}-${i}`, ...(partition === undefined ? {} : { partition }) }));
}

function expectThat(condition: boolean, what: string): void {
  if (!condition) throw new Error(`expected ${what}`);
}

export interface ChurnScenario {
  name: string;
  partitions: number;
  run(ctx: ScenarioContext): Promise<void>;
}

/** Ports of kafkajs's consumer tests (one fresh topic and group each), plus a group that members join and leave. */
export const churnScenarios: readonly ChurnScenario[] = [
  {
    name: 'eachMessage after the group forms',
    partitions: 1,
    async run(ctx) {
      const cluster = ctx.cluster();
      const consumer = ctx.consumer(cluster);
      const producer = ctx.producer(cluster);
      await consumer.connect();
      await producer.connect();
      await consumer.subscribe({ topic: ctx.topic, fromBeginning: true });
      const consumed: string[] = [];
      const tally = new Tally();
      const joined = nextJoin(consumer);
      void consumer.run({
        eachMessage: async ({ message }) => {
          consumed.push(message.value!.toString());
          tally.add();
        },
      });
      await joined;
      await producer.send({ acks: 1, topic: ctx.topic, messages: messages('m', 100) });
      await tally.reach(100);
      expectThat(consumed.join() === messages('m', 100).map((m) => m.value).join(), 'every message once, in order');
    },
  },
  {
    name: 'eachBatch',
    partitions: 1,
    async run(ctx) {
      const cluster = ctx.cluster();
      const consumer = ctx.consumer(cluster);
      const producer = ctx.producer(cluster);
      await consumer.connect();
      await producer.connect();
      await consumer.subscribe({ topic: ctx.topic, fromBeginning: true });
      const tally = new Tally();
      const joined = nextJoin(consumer);
      void consumer.run({ eachBatch: async ({ batch }: EachBatchPayload) => tally.add(batch.messages.length) });
      await joined;
      await producer.send({ acks: 1, topic: ctx.topic, messages: messages('b', 2) });
      await tally.reach(2);
    },
  },
  {
    name: 'commits the last offsets processed before stopping',
    partitions: 1,
    async run(ctx) {
      const cluster = ctx.cluster();
      const admin = ctx.admin(cluster);
      const consumer = ctx.consumer(cluster);
      const producer = ctx.producer(cluster);
      await Promise.all([admin.connect(), consumer.connect(), producer.connect()]);
      await consumer.subscribe({ topic: ctx.topic, fromBeginning: true });
      const tally = new Tally();
      const joined = nextJoin(consumer);
      void consumer.run({ eachMessage: async () => tally.add() });
      await joined;
      const stopped = new Promise<void>((resolve) => consumer.on(consumer.events.END_BATCH_PROCESS, () => void consumer.stop().then(resolve)));
      await producer.send({ acks: 1, topic: ctx.topic, messages: messages('s', 100) });
      await tally.reach(100);
      await stopped;
      const [committed] = await admin.fetchOffsets({ groupId: ctx.groupId, topics: [ctx.topic] });
      expectThat(committed?.partitions[0]?.offset === '100', `offset 100 committed, got ${JSON.stringify(committed)}`);
    },
  },
  {
    name: 'an idempotent producer’s records reach a newly joined consumer',
    partitions: 1,
    async run(ctx) {
      const cluster = ctx.cluster();
      const producer = ctx.producer(cluster, { transactionalId: `churn-txn-${randomId()}`, idempotent: true, maxInFlightRequests: 1 });
      const consumer = ctx.consumer(cluster);
      await consumer.connect();
      await producer.connect();
      await consumer.subscribe({ topic: ctx.topic, fromBeginning: true });
      const tally = new Tally();
      const joined = nextJoin(consumer);
      void consumer.run({ eachMessage: async () => tally.add() });
      await joined;
      await producer.sendBatch({ topicMessages: [{ topic: ctx.topic, messages: messages('idempotent', 100) }] });
      await tally.reach(100);
    },
  },
  {
    name: 'committed transactions between plain sends',
    partitions: 1,
    async run(ctx) {
      const cluster = ctx.cluster();
      const producer = ctx.producer(cluster, { transactionalId: `churn-txn-${randomId()}`, maxInFlightRequests: 1 });
      const consumer = ctx.consumer(cluster);
      await consumer.connect();
      await producer.connect();
      await consumer.subscribe({ topic: ctx.topic, fromBeginning: true });
      const consumed: string[] = [];
      const tally = new Tally();
      const joined = nextJoin(consumer);
      void consumer.run({
        eachMessage: async ({ message }) => {
          consumed.push(message.value!.toString());
          tally.add();
        },
      });
      await joined;
      await producer.sendBatch({ topicMessages: [{ topic: ctx.topic, messages: messages('plain1', 1) }] });
      for (const prefix of ['txn1', 'txn2']) {
        const txn = await producer.transaction();
        await txn.sendBatch({ topicMessages: [{ topic: ctx.topic, messages: messages(prefix, 50) }] });
        await txn.commit();
      }
      await producer.sendBatch({ topicMessages: [{ topic: ctx.topic, messages: messages('plain2', 1) }] });
      await tally.reach(102);
      expectThat(consumed[0] === 'plain1-0' && consumed[101] === 'plain2-0', 'the plain sends first and last');
    },
  },
  {
    name: 'consume-transform-produce resumes after the offsets its transaction sent',
    partitions: 1,
    async run(ctx) {
      const cluster = ctx.cluster();
      const producer = ctx.producer(cluster, { transactionalId: `churn-txn-${randomId()}`, maxInFlightRequests: 1 });
      const consumer = ctx.consumer(cluster);
      await consumer.connect();
      await producer.connect();
      await consumer.subscribe({ topic: ctx.topic, fromBeginning: true });
      let consumed: KafkaMessage[] = [];
      let uncommitted: ReturnType<EachBatchPayload['uncommittedOffsets']>[] = [];
      let tally = new Tally();
      const eachBatch = async ({ batch, uncommittedOffsets, heartbeat, resolveOffset }: EachBatchPayload) => {
        for (const message of batch.messages) {
          consumed.push(message);
          resolveOffset(message.offset);
          uncommitted.push(uncommittedOffsets());
          tally.add();
        }
        await heartbeat();
      };
      const joined = nextJoin(consumer);
      void consumer.run({ autoCommit: false, eachBatch });
      await joined;
      await producer.send({ acks: 1, topic: ctx.topic, messages: messages('ctp', 100, 0) });
      await tally.reach(100);
      const txn = await producer.transaction();
      await txn.sendOffsets({ consumerGroupId: ctx.groupId, topics: uncommitted[97]!.topics });
      await txn.commit();
      await consumer.stop();
      consumed = [];
      uncommitted = [];
      tally = new Tally();
      void consumer.run({ autoCommit: false, eachBatch });
      await tally.reach(2);
      expectThat(consumed[0]?.value?.toString() === 'ctp-98', `a restart at offset 98, got ${consumed[0]?.value?.toString()}`);
      const last = uncommitted[uncommitted.length - 1]!;
      const txn2 = await producer.transaction();
      await txn2.sendOffsets({ consumerGroupId: ctx.groupId, topics: last.topics });
      await txn2.commit();
    },
  },
  {
    name: 'a member joins mid-consumption and the first one leaves',
    partitions: 3,
    async run(ctx) {
      // Each member on its own connections, heartbeating often so rebalances settle quickly.
      const settings: Partial<ConsumerConfig> = { sessionTimeout: 10_000, heartbeatInterval: 300 };
      const producer = ctx.producer(ctx.cluster());
      const first = ctx.consumer(ctx.cluster(), settings);
      const second = ctx.consumer(ctx.cluster(), settings);
      await producer.connect();
      const seen = new Set<string>();
      const tally = new Tally();
      const record = async ({ message }: { message: KafkaMessage }) => {
        const value = message.value!.toString();
        if (!seen.has(value)) tally.add();
        seen.add(value);
      };
      const all = [0, 1, 2].flatMap((p) => messages(`p${p}`, 50, p));
      await first.connect();
      await first.subscribe({ topic: ctx.topic, fromBeginning: true });
      const firstJoined = nextJoin(first);
      void first.run({ eachMessage: record });
      await firstJoined;
      await producer.send({ acks: -1, topic: ctx.topic, messages: all.slice(0, 75) });
      await tally.reach(25);
      await second.connect();
      await second.subscribe({ topic: ctx.topic, fromBeginning: true });
      const secondJoined = nextJoin(second);
      void second.run({ eachMessage: record });
      const shared = await secondJoined;
      expectThat((shared[ctx.topic] ?? []).length > 0, 'partitions for the second member');
      await producer.send({ acks: -1, topic: ctx.topic, messages: all.slice(75) });
      const takenOver = nextJoin(second);
      await first.disconnect();
      const alone = await takenOver;
      expectThat((alone[ctx.topic] ?? []).length === 3, `every partition for the remaining member, got ${JSON.stringify(alone)}`);
      await tally.reach(all.length);
    },
  },
];
