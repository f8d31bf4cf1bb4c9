import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Admin, Consumer, ConsumerConfig, EachBatchPayload, KafkaMessage, logCreator, LogEntry, Producer, ProducerConfig } from 'kafkajs';
import { logLevel } from 'kafkajs';
import type { Broker } from '../../../broker/broker.ts';
import type { TrackedKafkaListener } from '../../helpers/tracked-kafka-listener.ts';

/*
 * kafkajs's own consumer suite builds its producer, consumer and admin on one Cluster, so they share
 * its connections: group requests, produces and transaction requests on one socket, fetches on the
 * other. The public `Kafka` class gives every client its own, so these are the modules that suite
 * builds its clients from.
 */
const require = createRequire(import.meta.url);
type Cluster = object;
const KafkajsCluster = require('kafkajs/src/cluster') as new (options: object) => Cluster;
const createKafkajsConsumer = require('kafkajs/src/consumer') as (options: object) => Consumer;
const createKafkajsProducer = require('kafkajs/src/producer') as (options: object) => Producer;
const createKafkajsAdmin = require('kafkajs/src/admin') as (options: object) => Admin;
const { createLogger } = require('kafkajs/src/loggers') as { createLogger(options: { level: logLevel; logCreator: logCreator }): object };
const socketFactory = (require('kafkajs/src/network/socketFactory') as () => unknown)();

/** Client log lines kept per scenario run, for the report of a stalled one. */
const LOG_LINES_KEPT = 200;
/** How long a stalled scenario's clients get to disconnect before they are abandoned. */
const DISCONNECT_BOUND_MS = 5_000;

const randomId = (): string => `${randomBytes(6).toString('hex')}-${process.pid}`;

function messages(prefix: string, count: number, partition?: number): { key: string; value: string; partition?: number }[] {
  return Array.from({ length: count }, (_, i) => ({ key: `key-${prefix}-${i}`, value: `${prefix}-${i}`, ...(partition === undefined ? {} : { partition }) }));
}

/** Counts events and resolves each waiter once the count reaches its target. */
class Tally {
  count = 0;
  private waiters: { target: number; resolve: () => void }[] = [];

  add(n = 1): void {
    this.count += n;
    this.waiters = this.waiters.filter((w) => {
      if (this.count < w.target) return true;
      w.resolve();
      return false;
    });
  }

  reach(target: number): Promise<void> {
    if (this.count >= target) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ target, resolve }));
  }
}

/** Resolves on the consumer's next GROUP_JOIN, with its assignment; rejects if it crashes first. */
function nextJoin(consumer: Consumer): Promise<Record<string, number[]>> {
  return new Promise((resolve, reject) => {
    const removeJoin = consumer.on(consumer.events.GROUP_JOIN, (event) => {
      removeJoin();
      removeCrash();
      resolve(event.payload.memberAssignment);
    });
    const removeCrash = consumer.on(consumer.events.CRASH, (event) => {
      removeJoin();
      removeCrash();
      reject(event.payload.error);
    });
  });
}

function expectThat(condition: boolean, what: string): void {
  if (!condition) throw new Error(`expected ${what}`);
}

/** One scenario run's topic, group and clients; every client made here is disconnected afterwards. */
export class ScenarioContext {
  readonly topic = `churn-topic-${randomId()}`;
  readonly groupId = `churn-group-${randomId()}`;
  readonly log: string[] = [];
  private readonly clients: { disconnect(): Promise<void> }[] = [];

  constructor(readonly bootstrap: string) {}

  private logger(): object {
    return createLogger({
      level: logLevel.INFO,
      logCreator: () => (entry: LogEntry) => {
        this.log.push(`${entry.log.timestamp} ${entry.label} [${entry.namespace}] ${entry.log.message} ${JSON.stringify({ ...entry.log, timestamp: undefined, message: undefined, logger: undefined })}`);
        if (this.log.length > LOG_LINES_KEPT) this.log.shift();
      },
    });
  }

  cluster(): Cluster {
    return new KafkajsCluster({ socketFactory, brokers: [this.bootstrap], clientId: `churn-${randomId()}`, connectionTimeout: 3_000, requestTimeout: 30_000, logger: this.logger() });
  }

  /** kafkajs's suite settings: a 100 ms long poll, everything else the client's defaults. */
  consumer(cluster: Cluster, config: Partial<ConsumerConfig> = {}): Consumer {
    const consumer = createKafkajsConsumer({ cluster, groupId: this.groupId, maxWaitTimeInMs: 100, logger: this.logger(), ...config });
    this.clients.push(consumer);
    return consumer;
  }

  producer(cluster: Cluster, config: Partial<ProducerConfig> = {}): Producer {
    const producer = createKafkajsProducer({ cluster, logger: this.logger(), ...config });
    this.clients.push(producer);
    return producer;
  }

  admin(cluster: Cluster): Admin {
    const admin = createKafkajsAdmin({ cluster, logger: this.logger() });
    this.clients.push(admin);
    return admin;
  }

  /** Disconnects every client, in the suite's order (admin, consumers, producers), within a bound. */
  async disconnectAll(): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const bound = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), DISCONNECT_BOUND_MS)));
    const all = (async () => {
      for (const client of this.clients) await client.disconnect().catch(() => undefined);
      return true as const;
    })();
    try {
      return await Promise.race([all, bound]);
    } finally {
      clearTimeout(timer);
    }
  }
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

export interface ScenarioOutcome {
  name: string;
  elapsedMs: number;
  /** Undefined when the scenario finished within the bound and its checks held. */
  failure: string | undefined;
}

export interface ChurnTarget {
  broker: Broker;
  listener: TrackedKafkaListener;
  /** Creates a scenario's fresh topic. */
  createTopic(topic: string, partitions: number): Promise<void>;
}

/**
 * Runs one scenario on a fresh topic and group. A run still going after `stallMs` is a stall: the
 * outcome then says what the broker was still answering (requests in flight, oldest first), what
 * state the group was in, and the clients' last log lines.
 */
export async function runScenario(target: ChurnTarget, scenario: ChurnScenario, stallMs: number): Promise<ScenarioOutcome> {
  const ctx = new ScenarioContext(target.listener.bootstrap);
  const startMs = Date.now();
  try {
    await target.createTopic(ctx.topic, scenario.partitions);
  } catch (error) {
    return { name: scenario.name, elapsedMs: Date.now() - startMs, failure: `creating its topic failed: ${String(error)}\n${describeState(target, ctx)}` };
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stalled = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`stalled: not finished after ${stallMs} ms\n${describeState(target, ctx)}`), stallMs);
  });
  const finished = scenario.run(ctx).then(
    () => undefined,
    (error: unknown) => `failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  const failure = await Promise.race([finished, stalled]);
  clearTimeout(timer);
  const elapsedMs = Date.now() - startMs;
  const disconnected = await ctx.disconnectAll();
  let report = failure ?? (disconnected ? undefined : `clients did not disconnect within ${DISCONNECT_BOUND_MS} ms\n${describeState(target, ctx)}`);
  if (failure !== undefined && !failure.startsWith('stalled')) report += `\n${describeState(target, ctx)}`;
  return { name: scenario.name, elapsedMs, failure: report };
}

/** What the broker and the clients were doing: the group's state, requests not yet answered, errors, the clients' last log lines. */
function describeState(target: ChurnTarget, ctx: ScenarioContext): string {
  let group: string;
  try {
    const g = target.broker.groups.describeGroup(ctx.groupId);
    group = `group ${g.groupId}: ${g.state}, generation ${g.generationId}, leader ${g.leaderId || '-'}, members [${g.members.map((m) => m.memberId).join(', ')}]`;
  } catch (error) {
    group = `group ${ctx.groupId}: ${error instanceof Error ? error.message : String(error)}`;
  }
  return [
    group,
    'requests in flight for 1 s or more:',
    ...target.listener.describeInFlight(1_000).map((line) => `  ${line}`),
    'connections the broker closed on an error:',
    ...target.listener.connectionErrors.slice(-5).map((line) => `  ${line}`),
    'client log:',
    ...ctx.log.slice(-40).map((line) => `  ${line}`),
  ].join('\n');
}

/**
 * `lanes` sequences of runs at once, each going through every scenario `rounds` times in its own
 * rotated order, so different scenarios' joins, leaves, long polls and commits overlap.
 */
export async function runLanes(
  target: ChurnTarget,
  options: { lanes: number; rounds: number; stallMs: number; onOutcome?: (outcome: ScenarioOutcome) => void },
): Promise<ScenarioOutcome[]> {
  const outcomes: ScenarioOutcome[] = [];
  const lane = async (index: number): Promise<void> => {
    for (let round = 0; round < options.rounds; round++) {
      for (let i = 0; i < churnScenarios.length; i++) {
        const outcome = await runScenario(target, churnScenarios[(i + index) % churnScenarios.length]!, options.stallMs);
        outcomes.push(outcome);
        options.onOutcome?.(outcome);
      }
    }
  };
  await Promise.all(Array.from({ length: options.lanes }, (_, i) => lane(i)));
  return outcomes;
}
